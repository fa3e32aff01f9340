/** The list of stored sessions, and deleting old ones. */
import type { SessionSummary } from '../db/sessions.js';
import { withReadOnlyDatabase, withWritableDatabase } from './database.js';

export async function listStoredSessions(file: string, filter: { labelGlob?: string; sinceMs?: number }): Promise<SessionSummary[]> {
  const { listSessions } = await import('../db/sessions.js');
  return withReadOnlyDatabase(file, (db, alive) => listSessions(db, filter, alive));
}

export interface PruneRule {
  /** Delete sessions started before this time (epoch ms). */
  olderThanMs?: number;
  /** Keep only this many of the newest sessions. */
  keep?: number;
}

/**
 * Deletes the sessions the rule picks (or, with `dryRun`, only says which), never one that is still being written;
 * returns them as `sessions` lists them.
 */
export async function pruneSessions(file: string, rule: PruneRule, dryRun: boolean): Promise<SessionSummary[]> {
  const { deleteSessions, listSessions, sessionsToPrune } = await import('../db/sessions.js');
  return withWritableDatabase(file, async (db, alive) => {
    const doomed = new Set(sessionsToPrune(db, rule, (s) => s.endedAt === null && alive(s.collectorPid, s.collectorStartTime)).map((s) => s.id));
    const summaries = listSessions(db, {}, alive).filter((s) => doomed.has(s.id));
    // In small transactions: a watch writing to the same database goes on meanwhile.
    if (!dryRun) await deleteSessions(db, [...doomed]);
    return summaries;
  });
}
