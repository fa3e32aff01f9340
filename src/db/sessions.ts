/** The list of sessions, and deleting sessions (prune). */
import type { Db } from './open.js';
import { type CollectorAlive, judgedState, lastSampleAt } from './read.js';

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

// Each delete transaction aims at this long (the batch size adapts to it), and is followed by a pause at least as
// long: another writer waiting for the lock (a watch's next tick) gets in between.
const BATCH_MS = 20;
const MIN_PAUSE_MS = 10;
const FIRST_BATCH = 64;
const MAX_BATCH = 50_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Deletes sessions and everything recorded in them, in small transactions so that a running watch never waits long
 * for the write lock: first each session's row (readers no longer see it), then its samples with their regions a
 * batch at a time, its processes last. A delete cut short (kill -9) leaves rows of no session behind, invisible to
 * every reader; the next prune finishes them (their processes rows mark them).
 */
export async function deleteSessions(db: Db, ids: number[]): Promise<void> {
  const client = db.$client;
  const dropRow = client.transaction((id: number) => {
    client.prepare('DELETE FROM session_verdicts WHERE session_id = ?').run(id);
    client.prepare('DELETE FROM sessions WHERE id = ?').run(id);
  });
  // With foreign keys on, deleting the row would cascade to every row of the session in one transaction.
  client.pragma('foreign_keys = OFF');
  try {
    for (const id of ids) dropRow.immediate(id);
  } finally {
    client.pragma('foreign_keys = ON');
  }
  const unfinished = client.prepare('SELECT DISTINCT session_id FROM processes WHERE session_id NOT IN (SELECT id FROM sessions)').pluck().all() as number[];
  for (const id of unfinished) await deleteRowsOf(db, id);
}

/** The samples (regions first), then the processes, of a session whose row is gone. */
async function deleteRowsOf(db: Db, sessionId: number): Promise<void> {
  const client = db.$client;
  const pick = client.prepare('SELECT id FROM samples WHERE session_id = ? LIMIT ?').pluck();
  const deleteRegions = client.prepare('DELETE FROM regions WHERE sample_id IN (SELECT value FROM json_each(?))');
  const deleteSamples = client.prepare('DELETE FROM samples WHERE id IN (SELECT value FROM json_each(?))');
  const batch = client.transaction((limit: number) => {
    const sampleIds = pick.all(sessionId, limit) as number[];
    if (sampleIds.length === 0) return 0;
    const list = JSON.stringify(sampleIds);
    return deleteRegions.run(list).changes + deleteSamples.run(list).changes;
  });
  let limit = FIRST_BATCH;
  for (;;) {
    const started = performance.now();
    const rows = batch.immediate(limit);
    const took = performance.now() - started;
    if (rows === 0) break;
    // Samples carry a varying number of region rows: the next batch is sized on how long this one took.
    limit = Math.max(1, Math.min(MAX_BATCH, limit * 2, Math.round((limit * BATCH_MS) / Math.max(took, 1))));
    await sleep(Math.max(MIN_PAUSE_MS, took));
  }
  client.transaction(() => client.prepare('DELETE FROM processes WHERE session_id = ?').run(sessionId)).immediate();
}
