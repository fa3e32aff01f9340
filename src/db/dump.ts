/** The lossless export of a session (every stored row) and loading it back as a new session. */
import type { Statement } from 'better-sqlite3';
import type { CheckedDump } from './dump-check.js';
import type { Db } from './open.js';
import type { SessionRow } from './read.js';
import { storedAddress } from './region-deltas.js';

/** The lossless export: every row of one session, as stored (column names as in the database). */
export interface SessionDump {
  format: 'leakwatch-session';
  schema: number;
  session: Record<string, unknown>;
  processes: Record<string, unknown>[];
  samples: Record<string, unknown>[];
  regions: Record<string, unknown>[];
  verdicts: Record<string, unknown>[];
  execs: Record<string, unknown>[];
}

/** SQL for a stored address (see storedAddress) as the hex text hexAddress makes of it. */
const HEX = (column: string) => `CASE WHEN typeof(${column}) = 'integer' THEN printf('%08x', ${column}) ELSE substr(${column}, 3) END`;

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
    // Addresses as hex text, as dumps have always had them (the table stores integers).
    ['regions', `SELECT r.id, r.sample_id, r.kind, ${HEX('r.start')} AS start, ${HEX('r."end"')} AS "end", r.type, r.protection, r.size,
      r.committed, r.total_ws, r.private_ws, r.details FROM regions r JOIN samples s ON r.sample_id = s.id WHERE s.session_id = ? ORDER BY r.id`],
    ['verdicts', 'SELECT * FROM session_verdicts WHERE session_id = ?'],
    ['execs', 'SELECT e.* FROM process_execs e JOIN processes p ON e.process_id = p.id WHERE p.session_id = ? ORDER BY e.process_id, e.seq'],
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
 * Loads a checked dump (see checkDump) as a new session (new ids, references remapped) in one transaction; returns
 * the new session id. Only the columns the dump has are written: the database fills in the others.
 */
export function loadDump(db: Db, dump: CheckedDump, label: string | undefined): number {
  const client = db.$client;
  // One statement per table and column list: a long session has the same columns on every row.
  const statements = new Map<string, Statement>();
  const insert = (table: string, row: Record<string, unknown>) => {
    const names = Object.keys(row);
    const key = `${table}(${names.join(',')})`;
    let statement = statements.get(key);
    if (statement === undefined) {
      statement = client.prepare(`INSERT INTO ${table} (${names.map((n) => `"${n}"`).join(', ')}) VALUES (${names.map(() => '?').join(', ')})`);
      statements.set(key, statement);
    }
    return Number(statement.run(...names.map((n) => row[n] as never)).lastInsertRowid);
  };
  return client.transaction(() => {
    const { id: _id, ...session } = dump.session;
    const sessionId = insert('sessions', { ...session, ...(label !== undefined && { label }) });
    const processIds = new Map<unknown, number>();
    for (const { id, ...p } of dump.processes) processIds.set(id, insert('processes', { ...p, session_id: sessionId }));
    const sampleIds = new Map<unknown, number>();
    for (const { id, ...s } of dump.samples) sampleIds.set(id, insert('samples', { ...s, session_id: sessionId, process_id: processIds.get(s.process_id) }));
    for (const { id: _r, ...r } of dump.regions) {
      insert('regions', { ...r, start: storedAddress(r.start as string), end: storedAddress(r.end as string), sample_id: sampleIds.get(r.sample_id) });
    }
    for (const v of dump.verdicts) insert('session_verdicts', { ...v, session_id: sessionId });
    for (const e of dump.execs) insert('process_execs', { ...e, process_id: processIds.get(e.process_id) });
    return sessionId;
  })();
}
