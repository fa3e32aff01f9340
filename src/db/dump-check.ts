/**
 * A leakwatch JSON export checked field by field before any of it is stored, so that no imported row can make a
 * reader fail. Each table's columns (names, integer / text / boolean, nullability, text enums) come from the drizzle
 * schema, so a new column is checked without a second declaration; the ranges and the enums the schema leaves as
 * text are added here. Then what no single row shows: references, unique identities, seq and time order.
 */
import { getTableColumns } from 'drizzle-orm';
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { z } from 'zod';
import { processExecs, processes, regions, samples, sessions, sessionVerdicts } from './schema.js';
import { MEMORY_TYPES, ROW_LABELS } from '../vocabulary.js';

type Row = Record<string, unknown>;

/** A dump that passed checkDump (the only kind loadDump stores): every row as stored, snake_case columns. */
export interface CheckedDump {
  readonly [checked]: true;
  format: 'leakwatch-session';
  schema: number;
  session: Row;
  processes: Row[];
  samples: Row[];
  regions: Row[];
  verdicts: Row[];
  execs: Row[];
}
declare const checked: unique symbol;

const MAX_WHOLE = Number.MAX_SAFE_INTEGER;
/** Times are epoch milliseconds from 2000-01-01 up to a day from now (clocks disagree, never by years). */
const EARLIEST_MS = Date.UTC(2000, 0, 1);
const DAY_MS = 86_400_000;

// What the drizzle schema cannot say: which integers are times or may be negative, which texts are enums.
const TIMES = new Set(['sessions.started_at', 'sessions.ended_at', 'samples.taken_at', 'session_verdicts.first_reached_at']);
const SIGNED: Record<string, [number, number]> = { 'sessions.exit_code': [-(2 ** 31), 2 ** 31 - 1] };
const POSITIVE = new Set(['sessions.interval_ms']);
const TEXT_ENUMS: Record<string, readonly string[]> = {
  'regions.type': MEMORY_TYPES,
  'session_verdicts.type': Object.keys(ROW_LABELS),
};
/** Addresses as the OS prints them: hex digits, 64 bits at most (readers parse them as BigInt). */
const HEX_ADDRESS = new Set(['regions.start', 'regions.end']);

/** A value as a message shows it: short, on one line, never walking into a nested structure. */
function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'an object';
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** The message of a value that is not of the column's type: missing, null where a value is needed, or wrong. */
const wrongType = (what: string) => (issue: { input: unknown }) =>
  issue.input === undefined ? 'is missing' : issue.input === null ? `is null, but the column needs ${what}` : `${shown(issue.input)} is not ${what}`;

function wholeNumber(min: number, max: number, what = 'a whole number') {
  return z
    .number({ error: wrongType(what) })
    .max(max, { error: (i) => `${shown(i.input)} is ${max === MAX_WHOLE ? 'beyond 2^53' : `above ${max}`}` })
    .min(min, { error: (i) => `${shown(i.input)} is ${min === 0 ? 'negative' : `below ${min}`}` })
    .int({ error: (i) => `${shown(i.input)} is not a whole number` });
}

function epochMs() {
  const what = 'a time in epoch milliseconds';
  return z.number({ error: wrongType(what) }).refine((ms) => Number.isSafeInteger(ms) && ms >= EARLIEST_MS && ms <= Date.now() + DAY_MS, {
    error: (i) => `${shown(i.input)} is not ${what} between 2000-01-01 and tomorrow`,
  });
}

function columnSchema(table: string, column: SQLiteColumn): z.ZodType {
  const key = `${table}.${column.name}`;
  let schema: z.ZodType;
  if (HEX_ADDRESS.has(key)) {
    // Dumps carry addresses as hex text, whichever way the table stores them (integers since schema 4).
    schema = z.string({ error: wrongType('a text') }).regex(/^[0-9a-fA-F]{1,16}$/, { error: (i) => `${shown(i.input)} is not a hex address` });
  } else if (column.columnType === 'SQLiteInteger') {
    const [min, max] = SIGNED[key] ?? [POSITIVE.has(key) ? 1 : 0, MAX_WHOLE];
    schema = TIMES.has(key) ? epochMs() : wholeNumber(min, max);
  } else if (column.columnType === 'SQLiteBoolean') {
    // Stored and exported as SQLite integers.
    schema = z.union([z.literal(0), z.literal(1)], { error: wrongType('0 or 1') });
  } else if (column.columnType === 'SQLiteText') {
    const values = (column.enumValues as string[] | undefined) ?? TEXT_ENUMS[key];
    if (values !== undefined) {
      schema = z.enum(values as [string, ...string[]], { error: (i) => (i.input === undefined || i.input === null ? wrongType('a text')(i) : `${shown(i.input)} is not one of ${values.join(', ')}`) });
    } else {
      schema = z.string({ error: wrongType('a text') });
    }
  } else {
    // A new kind of column needs a decision here, not a silent pass.
    throw new Error(`no check for column ${key} of type ${column.columnType}`);
  }
  if (!column.notNull) schema = schema.nullable();
  // Missing from an older export: the database fills it in (NULL or its default). Ids are needed for references.
  if (!column.notNull || (column.hasDefault && !column.primary)) schema = schema.optional();
  return schema;
}

function rowSchema(table: SQLiteTable, name: string) {
  const shape = Object.fromEntries(Object.values(getTableColumns(table)).map((c) => [c.name, columnSchema(name, c as SQLiteColumn)]));
  return z.strictObject(shape, {
    error: (i) => (i.code === 'unrecognized_keys' ? `not a column of ${name} in this database` : `${shown(i.input)} is not a row (an object)`),
  });
}

let schemas: Record<'session' | List, z.ZodType> | undefined;
/** Built once, when an import needs them. */
const rowSchemas = () =>
  (schemas ??= {
    session: rowSchema(sessions, 'sessions'),
    processes: rowSchema(processes, 'processes'),
    samples: rowSchema(samples, 'samples'),
    regions: rowSchema(regions, 'regions'),
    verdicts: rowSchema(sessionVerdicts, 'session_verdicts'),
    execs: rowSchema(processExecs, 'process_execs'),
  });

class DumpError extends Error {}
const fail = (where: string, message: string): never => {
  throw new DumpError(`${where}: ${message}`);
};

/** `samples[17].heap_committed` */
const placeOf = (list: string, index: number | undefined, path: readonly PropertyKey[]) =>
  `${list}${index === undefined ? '' : `[${index}]`}${path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}`;

function checkRow(schema: z.ZodType, row: unknown, list: string, index?: number): Row {
  const result = schema.safeParse(row);
  if (result.success) return row as Row;
  const issue = result.error.issues[0];
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
  return fail(placeOf(list, index, path), issue.message);
}

/** The lists of rows an export has; verdicts and execs are absent from exports of older versions. */
type List = 'processes' | 'samples' | 'regions' | 'verdicts' | 'execs';

function checkList(dump: Row, list: List, optional = false): Row[] {
  const rows = dump[list];
  if (rows === undefined && optional) return [];
  if (!Array.isArray(rows)) return fail(list, rows === undefined ? 'is missing' : `${shown(rows)} is not a list of rows`);
  const schema = rowSchemas()[list];
  rows.forEach((row, i) => checkRow(schema, row, list, i));
  return rows as Row[];
}

/** Addresses compared as numbers, without BigInt: same-length lower-case hex compares as text. */
const addressKey = (hex: string) => hex.toLowerCase().replace(/^0+(?=.)/, '').padStart(16, '0');

/** The JSON text of an export. @throws Error on one line: V8's message quotes the text, line breaks and all. */
export function parseDumpText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DumpError(`not valid JSON: ${(error as Error).message.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}`);
  }
}

/**
 * The dump, when every field of every row is what the database and its readers expect.
 * @throws Error with one line naming the row and column: `samples[17].heap_committed: -5 is negative`.
 */
export function checkDump(value: unknown, currentSchema: number): CheckedDump {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || (value as Row).format !== 'leakwatch-session') {
    throw new DumpError('not a leakwatch export (export --format json)');
  }
  const dump = value as Row;
  const known = new Set(['format', 'schema', 'session', 'processes', 'samples', 'regions', 'verdicts', 'execs']);
  const extra = Object.keys(dump).find((k) => !known.has(k));
  if (extra !== undefined) fail(extra, 'not a part of a leakwatch export');
  const schema = dump.schema;
  if (!Number.isSafeInteger(schema) || (schema as number) < 1) fail('schema', `${shown(schema)} is not a schema version`);
  if ((schema as number) > currentSchema) fail('schema', `exported by a newer leakwatch (schema ${schema}; this one knows up to ${currentSchema})`);

  const session = checkRow(rowSchemas().session, dump.session, 'session');
  const processRows = checkList(dump, 'processes');
  const sampleRows = checkList(dump, 'samples');
  const regionRows = checkList(dump, 'regions');
  const verdictRows = checkList(dump, 'verdicts', true);
  const execRows = checkList(dump, 'execs', true);

  if (session.ended_at != null && (session.ended_at as number) < (session.started_at as number)) {
    fail('session.ended_at', `${session.ended_at} is before started_at ${session.started_at}`);
  }
  if ((session.ended_at == null) !== (session.end_reason == null)) {
    fail(session.ended_at == null ? 'session.ended_at' : 'session.end_reason', `is null, but ${session.ended_at == null ? 'end_reason' : 'ended_at'} is not: a session ends with both`);
  }
  const ofThisSession = (list: string, rows: Row[]) =>
    rows.forEach((row, i) => row.session_id !== session.id && fail(`${list}[${i}].session_id`, `${row.session_id} is not the session's id ${shown(session.id)}`));
  ofThisSession('processes', processRows);
  ofThisSession('samples', sampleRows);
  ofThisSession('verdicts', verdictRows);

  // Processes: unique ids and identities, a seq range.
  const processIndex = new Map<number, number>();
  const identities = new Map<string, number>();
  processRows.forEach((p, i) => {
    const id = p.id as number;
    if (processIndex.has(id)) fail(`processes[${i}].id`, `${id} is also the id of processes[${processIndex.get(id)}]`);
    processIndex.set(id, i);
    const identity = `${p.pid}@${p.start_time}`;
    if (identities.has(identity)) fail(`processes[${i}]`, `pid ${p.pid} started at ${shown(p.start_time)} is already processes[${identities.get(identity)}]`);
    identities.set(identity, i);
    if ((p.first_seq as number) > (p.last_seq as number)) fail(`processes[${i}].last_seq`, `${p.last_seq} is before first_seq ${p.first_seq}`);
  });

  // Samples: of a listed process, within its seq range, seq increasing per process, elapsed time with seq.
  const sampleIds = new Set<number>();
  const lastOfProcess = new Map<number, number>();
  const ticks = new Map<number, { min: number; minAt: number; max: number; maxAt: number }>();
  sampleRows.forEach((s, i) => {
    const id = s.id as number;
    if (sampleIds.has(id)) fail(`samples[${i}].id`, `${id} is the id of an earlier sample too`);
    sampleIds.add(id);
    const owner = processIndex.get(s.process_id as number);
    if (owner === undefined) fail(`samples[${i}].process_id`, `${s.process_id} is not the id of any of the processes`);
    const seq = s.seq as number;
    const process = processRows[owner!];
    if (seq < (process.first_seq as number) || seq > (process.last_seq as number)) {
      fail(`samples[${i}].seq`, `${seq} is outside its process's first_seq..last_seq (${process.first_seq}..${process.last_seq})`);
    }
    const previous = lastOfProcess.get(owner!);
    if (previous !== undefined && seq <= (sampleRows[previous].seq as number)) {
      fail(`samples[${i}].seq`, `${seq} ${seq === sampleRows[previous].seq ? 'repeats' : 'is before'} the seq of samples[${previous}], the same process's previous sample`);
    }
    lastOfProcess.set(owner!, i);
    const elapsed = s.elapsed_ms as number;
    // Readers date a tick as started_at + elapsed_ms.
    if ((session.started_at as number) + elapsed > Date.now() + DAY_MS) fail(`samples[${i}].elapsed_ms`, `${elapsed} after started_at is beyond tomorrow`);
    const tick = ticks.get(seq);
    if (tick === undefined) ticks.set(seq, { min: elapsed, minAt: i, max: elapsed, maxAt: i });
    else {
      if (elapsed < tick.min) Object.assign(tick, { min: elapsed, minAt: i });
      if (elapsed > tick.max) Object.assign(tick, { max: elapsed, maxAt: i });
    }
  });
  const order = [...ticks.entries()].sort((a, b) => a[0] - b[0]);
  for (let k = 1; k < order.length; k++) {
    const [[seqBefore, before], [, after]] = [order[k - 1], order[k]];
    if (after.min < before.max) {
      fail(`samples[${after.minAt}].elapsed_ms`, `${after.min} is before ${before.max} of samples[${before.maxAt}], an earlier tick (seq ${seqBefore})`);
    }
  }

  // Regions: of a listed sample, ending after they start.
  regionRows.forEach((r, i) => {
    if (!sampleIds.has(r.sample_id as number)) fail(`regions[${i}].sample_id`, `${r.sample_id} is not the id of any of the samples`);
    if (addressKey(r.end as string) <= addressKey(r.start as string)) fail(`regions[${i}].end`, `${shown(r.end)} is not above its start ${shown(r.start)}`);
  });

  // Verdicts: one per type and verdict (the table's key).
  const reached = new Map<string, number>();
  verdictRows.forEach((v, i) => {
    const key = `${v.type}:${v.verdict}`;
    if (reached.has(key)) fail(`verdicts[${i}]`, `${v.type} ${v.verdict} is already verdicts[${reached.get(key)}]`);
    reached.set(key, i);
  });
  // Execs: of a listed process, inside its seq range, one per process and tick (the table's key).
  const execKeys = new Map<string, number>();
  execRows.forEach((e, i) => {
    const owner = processIndex.get(e.process_id as number);
    if (owner === undefined) return fail(`execs[${i}].process_id`, `${e.process_id} is not the id of any of the processes`);
    const process = processRows[owner];
    if ((e.seq as number) < (process.first_seq as number) || (e.seq as number) > (process.last_seq as number)) {
      fail(`execs[${i}].seq`, `${e.seq} is outside its process's first_seq..last_seq (${process.first_seq}..${process.last_seq})`);
    }
    const key = `${e.process_id}:${e.seq}`;
    if (execKeys.has(key)) fail(`execs[${i}]`, `process ${e.process_id} at seq ${e.seq} is already execs[${execKeys.get(key)}]`);
    execKeys.set(key, i);
  });
  return { ...dump, verdicts: verdictRows, execs: execRows } as unknown as CheckedDump;
}
