/** The list of sessions, for people (a table) and for machines (CSV). */
import type { SessionSummary } from '../db/sessions.js';
import { formatElapsed, type Row, ROW_LABELS, type Verdict, VERDICT_LABELS } from '../vocabulary.js';
import { csvLine } from './csv.js';
import { printable, renderTable } from './text.js';

/** A UTC time as people read it in a table: `2026-12-02 04:05:27`. */
const utcTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

/** The sessions as a table for people; also what `prune` lists. */
export function sessionsTable(sessions: SessionSummary[]): string {
  const rows = sessions.map((s) => [
    String(s.id),
    printable(s.label ?? ''),
    utcTime(s.startedAt),
    s.endedAt === null ? 'running' : formatElapsed(s.endedAt - s.startedAt),
    String(s.samples),
    String(s.restarts),
    printable(s.endReason ?? ''),
    printable(Object.entries(s.verdicts).map(([type, verdict]) => `${ROW_LABELS[type as Row] ?? type} ${VERDICT_LABELS[verdict as Verdict] ?? verdict}`).join(', ')),
    printable(s.command),
  ]);
  return renderTable([['ID', 'LABEL', 'STARTED (UTC)', 'DURATION', 'SAMPLES', 'RESTARTS', 'END', 'ALERTS', 'COMMAND'], ...rows], 'all');
}

/** The sessions as CSV: stable keys, times in ISO 8601 (UTC) like the table. */
export function sessionsCsv(sessions: SessionSummary[]): string {
  return [['id', 'label', 'command', 'startedAt', 'endedAt', 'durationSeconds', 'endReason', 'samples', 'restarts', 'alerts'], ...sessions.map((s) => [
    s.id, s.label, s.command, new Date(s.startedAt).toISOString(), s.endedAt === null ? null : new Date(s.endedAt).toISOString(),
    s.endedAt === null ? null : (s.endedAt - s.startedAt) / 1000, s.endReason, s.samples, s.restarts,
    Object.entries(s.verdicts).map(([type, verdict]) => `${type}:${verdict}`).join(' '),
  ])].map(csvLine).join('');
}

