/**
 * Maps a VirtualQueryEx walk to VMMap's memory types (rules in ../shared/NOTES.md §3 and the seed's definitions).
 * Pure: the blocks, the files behind image and mapped allocations, and what heap, stack and managed-heap detection
 * found come in as arguments. A type follows the allocation (its AllocationBase and Type), never the current
 * protection: VirtualProtect can make any page of any allocation look like anything.
 */
import type { Method, Region, RegionUsage } from '../types.js';
import { indexContaining, type FreeSpace } from '../summary.js';
import {
  MEM_COMMIT,
  MEM_FREE,
  MEM_IMAGE,
  MEM_MAPPED,
  MEM_PRIVATE,
  MEM_RESERVE,
  decodePageAttributes,
  type MemoryBlock,
  type ThreadStack,
} from './structs.js';

/** What a detector found an allocation to be: only MEM_PRIVATE allocations can be claimed. */
export interface Claim {
  type: 'heap' | 'stack' | 'managedHeap';
  details: string;
  method: Method;
}

/** An allocation: every block with the same AllocationBase, [base, end). */
export interface Allocation {
  base: number;
  end: number;
  type: number;
  /** Whether its first page is committed (a header can be read there). */
  firstCommitted: boolean;
  /** Its committed bytes. */
  committed: number;
}

/** The allocations of a walk, in address order. Blocks of one allocation are contiguous. O(n). */
export function allocationsOf(blocks: MemoryBlock[]): Allocation[] {
  const result: Allocation[] = [];
  for (const b of blocks) {
    if (b.state === MEM_FREE) continue;
    const last = result[result.length - 1];
    const committed = b.state === MEM_COMMIT ? b.size : 0;
    if (last && last.base === b.allocationBase && last.end === b.base) {
      last.end = b.base + b.size;
      last.committed += committed;
    } else {
      result.push({ base: b.allocationBase, end: b.base + b.size, type: b.type, firstCommitted: b.base === b.allocationBase && b.state === MEM_COMMIT, committed });
    }
  }
  return result;
}

export interface ClassifyInput {
  blocks: MemoryBlock[];
  /**
   * The file behind image and mapped allocations, by allocation base, as a drive path; a mapped allocation that is
   * not here has no file (a pagefile-backed section).
   */
  files: ReadonlyMap<number, string>;
  /** Heaps, stacks and managed heaps, by the base of the MEM_PRIVATE allocation they are. */
  claims: ReadonlyMap<number, Claim>;
  /** Each block's working-set numbers, or undefined when they were not read. */
  usage?: (block: MemoryBlock, index: number) => RegionUsage | undefined;
}

const hexAddress = (address: number) => address.toString(16).padStart(8, '0');

/**
 * One region per block that is not free: Image (MEM_IMAGE, the module's path), Mapped File (MEM_MAPPED with a
 * file), Shareable (MEM_MAPPED without: pagefile-backed sections), and for MEM_PRIVATE what a detector claimed
 * (Heap, Stack, Managed Heap), else Private. Reserved blocks have committed 0.
 */
export function classifyBlocks({ blocks, files, claims, usage }: ClassifyInput): Region[] {
  const regions: Region[] = [];
  blocks.forEach((b, index) => {
    if (b.state === MEM_FREE) return;
    const { type, details, method } = classifyBlock(b, files, claims);
    const region: Region = {
      start: hexAddress(b.base),
      end: hexAddress(b.base + b.size),
      type,
      protection: formatProtection(b.state, b.protect),
      size: b.size,
      committed: b.state === MEM_COMMIT ? b.size : 0,
      details,
      method,
    };
    const used = usage?.(b, index);
    regions.push(used ? Object.assign(region, used) : region);
  });
  return regions;
}

function classifyBlock(b: MemoryBlock, files: ReadonlyMap<number, string>, claims: ReadonlyMap<number, Claim>): Pick<Region, 'type' | 'details' | 'method'> {
  const file = files.get(b.allocationBase);
  if (b.type === MEM_IMAGE) return { type: 'image', details: file ?? '', method: 'exact' };
  if (b.type === MEM_MAPPED) {
    return file === undefined
      ? { type: 'shareable', details: 'pagefile-backed section', method: 'exact' }
      : { type: 'mappedFile', details: file, method: 'exact' };
  }
  const claim = b.type === MEM_PRIVATE ? claims.get(b.allocationBase) : undefined;
  return claim ?? { type: 'private', details: '', method: 'exact' };
}

const PROTECTIONS: Record<number, string> = {
  0x01: '---', // PAGE_NOACCESS
  0x02: 'r--', // PAGE_READONLY
  0x04: 'rw-', // PAGE_READWRITE
  0x08: 'rc-', // PAGE_WRITECOPY: c for copy-on-write
  0x10: '--x', // PAGE_EXECUTE
  0x20: 'r-x', // PAGE_EXECUTE_READ
  0x40: 'rwx', // PAGE_EXECUTE_READWRITE
  0x80: 'rcx', // PAGE_EXECUTE_WRITECOPY
};

/**
 * A block's protection in the style of /proc/PID/maps: `r--`, `rw-`, `r-x`, `rc-` (copy-on-write), with `+guard`,
 * `+nocache` or `+wcombine` when those modifiers are set; `reserved` for reserved pages (they have none).
 * @example formatProtection(0x1000, 0x104) // 'rw-+guard'
 */
export function formatProtection(state: number, protect: number): string {
  if (state === MEM_RESERVE) return 'reserved';
  const base = PROTECTIONS[protect & 0xff] ?? `0x${protect.toString(16)}`;
  const modifiers = [[0x100, '+guard'], [0x200, '+nocache'], [0x400, '+wcombine']] as const;
  return base + modifiers.filter(([bit]) => protect & bit).map(([, name]) => name).join('');
}

/**
 * Free address space, and the part of it VMMap calls Unusable: a free block that does not start on an allocation
 * granularity boundary (64 KiB) begins with space no allocation can use, up to that boundary (or the block's end).
 * Only [low, high) counts: below the lowest and above the highest application address nothing can be allocated.
 * @example freeSpace([{base: 0x10000, size: 0x1000, state: MEM_COMMIT, …}, {base: 0x11000, size: 0xf000, state: MEM_FREE, …}], 0x10000, 0x20000, 0x10000)
 *   // {free: {size: 0xf000, blocks: 1, largest: 0xf000}, unusable: {size: 0xf000, blocks: 1}}
 */
export function freeSpace(blocks: MemoryBlock[], low: number, high: number, granularity: number): { free: FreeSpace; unusable: { size: number; blocks: number } } {
  const free: FreeSpace = { size: 0, blocks: 0, largest: 0 };
  const unusable = { size: 0, blocks: 0 };
  for (const b of blocks) {
    if (b.state !== MEM_FREE) continue;
    const start = Math.max(b.base, low);
    const end = Math.min(b.base + b.size, high);
    if (end <= start) continue;
    free.size += end - start;
    free.blocks += 1;
    free.largest = Math.max(free.largest, end - start);
    const lost = Math.min(end, Math.ceil(start / granularity) * granularity) - start;
    if (lost > 0) {
      unusable.size += lost;
      unusable.blocks += 1;
    }
  }
  return { free, unusable };
}

/** The page addresses QueryWorkingSetEx is asked about: every committed page, block by block. */
export function* committedPages(blocks: MemoryBlock[], pageSize: number): Generator<number> {
  for (const b of blocks) {
    if (b.state !== MEM_COMMIT) continue;
    for (let at = b.base; at < b.base + b.size; at += pageSize) yield at;
  }
}

/**
 * The working-set numbers of every committed block from QueryWorkingSetEx's attributes of its pages (the low 32
 * bits, in the order committedPages gave the pages). Total WS: pages in the working set (Valid); Shareable WS: those
 * of them that are shareable (Shared); Shared WS: those that another process maps too (ShareCount above 1); Private
 * WS: the rest; Locked WS: Locked ones. Private: a MEM_PRIVATE block's committed bytes (all of it is private and
 * charged); of an image or a mapped view, its private (copy-on-write) pages in the working set: a private page
 * paged out to the pagefile is not seen there. Reserved blocks get zeros.
 */
export function usageFromPages(blocks: MemoryBlock[], attributes: Uint32Array, pageSize: number): RegionUsage[] {
  let page = 0;
  return blocks.map((b) => {
    const usage: RegionUsage = { private: 0, totalWs: 0, privateWs: 0, shareableWs: 0, sharedWs: 0, lockedWs: 0 };
    if (b.state !== MEM_COMMIT) return usage;
    for (let at = b.base; at < b.base + b.size; at += pageSize, page++) {
      const a = decodePageAttributes(attributes[page]);
      if (!a.valid) continue;
      usage.totalWs += pageSize;
      if (a.shared) usage.shareableWs += pageSize;
      else usage.privateWs += pageSize;
      if (a.shared && a.shareCount > 1) usage.sharedWs += pageSize;
      if (a.locked) usage.lockedWs += pageSize;
    }
    usage.private = b.type === MEM_PRIVATE ? b.size : usage.privateWs;
    return usage;
  });
}

/**
 * Thread stacks: the MEM_PRIVATE allocation that begins at the thread's DeallocationStack (its whole reservation:
 * the reserved part, the guard page, the committed part), or when that is not set, the one that holds its
 * StackLimit. Each thread's id goes into the details.
 */
export function stackClaims(threads: ThreadStack[], allocations: Allocation[]): Map<number, Claim> {
  const claims = new Map<number, Claim>();
  const privateAt = new Map(allocations.filter((a) => a.type === MEM_PRIVATE).map((a) => [a.base, a]));
  for (const t of threads) {
    const allocation = privateAt.get(t.deallocationStack) ?? allocationContaining(allocations, t.stackLimit);
    if (!allocation || allocation.type !== MEM_PRIVATE || t.stackBase > allocation.end || t.stackBase <= allocation.base) continue;
    claims.set(allocation.base, { type: 'stack', details: `[thread ${t.tid} stack]`, method: 'exact' });
  }
  return claims;
}

/** The allocation that holds `address`, by binary search over allocations in address order. */
export function allocationContaining(allocations: Allocation[], address: number): Allocation | undefined {
  const i = indexContaining(allocations, address, (a) => a.base, (a) => a.end);
  return i < 0 ? undefined : allocations[i];
}
