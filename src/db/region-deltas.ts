/**
 * Regions are stored as a full list now and then, and as differences between consecutive samples of a process
 * every tick. These pure functions compute the differences and apply them back, so any tick's region set (address
 * ranges, types, protections, sizes, committed, details) is rebuilt exactly. Working-set numbers travel along but
 * a change in them alone is not a difference: they move every tick and would make every region a delta.
 */
import type { Region } from '../collector/types.js';

export type StoredRegion = Pick<Region, 'start' | 'end' | 'type' | 'protection' | 'size' | 'committed' | 'details' | 'totalWs' | 'privateWs'>;
export type RegionChange = 'added' | 'removed' | 'changed';
export interface RegionDelta extends StoredRegion {
  kind: RegionChange;
}

/** True when two regions with the same start are the same for the region set (working-set numbers aside). */
export function sameRegion(a: StoredRegion, b: StoredRegion): boolean {
  return a.end === b.end && a.type === b.type && a.protection === b.protection && a.size === b.size &&
    a.committed === b.committed && a.details === b.details;
}

/**
 * What changed from `previous` to `next`, keyed by start address. `removed` rows carry the old values. A region
 * that is the very object `previous` holds (a collector hands out unchanged regions again) is the same at a glance.
 */
export function diffRegions(previous: ReadonlyMap<string, StoredRegion>, next: readonly StoredRegion[]): RegionDelta[] {
  const deltas: RegionDelta[] = [];
  const seen = new Set<string>();
  for (const region of next) {
    seen.add(region.start);
    const before = previous.get(region.start);
    if (!before) deltas.push({ ...region, kind: 'added' });
    else if (before !== region && !sameRegion(before, region)) deltas.push({ ...region, kind: 'changed' });
  }
  for (const [start, region] of previous) if (!seen.has(start)) deltas.push({ ...region, kind: 'removed' });
  return deltas;
}

/** Applies deltas to a region set in place (a Map keyed by start address) and returns it. */
export function applyDeltas(regions: Map<string, StoredRegion>, deltas: Iterable<RegionDelta>): Map<string, StoredRegion> {
  for (const { kind, ...region } of deltas) {
    if (kind === 'removed') regions.delete(region.start);
    else regions.set(region.start, region);
  }
  return regions;
}

/**
 * An address (hex digits, as the collectors write it) as the regions table stores it: an integer where a JS number
 * holds it exactly (all of user space on Linux and x64 Windows), else the text `0x` and its digits.
 */
export function storedAddress(hex: string): number | string {
  const value = Number.parseInt(hex, 16);
  return Number.isSafeInteger(value) ? value : `0x${hex.toLowerCase()}`;
}

/** A stored address back as the collectors write it: lowercase hex, at least 8 digits (Linux maps' `%08lx`). */
export const hexAddress = (stored: number | string): string =>
  typeof stored === 'number' ? stored.toString(16).padStart(8, '0') : stored.replace(/^0x/, '');

/** A region set keyed by start address. */
export const regionMap = (regions: Iterable<StoredRegion>) => new Map([...regions].map((r) => [r.start, r]));

/** The region set in address order, for comparing and printing. */
export function sortedRegions(regions: ReadonlyMap<string, StoredRegion>): StoredRegion[] {
  return [...regions.values()].sort((a, b) => (BigInt(`0x${a.start}`) < BigInt(`0x${b.start}`) ? -1 : 1));
}
