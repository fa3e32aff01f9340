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

/** Deletes sessions and everything recorded in them (foreign keys cascade), in one transaction. */
export function deleteSessions(db: Db, ids: number[]): void {
  const remove = db.$client.prepare('DELETE FROM sessions WHERE id = ?');
  db.$client.transaction(() => ids.forEach((id) => remove.run(id)))();
}
