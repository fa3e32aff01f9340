/** The region list of a stored session rebuilt at a time, and what changed between two times. */
import type { StoredRegion } from '../db/region-deltas.js';
import { LeakwatchError } from '../errors.js';
import { withReadOnlyDatabase } from './database.js';

export interface RegionAt extends Omit<StoredRegion, 'totalWs' | 'privateWs'> {
  pid: number;
}

/**
 * How a region changed between two times. A mapping that grew or shrank is one change even when its start moved
 * (the kernel merges a grown anonymous mapping with its neighbour): new regions are paired with the old ones they
 * overlap, never listed as an unrelated `added` and `removed`.
 */
export type RegionChangeKind = 'added' | 'removed' | 'grown' | 'shrunk' | 'changed';

export interface RegionChange extends RegionAt {
  change: RegionChangeKind;
  committedDelta: number;
}

const address = (hex: string) => BigInt(`0x${hex}`);
const same = (a: StoredRegion, b: StoredRegion) =>
  a.start === b.start && a.end === b.end && a.type === b.type && a.protection === b.protection && a.committed === b.committed && a.details === b.details;
const withoutUsage = ({ totalWs: _ws, privateWs: _pws, ...region }: StoredRegion) => region;

/**
 * The changes from `before` to `after` of one process (both in address order, as sortedRegions gives them), each new
 * region paired with the old ones it overlaps. One sweep over both lists. Pure.
 */
export function regionChanges(before: readonly StoredRegion[], after: readonly StoredRegion[]): Omit<RegionChange, 'pid'>[] {
  const changes: Omit<RegionChange, 'pid'>[] = [];
  const beforeStart = before.map((r) => address(r.start));
  const beforeEnd = before.map((r) => address(r.end));
  const paired = new Set<number>();
  const removed = (k: number) => {
    if (!paired.has(k)) changes.push({ ...withoutUsage(before[k]), change: 'removed', committedDelta: -before[k].committed });
  };
  let i = 0;
  for (const region of after) {
    const [start, end] = [address(region.start), address(region.end)];
    for (; i < before.length && beforeEnd[i] <= start; i++) removed(i);
    const old: StoredRegion[] = [];
    // An old region reaching past this one's end may overlap the next one too; it is paired once, with this one.
    for (let k = i; k < before.length && beforeStart[k] < end; k++) {
      if (paired.has(k)) continue;
      paired.add(k);
      old.push(before[k]);
    }
    if (old.length === 1 && same(old[0], region)) continue;
    const committedDelta = region.committed - old.reduce((sum, r) => sum + r.committed, 0);
    const change: RegionChangeKind = old.length === 0 ? 'added' : committedDelta > 0 ? 'grown' : committedDelta < 0 ? 'shrunk' : 'changed';
    changes.push({ ...withoutUsage(region), change, committedDelta });
  }
  for (; i < before.length; i++) removed(i);
  return changes;
}

type TimeParser = (text: string, option: string, startedAt: number) => number;

/** The `top` largest regions at a time (default: the last tick). */
export async function regionsAt(file: string, id: number, at: string | undefined, top: number, parseTime: TimeParser): Promise<RegionAt[]> {
  return withTicks(file, id, parseTime, (tick, regionsOf) => {
    const seq = tick(at, '--at');
    return regionsOf(seq)
      .flatMap(({ pid, regions }) => regions.map((r) => ({ pid, ...withoutUsage(r) })))
      .sort((x, y) => y.committed - x.committed)
      .slice(0, top);
  });
}

/** The `top` largest changes between two times. */
export async function regionsDiff(file: string, id: number, from: string, to: string, top: number, parseTime: TimeParser): Promise<RegionChange[]> {
  return withTicks(file, id, parseTime, (tick, regionsOf) => {
    const [a, b] = [tick(from, '--diff'), tick(to, '--diff')];
    const before = new Map(regionsOf(a).map((p) => [p.pid, p.regions]));
    return regionsOf(b)
      .flatMap(({ pid, regions }) => regionChanges(before.get(pid) ?? [], regions).map((c) => ({ pid, ...c })))
      .sort((x, y) => Math.abs(y.committedDelta) - Math.abs(x.committedDelta))
      .slice(0, top);
  });
}

type RegionsOf = (seq: number) => { pid: number; regions: StoredRegion[] }[];

async function withTicks<T>(file: string, id: number, parseTime: TimeParser, use: (tick: (text: string | undefined, option: string) => number, regionsOf: RegionsOf) => T): Promise<T> {
  const [{ loadSession }, { tickAt, processesAt, regionsAt: storedRegionsAt }, { sortedRegions }] = await Promise.all([
    import('../db/read.js'),
    import('../db/regions.js'),
    import('../db/region-deltas.js'),
  ]);
  return withReadOnlyDatabase(file, (db, alive) => {
    const session = loadSession(db, id, file, alive);
    const tick = (text: string | undefined, option: string) => {
      const seq = tickAt(db, id, text === undefined ? Infinity : parseTime(text, option, session.startedAt));
      if (seq === undefined) throw new LeakwatchError(`session ${id} has no samples`);
      return seq;
    };
    const regionsOf: RegionsOf = (seq) => processesAt(db, id, seq).map((p) => ({ pid: p.pid, regions: sortedRegions(storedRegionsAt(db, p.id, seq)) }));
    return use(tick, regionsOf);
  });
}
