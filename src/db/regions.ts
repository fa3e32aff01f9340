/** The region lists of a session: rebuilt at a tick from the stored full lists and deltas, and their growth. */
import { and, asc, desc, eq, gt, lte } from 'drizzle-orm';
import type { Db } from './open.js';
import { applyDeltas, hexAddress, type RegionDelta, regionMap, type StoredRegion } from './region-deltas.js';
import { regions, samples } from './schema.js';
import type { MemoryType } from '../vocabulary.js';

/** Committed growth of one kind of region (a type and a region label) between two ticks. */
export interface RegionGrowth {
  /** File path or region label (`glibc arena`, `[heap]`, `V8 heap`, `[thread stack]`). */
  details: string;
  type: MemoryType;
  growthBytes: number;
  /** Regions of this kind at the start and at the end. */
  regionsBefore: number;
  regionsAfter: number;
}

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

type RegionRow = Omit<StoredRegion, 'start' | 'end' | 'type' | 'totalWs' | 'privateWs'> & {
  kind: 'full' | RegionDelta['kind'];
  start: number | string;
  end: number | string;
  type: string;
  totalWs: number | null;
  privateWs: number | null;
};

const toStored = ({ kind: _kind, totalWs, privateWs, start, end, ...r }: RegionRow): StoredRegion => ({
  start: hexAddress(start),
  end: hexAddress(end),
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

/** The tick of a session at or before `seconds` after its start (the first tick when earlier than all). */
export function tickAt(db: Db, sessionId: number, seconds: number): number | undefined {
  const row = db.$client
    .prepare('SELECT coalesce(max(CASE WHEN elapsed_ms <= ? THEN seq END), min(seq)) AS seq FROM samples WHERE session_id = ?')
    .get(seconds * 1000, sessionId) as { seq: number | null };
  return row.seq ?? undefined;
}

/** The session's processes that have a sample at tick `seq`. */
export function processesAt(db: Db, sessionId: number, seq: number): { id: number; pid: number }[] {
  return db.$client
    .prepare('SELECT p.id, p.pid FROM processes p JOIN samples s ON s.process_id = p.id WHERE s.session_id = ? AND s.seq = ? ORDER BY p.id')
    .all(sessionId, seq) as { id: number; pid: number }[];
}

/** Region details that name a kind of region rather than one instance (thread ids differ per thread). */
export function regionLabel(details: string): string {
  if (details === '') return 'anonymous';
  return details.replace(/\[thread \d+ stack\]/, '[thread stack]').replace(/^\[stack\] thread \d+$/, '[stack]');
}

/**
 * Committed growth per (type, region label) from the first tick at or after `fromSeconds` to the last tick, over
 * all processes of the session, rebuilt from the stored region lists and deltas.
 */
export function regionGrowth(db: Db, sessionId: number, fromSeconds: number): RegionGrowth[] {
  // Per process its first tick from `fromSeconds` on and its last tick, each found along its (process, seq) index:
  // a scan of the session's rows would read every sample of a week-long session.
  const client = db.$client;
  const firstFrom = client.prepare('SELECT seq FROM samples WHERE process_id = ? AND elapsed_ms >= ? ORDER BY seq LIMIT 1').pluck();
  const lastOf = client.prepare('SELECT max(seq) FROM samples WHERE process_id = ?').pluck();
  const ids = client.prepare('SELECT id FROM processes WHERE session_id = ? ORDER BY id').pluck().all(sessionId) as number[];
  const perProcess = ids.map((processId) => ({
    processId,
    first: (firstFrom.get(processId, fromSeconds * 1000) as number | undefined) ?? null,
    last: lastOf.get(processId) as number | null,
  }));
  const groups = new Map<string, RegionGrowth>();
  const add = (regionsOfTick: Map<string, StoredRegion>, sign: 1 | -1) => {
    for (const r of regionsOfTick.values()) {
      const details = regionLabel(r.details);
      const key = `${r.type}\0${details}`;
      const group = groups.get(key) ?? { type: r.type, details, growthBytes: 0, regionsBefore: 0, regionsAfter: 0 };
      group.growthBytes += sign * r.committed;
      if (sign < 0) group.regionsBefore++;
      else group.regionsAfter++;
      groups.set(key, group);
    }
  };
  for (const p of perProcess) {
    if (p.first === null || p.last === null) continue;
    add(regionsAt(db, p.processId, p.first), -1);
    add(regionsAt(db, p.processId, p.last), 1);
  }
  return [...groups.values()].sort((a, b) => b.growthBytes - a.growthBytes);
}
