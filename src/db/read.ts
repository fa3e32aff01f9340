/** Reading back what the collector stored. */
import { and, asc, desc, eq, gt, lte, max, min, sum } from 'drizzle-orm';
import { MEMORY_TYPES, type MemoryType } from '../collector/types.js';
import type { Db } from './open.js';
import { applyDeltas, regionMap, type RegionDelta, type StoredRegion } from './region-deltas.js';
import { regions, sampleKey, samples } from './schema.js';

const REGION_FIELDS = {
  kind: regions.kind,
  start: regions.start,
  end: regions.end,
  type: regions.type,
  protection: regions.protection,
  size: regions.size,
  committed: regions.committed,
  details: regions.details,
  totalWs: regions.totalWs,
  privateWs: regions.privateWs,
};

type RegionRow = Omit<StoredRegion, 'type' | 'totalWs' | 'privateWs'> & {
  kind: 'full' | RegionDelta['kind'];
  type: string;
  totalWs: number | null;
  privateWs: number | null;
};

const toStored = ({ kind: _kind, totalWs, privateWs, ...r }: RegionRow): StoredRegion => ({
  ...r,
  type: r.type as StoredRegion['type'],
  ...(totalWs !== null && { totalWs }),
  ...(privateWs !== null && { privateWs }),
});

/**
 * The region set of one process at tick `seq`: the latest full list at or before `seq` (or at or before
 * `fromFullAtOrBefore`, to rebuild across more deltas), then every delta after it up to `seq`.
 */
export function regionsAt(db: Db, processId: number, seq: number, fromFullAtOrBefore = seq): Map<string, StoredRegion> {
  const base = db
    .select({ seq: samples.seq, sampleId: samples.id })
    .from(regions)
    .innerJoin(samples, eq(regions.sampleId, samples.id))
    .where(and(eq(samples.processId, processId), eq(regions.kind, 'full'), lte(samples.seq, Math.min(seq, fromFullAtOrBefore))))
    .orderBy(desc(samples.seq))
    .limit(1)
    .get();
  if (!base) return new Map();
  const full = db.select(REGION_FIELDS).from(regions).where(and(eq(regions.sampleId, base.sampleId), eq(regions.kind, 'full'))).all();
  const result = regionMap(full.map(toStored));
  const deltas = db
    .select(REGION_FIELDS)
    .from(regions)
    .innerJoin(samples, eq(regions.sampleId, samples.id))
    .where(and(eq(samples.processId, processId), gt(samples.seq, base.seq), lte(samples.seq, seq)))
    .orderBy(asc(samples.seq), asc(regions.id))
    .all()
    .filter((r) => r.kind !== 'full');
  return applyDeltas(result, deltas.map((r) => ({ ...toStored(r), kind: r.kind as RegionDelta['kind'] })));
}

export interface TypeChange {
  type: MemoryType;
  first: number;
  last: number;
}

/**
 * Committed bytes per type at two ticks of a session, summed over its processes: the last tick and the one
 * `skipFraction` of the way in (0 = the first; a start-up phase is not a leak).
 */
export function committedChange(db: Db, sessionId: number, skipFraction = 0): { ticks: number; elapsedMs: number; changes: TypeChange[] } {
  const range = db
    .select({ first: min(samples.seq), last: max(samples.seq) })
    .from(samples)
    .where(eq(samples.sessionId, sessionId))
    .get();
  if (range?.first == null || range.last == null) return { ticks: 0, elapsedMs: 0, changes: [] };
  const from = range.first + Math.floor((range.last - range.first) * skipFraction);
  const elapsedAt = (seq: number) =>
    db.select({ ms: max(samples.elapsedMs) }).from(samples).where(and(eq(samples.sessionId, sessionId), eq(samples.seq, seq))).get()?.ms ?? 0;
  const bounds = { first: from, last: range.last, elapsed: elapsedAt(range.last) - elapsedAt(from) };
  const totalsAt = (seq: number) =>
    db
      .select(Object.fromEntries(MEMORY_TYPES.map((t) => [t, sum(samples[sampleKey(t, 'committed')]).mapWith(Number)])))
      .from(samples)
      .where(and(eq(samples.sessionId, sessionId), eq(samples.seq, seq)))
      .get() as Record<MemoryType, number>;
  const first = totalsAt(bounds.first);
  const last = totalsAt(bounds.last);
  return {
    ticks: bounds.last - bounds.first + 1,
    elapsedMs: bounds.elapsed ?? 0,
    changes: MEMORY_TYPES.map((type) => ({ type, first: first[type] ?? 0, last: last[type] ?? 0 })),
  };
}
