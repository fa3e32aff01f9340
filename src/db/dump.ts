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

/** One list of a SessionDump: the rows of `table` (as `t`) that `from` (a FROM … WHERE clause on the session id) finds. */
interface RowList {
  key: keyof SessionDump;
  table: string;
  from: string;
  /** Listed in id order, a chunk of ids at a time (the long lists); otherwise in `order`, in one read. */
  chunked: boolean;
  order?: string;
  /** SQL for a column where the export does not write it as stored: a region's addresses, as hex text. */
  columns?: Record<string, string>;
}

/** SQL for a stored address (see storedAddress) as the hex text hexAddress makes of it. */
const HEX = (column: string) => `CASE WHEN typeof(${column}) = 'integer' THEN printf('%08x', ${column}) ELSE substr(${column}, 3) END`;

const LISTS: RowList[] = [
  { key: 'processes', table: 'processes', from: 'processes t WHERE t.session_id = ?', chunked: false, order: 't.id' },
  // The rowid ranges are walked in id order: the indexes on the session would make SQLite sort the rows.
  { key: 'samples', table: 'samples', from: 'samples t NOT INDEXED WHERE t.session_id = ?', chunked: true },
  // Addresses as hex text, as exports have always had them (the table stores integers).
  { key: 'regions', table: 'regions', from: 'regions t CROSS JOIN samples s ON s.id = t.sample_id WHERE s.session_id = ?', chunked: true, columns: { start: HEX('t.start'), end: HEX('t."end"') } },
  { key: 'verdicts', table: 'session_verdicts', from: 'session_verdicts t WHERE t.session_id = ?', chunked: false },
  { key: 'execs', table: 'process_execs', from: 'process_execs t JOIN processes p ON t.process_id = p.id WHERE p.session_id = ?', chunked: false, order: 't.process_id, t.seq' },
];

// Rows read per statement of a chunked list: a few MB of JSON text.
const CHUNK_ROWS = 4096;

/** A row as JSON.stringify writes the object of its columns (the columns' names are the keys, in order). */
const jsonRow = (keys: string[], values: unknown[]) => `{${values.map((v, i) => keys[i] + (typeof v === 'number' ? String(v) : JSON.stringify(v))).join(',')}}`;

/**
 * Each row of a list as JSON object text, in order. SQLite writes the text (json_object writes integers, NULL and
 * text as JSON.stringify does); a row holding a REAL (which SQLite writes with 15 digits) or a BLOB is read and
 * written by JSON.stringify instead. A REAL is found without a look at each value where a table has only INTEGER
 * columns: SQLite's text of a REAL has a '.', and nothing else in such a row does. The long lists are read a chunk
 * of ids at a time.
 */
function* listRows(db: Db, list: RowList, sessionId: number): Generator<string> {
  const client = db.$client;
  const columns = client.prepare(`SELECT name, type FROM pragma_table_info('${list.table}') ORDER BY cid`).all() as { name: string; type: string }[];
  const integers = columns.every((c) => c.type.toUpperCase() === 'INTEGER');
  const value = (name: string) => list.columns?.[name] ?? `t."${name}"`;
  const object = `json_object(${columns.map((c) => `'${c.name}', ${value(c.name)}`).join(', ')})`;
  const json = integers ? object : `CASE WHEN ${columns.map((c) => `typeof(t."${c.name}") NOT IN ('real', 'blob')`).join(' AND ')} THEN ${object} END`;
  const keys = columns.map((c) => `${JSON.stringify(c.name)}:`);
  const byRowid = client.prepare(`SELECT ${columns.map((c) => value(c.name)).join(', ')} FROM ${list.table} t WHERE t.rowid = ?`).raw();
  const text = ([row, rowid]: [string | null, number]) => (row === null || (integers && row.includes('.')) ? jsonRow(keys, byRowid.get(rowid) as unknown[]) : row);
  if (!list.chunked) {
    for (const row of client.prepare(`SELECT ${json}, t.rowid FROM ${list.from}${list.order ? ` ORDER BY ${list.order}` : ''}`).raw().all(sessionId)) yield text(row as [string | null, number]);
    return;
  }
  // The ids of the session's rows lie between these; each chunk goes on from the last id read.
  const bounds = client.prepare(`SELECT min(t.id) AS low, max(t.id) AS high FROM ${list.from.replace(' NOT INDEXED', '').replace(' CROSS JOIN', ' JOIN')}`).get(sessionId) as { low: number | null; high: number | null };
  if (bounds.low === null || bounds.high === null) return;
  const chunk = client.prepare(`SELECT ${json}, t.id FROM ${list.from} AND t.id > ? AND t.id <= ? ORDER BY t.id LIMIT ${CHUNK_ROWS}`).raw();
  for (let after = bounds.low - 1; after < bounds.high;) {
    const rows = chunk.all(sessionId, after, bounds.high) as [string | null, number][];
    if (rows.length === 0) break;
    for (const row of rows) yield text(row);
    after = rows[rows.length - 1][1];
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
  for (const list of LISTS) {
    yield `,"${list.key}":[`;
    let separator = '';
    for (const text of listRows(db, list, sessionId)) {
      yield separator + text;
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
