/** Reading back what the collector stored. */
import { and, asc, eq, lte, gt, desc } from 'drizzle-orm';
import type { Db } from './open.js';
import { applyDeltas, regionMap, type RegionDelta, type StoredRegion } from './region-deltas.js';
import { regions, samples } from './schema.js';

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
