/** Reading back what the collector stored. */
import { and, eq, max } from 'drizzle-orm';
import { hostname } from 'node:os';
import { LeakwatchError } from '../errors.js';
import type { TypeTotals } from '../collector/types.js';
import type { Db } from './open.js';
import { SAMPLE_COLUMNS, type SampleColumn, sampleKey, samples, sessions } from './schema.js';
import { MAPPED_TYPES, MEMORY_TYPES, type MemoryType, type Metric } from '../vocabulary.js';

export type SessionRow = typeof sessions.$inferSelect;

/** Whether the collector process (pid and start time) recording a session still runs. */
export type CollectorAlive = (pid: number, startTime: string) => boolean;

type SessionState = Pick<SessionRow, 'endedAt' | 'host' | 'collectorPid' | 'collectorStartTime' | 'startedAt'> & { endReason: string | null };

/**
 * The truth about a session that was never closed: when it was recorded on this host and its collector is gone
 * (kill -9, power loss), it reads as `interrupted`, ending at its last sample. Nothing is written: the next writer
 * stores the same. A session of another host cannot be judged from here and reads as it is stored.
 */
export function judgedState<T extends SessionState>(row: T, lastSampleAt: () => number | null, alive: CollectorAlive): T {
  if (row.endedAt !== null || row.host !== hostname() || alive(row.collectorPid, row.collectorStartTime)) return row;
  return { ...row, endReason: 'interrupted', endedAt: lastSampleAt() ?? row.startedAt };
}

/** When a session's last tick was taken (its newest seq: an index lookup, not a scan), or null without samples. */
export function lastSampleAt(db: Db, sessionId: number): number | null {
  const row = db.$client.prepare('SELECT taken_at AS at FROM samples WHERE session_id = ? ORDER BY seq DESC LIMIT 1').get(sessionId) as { at: number } | undefined;
  return row?.at ?? null;
}

/** A session by id, as it really stands (see judgedState); a usage error naming the database when it does not exist. */
export function loadSession(db: Db, id: number, file: string, alive: CollectorAlive): SessionRow {
  const row = db.select().from(sessions).where(eq(sessions.id, id)).get();
  if (!row) throw new LeakwatchError(`no session ${id} in ${file}`);
  return judgedState(row, () => lastSampleAt(db, id), alive);
}

export interface SessionSeries {
  /** Seconds since the session started, one per tick. */
  t: Float64Array;
  /**
   * Committed bytes per type and tick, summed over the session's processes; with the `ws` metric the working set
   * instead, and only the ticks that read it (smaps).
   */
  committed: Record<MemoryType, Float64Array>;
  /** Working set of all mapped types per tick; NaN on ticks that did not read smaps. */
  totalWs: Float64Array;
}

const snakeColumn = (type: MemoryType, column: SampleColumn) => `"${samples[sampleKey(type, column)].name}"`;
// Page tables are not part of any mapping: the mapped total leaves them out, as the snapshot's Total does.

/** One tick: its elapsed seconds, each column summed over processes, and whether every process read smaps in it. */
export interface TickSums {
  seconds: number;
  values: number[];
  withUsage: boolean;
}

/**
 * The ticks of a session with from ≤ elapsed seconds ≤ to, in order, summed over processes as the rows come from
 * SQLite: only the current tick is held. Summing in JS over rows in tick order is several times faster than
 * SQL's GROUP BY. The statement stays open until the caller has consumed (or returned from) the iterator.
 */
export function* tickSums(db: Db, sessionId: number, columns: string[], from = -Infinity, to = Infinity): Generator<TickSums> {
  const query = db.$client
    .prepare(`SELECT seq, elapsed_ms, with_usage, ${columns.join(', ')} FROM samples WHERE session_id = ? AND elapsed_ms BETWEEN ? AND ? ORDER BY seq`)
    .raw();
  let tick: TickSums | undefined;
  let lastSeq: number | undefined;
  for (const row of query.iterate(sessionId, from * 1000, to * 1000) as Iterable<(number | null)[]>) {
    const [seq, elapsed, withUsage] = row as number[];
    if (seq !== lastSeq) {
      if (tick) yield tick;
      tick = { seconds: elapsed / 1000, values: new Array<number>(columns.length).fill(0), withUsage: true };
      lastSeq = seq;
    }
    tick!.withUsage &&= withUsage === 1;
    for (let i = 0; i < columns.length; i++) tick!.values[i] += row[i + 3] ?? 0;
  }
  if (tick) yield tick;
}

/** The committed-bytes column of each type, for tickSums. */
export const committedColumns = (types: readonly MemoryType[]) => types.map((type) => snakeColumn(type, 'committed'));

/**
 * Per tick: elapsed seconds, every type's committed bytes and the total working set, summed over processes. The
 * whole session is held for the analysis, compactly: 11 doubles (88 bytes) per tick, 53 MB for a week at 1 s.
 */
export function sessionSeries(db: Db, sessionId: number, metric: Metric = 'committed'): SessionSeries {
  const client = db.$client;
  // Free space has no working set; it is 0 either way.
  const judged = MEMORY_TYPES.map((type) => snakeColumn(type, metric === 'ws' && type !== 'free' ? 'totalWs' : 'committed'));
  const columns = [...judged, ...MAPPED_TYPES.map((type) => snakeColumn(type, 'totalWs'))];
  // One read transaction: the tick count and the rows are the same snapshot while a watch is writing.
  return client.transaction(() => {
    const ticks = countTicks(db, sessionId, metric);
    const t = new Float64Array(ticks);
    const totalWs = new Float64Array(ticks);
    const committed = Object.fromEntries(MEMORY_TYPES.map((type) => [type, new Float64Array(ticks)])) as Record<MemoryType, Float64Array>;
    let i = 0;
    for (const tick of tickSums(db, sessionId, columns)) {
      if (metric === 'ws' && !tick.withUsage) continue;
      t[i] = tick.seconds;
      MEMORY_TYPES.forEach((type, c) => (committed[type][i] = tick.values[c]));
      totalWs[i] = tick.withUsage ? tick.values.slice(MEMORY_TYPES.length).reduce((sum, v) => sum + v, 0) : NaN;
      i++;
    }
    return { t, committed, totalWs };
  })();
}

/** The ticks a metric has: every tick for committed memory; for the working set, those where every process read it. */
function countTicks(db: Db, sessionId: number, metric: Metric, beforeSeq = Infinity): number {
  const sql = metric === 'ws'
    ? 'SELECT count(*) AS n FROM (SELECT seq FROM samples WHERE session_id = ? AND seq < ? GROUP BY seq HAVING min(with_usage) = 1)'
    : 'SELECT count(DISTINCT seq) AS n FROM samples WHERE session_id = ? AND seq < ?';
  return (db.$client.prepare(sql).get(sessionId, beforeSeq === Infinity ? Number.MAX_SAFE_INTEGER : beforeSeq) as { n: number }).n;
}

/**
 * Where the watched program restarted: the index, among the metric's ticks, at which each target process (one the
 * user asked to watch, stored without a parent) that was not there at the first tick appeared. From process
 * identity, never from values.
 */
export function restartTicks(db: Db, sessionId: number, metric: Metric = 'committed'): number[] {
  return tickIndexes(db, sessionId, metric, `SELECT first_seq AS seq FROM processes p WHERE p.session_id = ? AND p.parent_pid IS NULL
    AND p.first_seq > (SELECT min(seq) FROM samples WHERE session_id = ?) ORDER BY p.first_seq`);
}

/** Where a target process exec()d another program, as indexes among the metric's ticks (each a new life, like a restart). */
export function execTicks(db: Db, sessionId: number, metric: Metric = 'committed'): number[] {
  return tickIndexes(db, sessionId, metric, `SELECT e.seq FROM process_execs e JOIN processes p ON p.id = e.process_id
    WHERE p.session_id = ? AND p.parent_pid IS NULL AND e.seq > (SELECT min(seq) FROM samples WHERE session_id = ?) ORDER BY e.seq`);
}

/** The distinct tick indexes of the seqs a query (with the session id as both parameters) finds. */
function tickIndexes(db: Db, sessionId: number, metric: Metric, sql: string): number[] {
  const seqs = db.$client.prepare(sql).all(sessionId, sessionId) as { seq: number }[];
  return [...new Set(seqs.map((s) => countTicks(db, sessionId, metric, s.seq)))];
}

/** The per-type table (sums over processes) at a session's last tick: what the latest snapshot looked like. */
export function typeTotalsAtLastTick(db: Db, sessionId: number): Record<MemoryType, TypeTotals> {
  const last = db.select({ seq: max(samples.seq) }).from(samples).where(eq(samples.sessionId, sessionId)).get()?.seq;
  const rows = last === null || last === undefined ? [] : db.select().from(samples).where(and(eq(samples.sessionId, sessionId), eq(samples.seq, last))).all();
  const totals = {} as Record<MemoryType, TypeTotals>;
  for (const type of MEMORY_TYPES) {
    const entry: TypeTotals = { size: 0, committed: 0 };
    for (const column of SAMPLE_COLUMNS) {
      const values = rows.map((r) => r[sampleKey(type, column)]);
      if (values.length > 0 && values.every((v) => v !== null)) entry[column] = values.reduce<number>((sum, v) => sum + v!, 0);
    }
    totals[type] = entry;
  }
  return totals;
}
