/**
 * Importing another recording: a leakwatch JSON export, VMMap CSV exports (one snapshot per file, a timeline in the
 * order given) or a VMMap .mmp file. Every import is one transaction: it lands whole or not at all.
 */
import { statSync } from 'node:fs';
import { LeakwatchError } from '../errors.js';
import type { Db } from '../db/open.js';
import type { VmmapTotals } from '../import/vmmap-mmp.js';
import { withWritableDatabase } from './database.js';

export interface ImportResult {
  session: number;
  format: 'json' | 'mmp' | 'csv';
  /** Ticks stored, counted as `sessions` counts them. */
  samples: number;
}

/** A parser's complaint about a file, as one line naming the file. */
async function parsing<T>(file: string, parse: () => T | Promise<T>): Promise<T> {
  try {
    return await parse();
  } catch (error) {
    if (error instanceof LeakwatchError) throw error;
    throw new LeakwatchError(`${file}: ${(error as Error).message}`);
  }
}

const EARLIEST_MS = Date.UTC(2000, 0, 1);
const DAY_MS = 86_400_000;
/** A time for a message, even one beyond what Date can show. */
const dated = (ms: number) => (Number.isNaN(new Date(ms).getTime()) ? `${ms} ms after 1970` : new Date(ms).toISOString());

/** A file's modification time in whole milliseconds, as every time in the database is. */
const modifiedAt = (file: string) => Math.floor(statSync(file).mtimeMs);

/**
 * @param everyMs for VMMap CSV files: the time between snapshots, when the files' modification times were lost
 *   (copied, unzipped); without it the files' mtimes time the snapshots.
 */
export async function importFiles(dbFile: string, files: string[], options: { label?: string; everyMs?: number }): Promise<ImportResult> {
  const [{ schemaVersion }, { checkDump, parseDumpText }, { loadDump }, { storeForeignSnapshots }, { importFileChunks, importFormat, importLimit, readImportFile }, { decodeImportText }, { parseVmmapCsv }, { parseVmmapMmp }] = await Promise.all([
    import('../db/open.js'),
    import('../db/dump-check.js'),
    import('../db/dump.js'),
    import('../db/imported.js'),
    import('../import/read.js'),
    import('../import/text.js'),
    import('../import/vmmap-csv.js'),
    import('../import/vmmap-mmp.js'),
  ]);
  // Told from each file's first bytes: the files are read only once they are known to go together.
  const kinds = files.map(importFormat);
  if (new Set(kinds).size > 1 || (kinds[0] !== 'csv' && files.length > 1)) {
    throw new LeakwatchError('import takes one JSON export, one .mmp file, or one or more VMMap CSV exports');
  }
  const format = kinds[0] as ImportResult['format'];
  if (options.everyMs !== undefined && format !== 'csv') throw new LeakwatchError('--every spaces VMMap CSV files; a JSON export and an .mmp file carry their own times');
  // Every file is parsed and checked before the database is opened: a refused file stores (and creates) nothing.
  let store: (db: Db) => number;
  if (format === 'json') {
    const bytes = readImportFile(files[0]);
    const parsed = (await parsing(files[0], () => parseDumpText(decodeImportText(bytes, importLimit('json'))))) as { format?: unknown; schema?: unknown } | null;
    if (parsed?.format !== 'leakwatch-session') throw new LeakwatchError(`${files[0]} is not a leakwatch export (export --format json)`);
    if (typeof parsed.schema === 'number' && parsed.schema > schemaVersion()) throw new LeakwatchError(`${files[0]} was exported by a newer leakwatch (schema ${parsed.schema}; this one knows up to ${schemaVersion()})`);
    const dump = await parsing(files[0], () => checkDump(parsed, schemaVersion()));
    store = (db) => loadDump(db, dump, options.label);
  } else if (format === 'mmp') {
    const bytes = readImportFile(files[0]);
    const snapshots = await parsing(files[0], () => parseVmmapMmp(bytes));
    const firstTime = Date.parse(snapshots[0].timestamp ?? '') || modifiedAt(files[0]);
    // Without timestamps in the file the snapshots' times are unknown: they are stored a minute apart, in order.
    let previous = firstTime;
    const ticks = snapshots.map((s, i) => {
      const at = Date.parse(s.timestamp ?? '') || firstTime + i * 60_000;
      // A stored time readers can show, and a timeline that does not run backwards.
      if (!(at >= EARLIEST_MS && at <= Date.now() + DAY_MS)) throw new LeakwatchError(`${files[0]}: snapshot ${i + 1} is dated ${dated(at)}, not between 2000 and now`);
      if (at < previous) throw new LeakwatchError(`${files[0]}: snapshot ${i + 1} is dated before snapshot ${i} (${dated(at)})`);
      previous = at;
      return { takenAt: at, elapsedMs: at - firstTime, types: s.totals };
    });
    store = (db) => storeForeignSnapshots(db, { command: `VMMap snapshots from ${files[0]}`, platform: 'windows (VMMap .mmp)', label: options.label }, ticks);
  } else {
    const mtimes = files.map(modifiedAt);
    // Spaced by --every, the timeline ends at the newest file's time: no snapshot is dated after the files existed.
    const newest = mtimes.reduce((a, b) => Math.max(a, b));
    const times = options.everyMs === undefined ? mtimes : files.map((_, i) => newest - (files.length - 1 - i) * options.everyMs!);
    const outOfOrder = times.findIndex((t, i) => i > 0 && t < times[i - 1]);
    if (outOfOrder > 0) {
      throw new LeakwatchError(`${files[outOfOrder]} is older than ${files[outOfOrder - 1]}: give the files in the order they were taken, or space them with --every <interval> when their times were lost`);
    }
    const types: VmmapTotals[] = [];
    // One file at a time, each read only up to the end of its summary block.
    for (const file of files) types.push(await parsing(file, () => parseVmmapCsv(importFileChunks(file))));
    const ticks = files.map((_, i) => ({ takenAt: times[i], elapsedMs: times[i] - times[0], types: types[i] }));
    store = (db) => storeForeignSnapshots(db, { command: `VMMap CSV exports: ${files.join(' ')}`, platform: 'windows (VMMap .csv)', label: options.label }, ticks);
  }
  return withWritableDatabase(dbFile, (db) => {
    const session = store(db);
    const { samples } = db.$client.prepare('SELECT coalesce(max(seq) + 1, 0) AS samples FROM samples WHERE session_id = ?').get(session) as { samples: number };
    return { session, format, samples };
  });
}
