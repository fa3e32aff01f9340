/** A range of a stored session, optionally resampled, streamed to the output as rows come from SQLite. */
import type { Aggregate, TimedRow } from '../analysis/resample.js';
import { LeakwatchError } from '../errors.js';
import type { SessionRow } from '../db/read.js';
import { withReadOnlyDatabase } from './database.js';
import type { MemoryType } from '../vocabulary.js';

export interface QuerySpec {
  types: readonly MemoryType[];
  /** The range, as options say it; parsed against the session's start. */
  from?: string;
  to?: string;
  /** Seconds per resampled row. */
  every?: number;
  aggregate: Aggregate;
}

/**
 * Calls `write` with the session and a producer of its rows, which can be asked more than once (a table measures
 * its columns first); the database stays open until `write` is done.
 * @throws LeakwatchError when the range holds no sample.
 */
export async function querySession(
  file: string,
  id: number,
  spec: QuerySpec,
  parseTime: (text: string, option: string, startedAt: number) => number,
  write: (session: SessionRow, rows: () => Iterable<TimedRow>) => Promise<void>,
): Promise<void> {
  const { bucketSums, committedColumns, loadSession, tickSums } = await import('../db/read.js');
  await withReadOnlyDatabase(file, async (db, alive) => {
    const session = loadSession(db, id, file, alive);
    const from = spec.from === undefined ? -Infinity : parseTime(spec.from, '--from', session.startedAt);
    const to = spec.to === undefined ? Infinity : parseTime(spec.to, '--to', session.startedAt);
    // Only the range is read, a chunk of ticks at a time, or resampled by SQLite (only the buckets are read): the
    // rows of a week-long session are never all held.
    const columns = committedColumns(spec.types);
    // The buckets are few and cost SQLite a pass over the whole range: asked once, held, handed out as often as asked.
    const buckets = spec.every === undefined ? undefined : [...bucketSums(db, id, columns, spec.every, spec.aggregate, from, to)];
    const rows = (): Iterable<TimedRow> => buckets ?? tickSums(db, id, columns, from, to);
    const probe = rows()[Symbol.iterator]();
    const empty = probe.next().done;
    probe.return?.();
    if (empty) throw new LeakwatchError(`no samples between ${spec.from ?? 'the start'} and ${spec.to ?? 'the end'} in session ${id}`);
    await write(session, rows);
  });
}

/** A session to a file or stdout: csv = committed bytes per type and tick; json = every stored row (lossless). */
export async function exportSession(file: string, id: number, format: 'csv' | 'json', output?: string): Promise<void> {
  const [{ committedColumns, loadSession, tickSums }, { csvRows }, { dumpSession }, { schemaVersion }, { writeStreamed }, { MEMORY_TYPES }] = await Promise.all([
    import('../db/read.js'),
    import('../report/rows.js'),
    import('../db/dump.js'),
    import('../db/open.js'),
    import('./output.js'),
    import('../vocabulary.js'),
  ]);
  // Streamed from SQLite to the output as the rows come.
  await withReadOnlyDatabase(file, (db, alive) => {
    const session = loadSession(db, id, file, alive);
    const text = format === 'json' ? dumpSession(db, session, schemaVersion()) : csvRows(MEMORY_TYPES, tickSums(db, id, committedColumns(MEMORY_TYPES)), session.startedAt);
    return writeStreamed(text, output);
  });
}
