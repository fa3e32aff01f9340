/**
 * The database: sessions of samples of processes. One wide `samples` row per process and tick (every type's
 * numbers as columns) keeps a 12-hour series one indexed range scan away; regions are stored as a full list now
 * and then plus deltas in between, so any tick's region set can be rebuilt without storing it every tick.
 */
import { index, integer, primaryKey, type SQLiteIntegerBuilderInitial, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { MEMORY_TYPES, type MemoryType } from '../vocabulary.js';

/** Per type and sample. Working-set columns are NULL on ticks that read only /proc/PID/maps (no smaps). */
export const SAMPLE_COLUMNS = ['size', 'committed', 'private', 'totalWs', 'privateWs', 'blocks'] as const;
export type SampleColumn = (typeof SAMPLE_COLUMNS)[number];
export type SampleKey = `${MemoryType}${Capitalize<SampleColumn>}`;

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
export const sampleKey = (type: MemoryType, column: SampleColumn) =>
  `${type}${column[0].toUpperCase()}${column.slice(1)}` as SampleKey;

function typeColumns() {
  const columns = {} as Record<SampleKey, SQLiteIntegerBuilderInitial<string>>;
  for (const type of MEMORY_TYPES) {
    for (const column of SAMPLE_COLUMNS) columns[sampleKey(type, column)] = integer(snake(sampleKey(type, column)));
  }
  return columns;
}

export const sessions = sqliteTable('sessions', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  label: text('label'),
  /** `watch`: the watched process's command line; `run`: the command leakwatch started; `import`: where the data came from. */
  command: text('command').notNull(),
  mode: text('mode', { enum: ['watch', 'run', 'import'] }).notNull(),
  targetPid: integer('target_pid').notNull(),
  targetStartTime: text('target_start_time').notNull(),
  host: text('host').notNull(),
  platform: text('platform').notNull(),
  intervalMs: integer('interval_ms'),
  cron: text('cron'),
  followChildren: integer('follow_children', { mode: 'boolean' }).notNull(),
  startedAt: integer('started_at').notNull(), // epoch ms
  endedAt: integer('ended_at'),
  endReason: text('end_reason', {
    enum: ['duration', 'target-exited', 'interrupted', 'signal', 'pid-reused', 'error', 'imported'],
  }),
  exitCode: integer('exit_code'),
  /** The collector writing this session: with its start time, tells a live writer from a killed one. */
  collectorPid: integer('collector_pid').notNull(),
  collectorStartTime: text('collector_start_time').notNull(),
  error: text('error'),
  /** The lowest memory limit known for the target at the start (bytes) and where it comes from. */
  limitBytes: integer('limit_bytes'),
  limitSource: text('limit_source'),
}, (t) => [index('sessions_started_at').on(t.startedAt), index('sessions_label').on(t.label)]);

export const processes = sqliteTable('processes', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  sessionId: integer('session_id').notNull().references(() => sessions.id, { onDelete: 'cascade' }),
  pid: integer('pid').notNull(),
  startTime: text('start_time').notNull(),
  parentPid: integer('parent_pid'),
  command: text('command').notNull(),
  firstSeq: integer('first_seq').notNull(),
  lastSeq: integer('last_seq').notNull(),
}, (t) => [uniqueIndex('processes_identity').on(t.sessionId, t.pid, t.startTime)]);

export const samples = sqliteTable('samples', {
  id: integer('id').primaryKey(),
  sessionId: integer('session_id').notNull().references(() => sessions.id, { onDelete: 'cascade' }),
  processId: integer('process_id').notNull().references(() => processes.id, { onDelete: 'cascade' }),
  /** Tick number in the session, shared by every process sampled in that tick. */
  seq: integer('seq').notNull(),
  takenAt: integer('taken_at').notNull(), // wall clock, epoch ms
  elapsedMs: integer('elapsed_ms').notNull(), // monotonic, since the session started
  /** 1 when this tick read smaps (working-set columns filled), 0 for a maps-only tick. */
  withUsage: integer('with_usage', { mode: 'boolean' }).notNull(),
  ...typeColumns(),
}, (t) => [index('samples_session_seq').on(t.sessionId, t.seq), index('samples_process_seq').on(t.processId, t.seq)]);

/**
 * `full` rows: the complete region list of that sample. `added` / `removed` / `changed` rows: the difference to
 * the previous sample of the same process. Keyed by start address, which identifies a mapping while it lives.
 */
export const regions = sqliteTable('regions', {
  id: integer('id').primaryKey(),
  sampleId: integer('sample_id').notNull().references(() => samples.id, { onDelete: 'cascade' }),
  kind: text('kind', { enum: ['full', 'added', 'removed', 'changed'] }).notNull(),
  /**
   * Address range as integers (exact: user space is below 2^47 on Linux and x64 Windows). An address above 2^53,
   * which a JS number cannot hold exactly (Linux's [vsyscall] page), is stored as text: `0x` and its hex digits.
   */
  start: integer('start').$type<number | string>().notNull(),
  end: integer('end').$type<number | string>().notNull(),
  type: text('type').notNull(),
  protection: text('protection').notNull(),
  size: integer('size').notNull(),
  committed: integer('committed').notNull(),
  totalWs: integer('total_ws'),
  privateWs: integer('private_ws'),
  details: text('details').notNull(),
}, (t) => [index('regions_sample').on(t.sampleId)]);

/** When the online analysis during a watch first reached `suspected` or `leak` for a type. */
export const sessionVerdicts = sqliteTable('session_verdicts', {
  sessionId: integer('session_id').notNull().references(() => sessions.id, { onDelete: 'cascade' }),
  type: text('type').notNull(),
  verdict: text('verdict', { enum: ['suspected', 'leak'] }).notNull(),
  firstReachedAt: integer('first_reached_at').notNull(), // epoch ms
  firstReachedSeq: integer('first_reached_seq').notNull(),
}, (t) => [primaryKey({ columns: [t.sessionId, t.type, t.verdict] })]);

/**
 * When a watched process exec()d another program: same pid and start time, new memory and command. Its series
 * goes on in the same process row; the analysis judges what came after an exec as a life of its own.
 */
export const processExecs = sqliteTable('process_execs', {
  processId: integer('process_id').notNull().references(() => processes.id, { onDelete: 'cascade' }),
  /** The first tick sampled from the new program. */
  seq: integer('seq').notNull(),
  command: text('command').notNull(),
}, (t) => [primaryKey({ columns: [t.processId, t.seq] })]);
