/** Read queries behind the history commands: every one works on a read-only connection, during a watch too. */
import { type Snapshot, type TypeTotals } from '../collector/types.js';
import type { Db } from './open.js';
import { judgedState, lastSampleAt, type CollectorAlive, type SessionRow } from './read.js';
import { SessionWriter } from './store.js';
import { MEMORY_TYPES, type MemoryType } from '../vocabulary.js';

export interface SessionSummary {
  id: number;
  label: string | null;
  command: string;
  startedAt: number;
  endedAt: number | null;
  endReason: string | null;
  samples: number;
  /** Target processes that appeared after the start: restarts of the watched program (or new --all matches). */
  restarts: number;
  /** The strongest verdict the online analysis reached per type, e.g. { heap: 'leak' }. */
  verdicts: Record<string, string>;
}

/**
 * Sessions, newest first, optionally filtered by a label glob (`nightly-*`, SQLite GLOB syntax) and a start time.
 * One query with indexed lookups per session: fast on tens of thousands of sessions.
 */
export function listSessions(db: Db, filter: { labelGlob?: string; sinceMs?: number }, alive: CollectorAlive): SessionSummary[] {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (filter.labelGlob !== undefined) {
    where.push('s.label GLOB ?');
    params.push(filter.labelGlob);
  }
  if (filter.sinceMs !== undefined) {
    where.push('s.started_at >= ?');
    params.push(filter.sinceMs);
  }
  const rows = db.$client
    .prepare(
      `SELECT s.id, s.label, s.command, s.started_at AS startedAt, s.ended_at AS endedAt, s.end_reason AS endReason,
        s.host, s.collector_pid AS collectorPid, s.collector_start_time AS collectorStartTime,
        coalesce((SELECT max(seq) + 1 FROM samples WHERE session_id = s.id), 0) AS samples,
        (SELECT count(*) FROM processes p WHERE p.session_id = s.id AND p.parent_pid IS NULL AND p.first_seq > 0) AS restarts,
        (SELECT group_concat(type || ':' || verdict) FROM session_verdicts WHERE session_id = s.id) AS verdicts
      FROM sessions s ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY s.started_at DESC, s.id DESC`,
    )
    .all(...params) as (Omit<SessionSummary, 'verdicts'> & { verdicts: string | null; host: string; collectorPid: number; collectorStartTime: string })[];
  return rows.map((row) => {
    const { host: _host, collectorPid: _pid, collectorStartTime: _start, ...summary } = judgedState(row, () => lastSampleAt(db, row.id), alive);
    const verdicts: Record<string, string> = {};
    for (const entry of summary.verdicts?.split(',') ?? []) {
      const [type, verdict] = entry.split(':');
      if (verdicts[type] !== 'leak') verdicts[type] = verdict;
    }
    return { ...summary, verdicts };
  });
}

/**
 * Sessions to delete: started before `olderThanMs`, or beyond the newest `keep`. A session that is still being
 * written (not ended, its collector alive) is never chosen.
 */
export function sessionsToPrune(
  db: Db,
  rule: { olderThanMs?: number; keep?: number },
  isBeingWritten: (session: { endedAt: number | null; collectorPid: number; collectorStartTime: string }) => boolean,
): { id: number; label: string | null; startedAt: number }[] {
  const rows = db.$client
    .prepare('SELECT id, label, started_at AS startedAt, ended_at AS endedAt, collector_pid AS collectorPid, collector_start_time AS collectorStartTime FROM sessions ORDER BY started_at DESC, id DESC')
    .all() as { id: number; label: string | null; startedAt: number; endedAt: number | null; collectorPid: number; collectorStartTime: string }[];
  return rows
    .filter((r, index) => (rule.olderThanMs !== undefined && r.startedAt < rule.olderThanMs) || (rule.keep !== undefined && index >= rule.keep))
    .filter((r) => !isBeingWritten(r))
    .map(({ id, label, startedAt }) => ({ id, label, startedAt }));
}

/** Deletes sessions and everything recorded in them (foreign keys cascade), in one transaction. */
export function deleteSessions(db: Db, ids: number[]): void {
  const remove = db.$client.prepare('DELETE FROM sessions WHERE id = ?');
  db.$client.transaction(() => ids.forEach((id) => remove.run(id)))();
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

/** The lossless export: every row of one session, as stored (column names as in the database). */
export interface SessionDump {
  format: 'leakwatch-session';
  schema: number;
  session: Record<string, unknown>;
  processes: Record<string, unknown>[];
  samples: Record<string, unknown>[];
  regions: Record<string, unknown>[];
  verdicts: Record<string, unknown>[];
}

/** Each row of a query as a JSON object text, read as it comes: the same text as JSON.stringify of the row object. */
function* jsonRows(db: Db, sql: string, sessionId: number): Generator<string> {
  const query = db.$client.prepare(sql).raw();
  const keys = query.columns().map((c) => `${JSON.stringify(c.name)}:`);
  for (const values of query.iterate(sessionId) as Iterable<unknown[]>) {
    yield `{${values.map((v, i) => keys[i] + (typeof v === 'number' ? String(v) : JSON.stringify(v))).join(',')}}`;
  }
}

/**
 * A SessionDump of one session as JSON text, in pieces: rows are read from SQLite as they are written out, so a
 * week-long session streams in bounded memory. The text is JSON.stringify(dump) of the same rows.
 */
export function* dumpSession(db: Db, session: Pick<SessionRow, 'id' | 'endedAt' | 'endReason'>, schema: number): Generator<string> {
  const sessionId = session.id;
  yield `{"format":"leakwatch-session","schema":${schema},"session":`;
  // The session as readers see it: one whose collector is gone is interrupted (see judgedState).
  const row = db.$client.prepare('SELECT * FROM sessions WHERE id = ?').get(sessionId) as Record<string, unknown>;
  yield JSON.stringify({ ...row, ended_at: session.endedAt, end_reason: session.endReason });
  const lists: [keyof SessionDump, string][] = [
    ['processes', 'SELECT * FROM processes WHERE session_id = ? ORDER BY id'],
    ['samples', 'SELECT * FROM samples WHERE session_id = ? ORDER BY id'],
    ['regions', 'SELECT r.* FROM regions r JOIN samples s ON r.sample_id = s.id WHERE s.session_id = ? ORDER BY r.id'],
    ['verdicts', 'SELECT * FROM session_verdicts WHERE session_id = ?'],
  ];
  for (const [key, sql] of lists) {
    yield `,"${key}":[`;
    let separator = '';
    for (const row of jsonRows(db, sql, sessionId)) {
      yield separator + row;
      separator = ',';
    }
    yield ']';
  }
  yield '}\n';
}

/**
 * Loads a dump as a new session (new ids, references remapped) in one transaction; returns the new session id.
 * Only columns this database has are written: a dump is rejected when it has others (a newer leakwatch wrote it).
 */
export function loadDump(db: Db, dump: SessionDump, label: string | undefined): number {
  const client = db.$client;
  const columnsOf = (table: string) => new Set((client.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));
  const insert = (table: string, row: Record<string, unknown>) => {
    const known = columnsOf(table);
    const names = Object.keys(row);
    const unknown = names.find((n) => !known.has(n));
    if (unknown !== undefined) throw new Error(`column ${table}.${unknown} is not in this database`);
    return Number(client.prepare(`INSERT INTO ${table} (${names.map((n) => `"${n}"`).join(', ')}) VALUES (${names.map(() => '?').join(', ')})`).run(...names.map((n) => row[n] as never)).lastInsertRowid);
  };
  return client.transaction(() => {
    const { id: _id, ...session } = dump.session;
    const sessionId = insert('sessions', { ...session, ...(label !== undefined && { label }) });
    const processIds = new Map<unknown, number>();
    for (const { id, ...p } of dump.processes) processIds.set(id, insert('processes', { ...p, session_id: sessionId }));
    const sampleIds = new Map<unknown, number>();
    for (const { id, ...s } of dump.samples) sampleIds.set(id, insert('samples', { ...s, session_id: sessionId, process_id: processIds.get(s.process_id) }));
    for (const { id: _r, ...r } of dump.regions) insert('regions', { ...r, sample_id: sampleIds.get(r.sample_id) });
    for (const v of dump.verdicts) insert('session_verdicts', { ...v, session_id: sessionId });
    return sessionId;
  })();
}

/**
 * Stores snapshots taken by another tool (VMMap) as a session of one process, one tick per snapshot. Types the
 * tool did not report are stored as empty; nothing is invented for them.
 */
export function storeForeignSnapshots(
  db: Db,
  source: { command: string; platform: string; label: string | undefined },
  ticks: { takenAt: number; elapsedMs: number; types: Partial<Record<MemoryType, TypeTotals>> }[],
): number {
  const startTime = new Date(ticks[0].takenAt).toISOString();
  const writer = SessionWriter.create(db, {
    label: source.label,
    command: source.command,
    mode: 'watch',
    targetPid: 0,
    targetStartTime: startTime,
    host: 'imported',
    platform: source.platform,
    followChildren: false,
    startedAt: ticks[0].takenAt,
    collectorPid: 0,
    collectorStartTime: 'imported',
  });
  db.$client.transaction(() => {
    ticks.forEach((tick, seq) => {
      const types = Object.fromEntries(MEMORY_TYPES.map((t) => [t, tick.types[t] ?? { size: 0, committed: 0 }])) as Snapshot['types'];
      const snapshot: Snapshot = { pid: 0, startTime, command: source.command, takenAt: new Date(tick.takenAt).toISOString(), types, total: { size: 0, committed: 0 }, managedHeaps: [], heapChunks: 'read', regions: [] };
      writer.recordTick({ seq, takenAt: tick.takenAt, elapsedMs: tick.elapsedMs, samples: [{ snapshot, withUsage: types.heap.totalWs !== undefined, parentPid: undefined }] });
    });
  })();
  writer.end('duration', { endedAt: ticks[ticks.length - 1].takenAt });
  return writer.id;
}
