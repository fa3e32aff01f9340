/** Reading back what the collector stored. */
import { and, desc, eq, max } from 'drizzle-orm';
import { hostname } from 'node:os';
import { LeakwatchError } from '../errors.js';
import type { TypeTotals } from '../collector/types.js';
import type { Db } from './open.js';
import { processes, SAMPLE_COLUMNS, type SampleColumn, sampleKey, samples, sessions } from './schema.js';
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
  /** Working set of all mapped types per tick, NaN on ticks that did not read smaps; read only when asked for. */
  totalWs?: Float64Array;
}

const snakeColumn = (type: MemoryType, column: SampleColumn) => `"${samples[sampleKey(type, column)].name}"`;
// Page tables are not part of any mapping: the mapped total leaves them out, as the snapshot's Total does.

/** One tick: its elapsed seconds, each column summed over processes, and whether every process read smaps in it. */
export interface TickSums {
  seconds: number;
  values: number[];
  withUsage: boolean;
}

// Ticks read per statement. better-sqlite3 hands over a chunk of rows from `all()` at less than half the cost per
// row of `iterate()`; a chunk this size keeps what is held small (a few hundred KiB) whatever the session's length.
const CHUNK_TICKS = 4096;

/**
 * The sample rows of a session's ticks with fromMs ≤ elapsed_ms ≤ toMs: `seq, elapsed_ms, with_usage`, then
 * `columns`, in tick order, a range of ticks at a time. Ticks written after the read began are not read (each tick
 * is written in one transaction, so every tick read is whole).
 */
function* sampleRows(db: Db, sessionId: number, columns: readonly string[], fromMs: number, toMs: number): Generator<(number | null)[][]> {
  const client = db.$client;
  // The first and last tick of the range: chunks before and after it are never asked for.
  const bounds = client.prepare('SELECT min(seq) AS low, max(seq) AS high FROM samples WHERE session_id = ? AND elapsed_ms BETWEEN ? AND ?')
    .get(sessionId, fromMs, toMs) as { low: number | null; high: number | null };
  if (bounds.low === null || bounds.high === null) return;
  const chunk = client
    .prepare(`SELECT seq, elapsed_ms, with_usage, ${columns.join(', ')} FROM samples
      WHERE session_id = ? AND seq >= ? AND seq < ? AND elapsed_ms BETWEEN ? AND ? ORDER BY seq`)
    .raw();
  for (let low = bounds.low; low <= bounds.high; low += CHUNK_TICKS) {
    yield chunk.all(sessionId, low, Math.min(low + CHUNK_TICKS, bounds.high + 1), fromMs, toMs) as (number | null)[][];
  }
}

/**
 * The ticks of a session with from ≤ elapsed seconds ≤ to, in order, summed over processes, read a chunk of ticks
 * at a time: a week-long session is never held. Summing in JS over rows in tick order is several times faster
 * than SQL's GROUP BY. No statement stays open between the ticks it yields.
 */
export function* tickSums(db: Db, sessionId: number, columns: string[], from = -Infinity, to = Infinity): Generator<TickSums> {
  let tick: TickSums | undefined;
  let lastSeq: number | undefined;
  for (const rows of sampleRows(db, sessionId, columns, from * 1000, to * 1000)) {
    for (const row of rows) {
      const [seq, elapsed, withUsage] = row as number[];
      if (seq !== lastSeq) {
        if (tick) yield tick;
        tick = { seconds: elapsed / 1000, values: new Array<number>(columns.length).fill(0), withUsage: true };
        lastSeq = seq;
      }
      tick!.withUsage &&= withUsage === 1;
      for (let i = 0; i < columns.length; i++) tick!.values[i] += row[i + 3] ?? 0;
    }
  }
  if (tick) yield tick;
}

/**
 * One row per `every` seconds of the ticks with from ≤ elapsed seconds ≤ to (buckets aligned on the session start,
 * empty ones dropped; a row's time is its bucket's start), each column summed over processes per tick and then
 * reduced per bucket by `aggregate` (`avg` rounded to whole bytes): `resample` over tickSums, done by SQLite, so
 * only the buckets cross into JS. The same rows as `resample(tickSums(…), every, aggregate)`.
 */
export function* bucketSums(db: Db, sessionId: number, columns: string[], every: number, aggregate: 'max' | 'avg' | 'last', from = -Infinity, to = Infinity): Generator<TickSums> {
  const names = columns.map((_, i) => `v${i}`);
  // `last`: SQLite takes the bare columns of a max() aggregate from the row holding the maximum, here the bucket's last tick.
  const reduced = aggregate === 'last' ? ['max(seq)', ...names] : names.map((n) => `${aggregate === 'max' ? 'max' : 'total'}(${n})`);
  const client = db.$client;
  // A session of one process has one row per tick: the ticks need no summing first (which costs SQLite more than the buckets).
  const oneProcess = (client.prepare('SELECT count(*) AS n FROM processes WHERE session_id = ?').get(sessionId) as { n: number }).n <= 1;
  const ticks = oneProcess
    ? `SELECT seq, floor(elapsed_ms / 1000.0 / ?) AS bucket, with_usage, ${columns.map((c, i) => `coalesce(${c}, 0) AS ${names[i]}`).join(', ')}
        FROM samples WHERE session_id = ? AND elapsed_ms BETWEEN ? AND ?`
    : `SELECT seq, floor(min(elapsed_ms) / 1000.0 / ?) AS bucket, min(with_usage) AS with_usage, ${columns.map((c, i) => `total(${c}) AS ${names[i]}`).join(', ')}
        FROM samples WHERE session_id = ? AND elapsed_ms BETWEEN ? AND ? GROUP BY seq`;
  const query = client.prepare(`SELECT bucket, count(*), min(with_usage), ${reduced.join(', ')} FROM (${ticks}) GROUP BY bucket ORDER BY bucket`).raw();
  const first = aggregate === 'last' ? 4 : 3;
  for (const row of query.all(every, sessionId, from * 1000, to * 1000) as number[][]) {
    const [bucket, count, withUsage] = row;
    const values = row.slice(first).map((v) => Math.round(aggregate === 'avg' ? v / count : v));
    yield { seconds: bucket * every, values, withUsage: withUsage === 1 };
  }
}

/** The committed-bytes column of each type, for tickSums. */
export const committedColumns = (types: readonly MemoryType[]) => types.map((type) => snakeColumn(type, 'committed'));

/**
 * Per tick: elapsed seconds, every type's committed bytes and (with `withTotalWs`) the total working set, summed
 * over processes. The whole session is held for the analysis, compactly: 11 doubles (88 bytes) per tick, 53 MB for
 * a week at 1 s. The rows go straight into those arrays; the working set of all mapped types is added up by SQLite,
 * a column that costs a long session's read a tenth of its time, so only the report's chart asks for it.
 */
export function sessionSeries(db: Db, sessionId: number, metric: Metric = 'committed', withTotalWs = false): SessionSeries {
  const client = db.$client;
  // Free space has no working set; it is 0 either way.
  const judged = MEMORY_TYPES.map((type) => snakeColumn(type, metric === 'ws' && type !== 'free' ? 'totalWs' : 'committed'));
  const totalWsColumn = MAPPED_TYPES.map((type) => `coalesce(${snakeColumn(type, 'totalWs')}, 0)`).join(' + ');
  const columns = withTotalWs ? [...judged, totalWsColumn] : judged;
  const types = MEMORY_TYPES.length;
  // One read transaction: the seq span and the rows are the same snapshot while a watch is writing.
  return client.transaction(() => {
    const ticks = tickCapacity(db, sessionId);
    const t = new Float64Array(ticks);
    const totalWs = withTotalWs ? new Float64Array(ticks) : undefined;
    const committed = MEMORY_TYPES.map(() => new Float64Array(ticks));
    // The tick being summed is at index i; it keeps its place when it is whole (the ws metric: every process read smaps).
    let i = -1;
    let lastSeq: number | undefined;
    let withUsage = true;
    const close = () => {
      if (i < 0) return;
      if (metric === 'ws' && !withUsage) {
        for (let c = 0; c < types; c++) committed[c][i] = 0;
        i--;
      } else if (!withUsage && totalWs) totalWs[i] = NaN;
    };
    for (const rows of sampleRows(db, sessionId, columns, -Infinity, Infinity)) {
      for (const row of rows) {
        const seq = row[0] as number;
        if (seq !== lastSeq) {
          close();
          i++;
          t[i] = (row[1] as number) / 1000;
          if (totalWs) totalWs[i] = 0;
          withUsage = true;
          lastSeq = seq;
        }
        withUsage &&= row[2] === 1;
        for (let c = 0; c < types; c++) committed[c][i] += row[c + 3] ?? 0;
        if (totalWs) totalWs[i] += row[types + 3] ?? 0;
      }
    }
    close();
    const read = (values: Float64Array) => values.subarray(0, i + 1);
    const series = { t: read(t), committed: Object.fromEntries(MEMORY_TYPES.map((type, c) => [type, read(committed[c])])) as Record<MemoryType, Float64Array> };
    return totalWs ? { ...series, totalWs: read(totalWs) } : series;
  })();
}

/**
 * Room for every tick of a session: its ticks have distinct seqs, so no more than its seq span. Two index lookups,
 * where counting the ticks is a scan of the session.
 */
function tickCapacity(db: Db, sessionId: number): number {
  const span = db.$client.prepare('SELECT min(seq) AS low, max(seq) AS high FROM samples WHERE session_id = ?').get(sessionId) as { low: number | null; high: number | null };
  return span.low === null ? 0 : span.high! - span.low + 1;
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

type SampleRow = typeof samples.$inferSelect;

/** Every type's totals summed over sample rows; a column only where every row has it (a 0 is never made up). */
function typeTotalsOf(rows: readonly SampleRow[]): Record<MemoryType, TypeTotals> {
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

/** The per-type table (sums over processes) at a session's last tick: what the latest snapshot looked like. */
export function typeTotalsAtLastTick(db: Db, sessionId: number): Record<MemoryType, TypeTotals> {
  const last = db.select({ seq: max(samples.seq) }).from(samples).where(eq(samples.sessionId, sessionId)).get()?.seq;
  const rows = last === null || last === undefined ? [] : db.select().from(samples).where(and(eq(samples.sessionId, sessionId), eq(samples.seq, last))).all();
  return typeTotalsOf(rows);
}

/** One process as it stood at its session's last tick. */
export interface LatestProcessSample {
  pid: number;
  command: string;
  /** Its values at the last tick; the working-set columns from its last tick that read smaps (absent if none did). */
  types: Record<MemoryType, TypeTotals>;
}

const WORKING_SET_KEYS = MEMORY_TYPES.flatMap((type) => [sampleKey(type, 'totalWs'), sampleKey(type, 'privateWs')]);

/**
 * Each process sampled in a session's last tick, with its values there: what a scrape of the exporter shows. Index
 * lookups only (the newest seq, then each process's newest tick that read smaps), whatever the session's length.
 */
export function latestProcessSamples(db: Db, sessionId: number): { seq: number; takenAt: number; processes: LatestProcessSample[] } | undefined {
  const last = db.select({ seq: samples.seq, takenAt: samples.takenAt }).from(samples).where(eq(samples.sessionId, sessionId)).orderBy(desc(samples.seq)).limit(1).get();
  if (!last) return undefined;
  const rows = db.select({ sample: samples, pid: processes.pid, command: processes.command }).from(samples)
    .innerJoin(processes, eq(processes.id, samples.processId))
    .where(and(eq(samples.sessionId, sessionId), eq(samples.seq, last.seq))).all();
  const sampled = rows.map(({ sample, pid, command }) => {
    // A maps-only tick has no working sets: those of the process's last tick that read them.
    const usage = sample.withUsage ? sample
      : db.select().from(samples).where(and(eq(samples.processId, sample.processId), eq(samples.withUsage, true))).orderBy(desc(samples.seq)).limit(1).get();
    const merged: SampleRow = { ...sample };
    for (const key of WORKING_SET_KEYS) (merged as Record<string, unknown>)[key] = usage?.[key] ?? null;
    return { pid, command, types: typeTotalsOf([merged]) };
  });
  return { ...last, processes: sampled };
}
