/** Platform-independent roll-up of classified regions into VMMap's per-type table. */
import type { Region, TypeTotals } from './types.js';
import { MEMORY_TYPES, type MemoryType } from '../vocabulary.js';

export interface FreeSpace {
  size: number;
  blocks: number;
  largest: number;
}

/**
 * Free address space: the gaps between the sorted ranges inside [low, high). O(n).
 * @example freeGaps([{start: 0x2000, end: 0x3000}], 0x1000, 0x5000) // {size: 0x3000, blocks: 2, largest: 0x2000}
 */
export function freeGaps(ranges: { start: number; end: number }[], low: number, high: number): FreeSpace {
  let size = 0;
  let blocks = 0;
  let largest = 0;
  let cursor = low;
  const addGap = (gap: number) => {
    if (gap <= 0) return;
    size += gap;
    blocks += 1;
    largest = Math.max(largest, gap);
  };
  for (const r of ranges) {
    if (r.start >= high) break;
    addGap(r.start - cursor);
    cursor = Math.max(cursor, r.end);
  }
  addGap(high - cursor);
  return { size, blocks, largest };
}

/**
 * The index of the range that holds `address` in sorted, non-overlapping ranges [start, end), or -1. O(log n).
 * @example indexContaining([{start: 0x1000, end: 0x2000}], 0x1800, (r) => r.start, (r) => r.end) // 0
 */
export function indexContaining<T>(sorted: readonly T[], address: number, start: (range: T) => number, end: (range: T) => number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (address < start(sorted[mid])) hi = mid - 1;
    else if (address >= end(sorted[mid])) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/**
 * Sums one group of regions. Working-set columns appear only when every region has them; an empty group has them
 * (as 0) only when the snapshot read working sets at all (`usageRead`), so a 0 is never shown for a column not read.
 * One pass with a variable per column: this runs on every region of every tick.
 */
function sumRegions(regions: Region[], usageRead: boolean): TypeTotals {
  let size = 0, committed = 0, largest = 0;
  let privateBytes = 0, totalWs = 0, privateWs = 0, shareableWs = 0, sharedWs = 0, lockedWs = 0;
  let everyWithUsage = true;
  for (const r of regions) {
    size += r.size;
    committed += r.committed;
    largest = Math.max(largest, r.size);
    if (r.totalWs === undefined) {
      everyWithUsage = false;
      continue;
    }
    privateBytes += r.private!;
    totalWs += r.totalWs;
    privateWs += r.privateWs!;
    shareableWs += r.shareableWs!;
    sharedWs += r.sharedWs!;
    lockedWs += r.lockedWs!;
  }
  const totals: TypeTotals = { size, committed, blocks: regions.length, largest };
  const withUsage = regions.length === 0 ? usageRead : everyWithUsage;
  return withUsage ? Object.assign(totals, { private: privateBytes, totalWs, privateWs, shareableWs, sharedWs, lockedWs }) : totals;
}

export interface Summary {
  types: Record<MemoryType, TypeTotals>;
  total: TypeTotals;
}

/**
 * Per-type totals. Page tables are resident, private kernel memory, never shared; they are not part of any mapping,
 * so the Total row (which matches the kernel's sums over the mappings) leaves them out, as it does Free.
 */
export function summarize(regions: Region[], pageTableBytes: number | undefined, free: FreeSpace): Summary {
  const byType = new Map<MemoryType, Region[]>(MEMORY_TYPES.map((t) => [t, []]));
  for (const r of regions) byType.get(r.type)!.push(r);
  const hasUsage = regions.length > 0 && regions.every((r) => r.totalWs !== undefined);
  const types = Object.fromEntries(MEMORY_TYPES.map((t) => [t, sumRegions(byType.get(t)!, hasUsage)])) as Record<MemoryType, TypeTotals>;
  types.pageTable =
    pageTableBytes === undefined
      ? { size: 0, committed: 0 }
      : {
          size: pageTableBytes,
          committed: pageTableBytes,
          ...(hasUsage && {
            private: pageTableBytes,
            totalWs: pageTableBytes,
            privateWs: pageTableBytes,
            shareableWs: 0,
            sharedWs: 0,
          }),
        };
  types.free = { size: free.size, committed: 0, blocks: free.blocks, largest: free.largest };
  return { types, total: sumRegions(regions, hasUsage) };
}
