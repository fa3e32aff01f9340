/**
 * What SQLite's errors mean for the person running leakwatch: the outages a watch can wait out (a lock, a full disk,
 * a file made read-only), and one line naming the real cause (and what to do) for every other database failure.
 */
import Database from 'better-sqlite3';
import { LeakwatchError } from '../errors.js';

/**
 * A write that may succeed later: another connection holds the lock, the disk is full, the connection is read-only,
 * or writing fails (`io`: what a file made immutable or a filesystem remounted read-only under a watch look like).
 */
export type OutageCause = 'locked' | 'full' | 'read-only' | 'io';

const sqliteCode = (error: unknown): string | undefined => (error instanceof Database.SqliteError ? error.code : undefined);

/** The outage a failed write is, or undefined for a failure that waiting will not cure (corruption, a bug). */
export function outageCause(error: unknown): OutageCause | undefined {
  const code = sqliteCode(error);
  if (code === undefined) return undefined;
  if (/^SQLITE_(BUSY|LOCKED)/.test(code)) return 'locked';
  if (code === 'SQLITE_FULL') return 'full';
  // DBMOVED: the file was deleted or renamed under us; the recorder notices that itself, waiting would not help.
  if (code.startsWith('SQLITE_READONLY') && code !== 'SQLITE_READONLY_DBMOVED') return 'read-only';
  if (code === 'SQLITE_IOERR_WRITE' || code === 'SQLITE_IOERR_FSYNC' || code === 'SQLITE_IOERR_TRUNCATE') return 'io';
  return undefined;
}

/** How an outage reads in a sentence: `the database is ${OUTAGE_WORDS[cause]}`. */
export const OUTAGE_WORDS: Record<OutageCause, string> = {
  locked: 'locked by another connection',
  full: 'on a full disk',
  'read-only': 'read-only',
  io: 'failing writes (a read-only or failing disk)',
};

/** The sentence for a damaged file: how to check it and how to get back what still reads. */
export const damagedAdvice = (file: string) =>
  `check it with: sqlite3 ${file} "PRAGMA integrity_check"; save what still reads with: sqlite3 ${file} .recover | sqlite3 recovered.db (or export the sessions that still read)`;

/**
 * A SQLite failure as one line naming the file and the cause (exit 2: the database cannot be used as it is), or
 * undefined for anything that is not a SQLite error (a bug stays an internal error).
 */
export function databaseFault(error: unknown, file: string): LeakwatchError | undefined {
  const code = sqliteCode(error);
  if (code === undefined) return undefined;
  const sqlite = `(SQLite: ${(error as Error).message})`;
  if (/^SQLITE_(CORRUPT|NOTADB)/.test(code)) return new LeakwatchError(`${file} is damaged ${sqlite}: ${damagedAdvice(file)}`);
  if (code === 'SQLITE_FULL') return new LeakwatchError(`the disk holding ${file} is full ${sqlite}: free some space and try again`);
  if (/^SQLITE_(BUSY|LOCKED)/.test(code)) return new LeakwatchError(`${file} is locked by another connection ${sqlite}: try again when it is done`);
  if (code.startsWith('SQLITE_READONLY')) return new LeakwatchError(`cannot write to ${file} ${sqlite}`);
  if (code.startsWith('SQLITE_CANTOPEN')) return new LeakwatchError(`cannot open ${file} ${sqlite}`);
  if (code.startsWith('SQLITE_IOERR')) return new LeakwatchError(`reading or writing ${file} failed ${sqlite}`);
  return undefined;
}

/** Runs `use`; a SQLite failure in it becomes its one line (see databaseFault). */
export function explainingFaults<T>(file: string, use: () => T): T {
  try {
    return use();
  } catch (error) {
    throw databaseFault(error, file) ?? error;
  }
}
