/**
 * Opening the database: refuse files that are not ours (and leave them untouched), refuse a schema newer than this
 * build knows, migrate our own, and set the pragmas that make "a sample written is a sample kept" true.
 */
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { accessSync, closeSync, constants, copyFileSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LeakwatchError } from '../errors.js';
import { databaseFault, explainingFaults } from './faults.js';
import * as schema from './schema.js';
import { fileKind } from '../vocabulary.js';

/** 'LkWt': marks a SQLite file as leakwatch's (PRAGMA application_id). */
export const APPLICATION_ID = 0x4c6b5774;
const MIGRATIONS = fileURLToPath(new URL('../../../migrations', import.meta.url));
const SQLITE_HEADER = 'SQLite format 3\0';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

/** The schema version this build writes: the number of migrations it ships. */
export function schemaVersion(): number {
  const journal = JSON.parse(readFileSync(path.join(MIGRATIONS, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
  return journal.entries.length;
}


function readHeader(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(SQLITE_HEADER.length);
    const read = readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.toString('latin1', 0, read);
  } finally {
    closeSync(fd);
  }
}

/**
 * Refuses a path that is there but is no regular file, before SQLite opens it: SQLite would read /dev/null as an
 * empty database and create /dev/null-journal beside it, and block on a FIFO.
 */
function refuseWhatIsNotAFile(file: string): void {
  const stats = statSync(file, { throwIfNoEntry: false });
  if (stats && !stats.isFile()) throw new LeakwatchError(`${file} is ${fileKind(stats)}, not a database file`);
}

/** Why this process may not write `target` (access(2) W_OK: root too is refused an immutable file or a read-only mount). */
function writeRefusal(target: string): string | undefined {
  try {
    accessSync(target, constants.W_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EROFS') return 'is on a read-only filesystem';
    if (code === 'EPERM') return `is immutable (chattr -i ${target} lifts that)`;
    return `is not writable by this user (uid ${process.getuid?.() ?? '?'}, mode ${(statSync(target).mode & 0o777).toString(8).padStart(4, '0')})`;
  }
}

/**
 * One line saying why the database cannot be written, checked before SQLite opens it (SQLite would open it read-only
 * without a word and fail on the first write). SQLite also needs its directory, for the -wal and -shm files.
 */
function refuseWhatCannotBeWritten(file: string): void {
  const existing = existsSync(file) ? writeRefusal(file) : undefined;
  if (existing) throw new LeakwatchError(`cannot write to ${file}: it ${existing}`);
  const dir = path.dirname(path.resolve(file));
  const sidecars = [`${file}-wal`, `${file}-shm`];
  // With both beside it and writable, SQLite writes without creating a file.
  if (existsSync(file) && sidecars.every((f) => existsSync(f) && writeRefusal(f) === undefined)) return;
  const directory = writeRefusal(dir);
  if (directory) {
    const creates = `${existsSync(file) ? '' : `${path.basename(file)}, `}${path.basename(file)}-wal and -shm`;
    throw new LeakwatchError(`cannot write to ${file}: its directory ${dir} ${directory}, and SQLite needs to create ${creates} there`);
  }
}

/** Whether a leakwatch database (or an empty SQLite file) is open on `client`, and its schema version. */
function inspect(client: Database.Database, file: string): { isNew: boolean; version: number } {
  const applicationId = client.pragma('application_id', { simple: true }) as number;
  const tables = client.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get() as { n: number };
  if (applicationId !== APPLICATION_ID) {
    if (applicationId === 0 && tables.n === 0) return { isNew: true, version: 0 };
    throw new LeakwatchError(`${file} is an SQLite database but not a leakwatch one; it was left untouched`);
  }
  const version = client.pragma('user_version', { simple: true }) as number;
  if (version > schemaVersion()) {
    throw new LeakwatchError(`${file} was written by a newer leakwatch (schema ${version}; this one knows up to ${schemaVersion()}); upgrade leakwatch`);
  }
  return { isNew: false, version };
}

/** Refuses a non-empty file that is not SQLite without opening it with SQLite; true for an empty file. */
function isEmptyOrSqlite(file: string): boolean {
  if (statSync(file).size === 0) return true;
  if (readHeader(file) !== SQLITE_HEADER) throw new LeakwatchError(`${file} is not a leakwatch database (not an SQLite file); it was left untouched`);
  return false;
}

/** Checks an existing file without writing to it: whether it is new (empty), and its schema version. */
function inspectExisting(file: string): { isNew: boolean; version: number } {
  if (isEmptyOrSqlite(file)) return { isNew: true, version: 0 };
  const probe = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return inspect(probe, file);
  } catch (error) {
    if (error instanceof LeakwatchError) throw error;
    throw databaseFault(error, file) ?? new LeakwatchError(`${file} cannot be read as a database: ${(error as Error).message}`);
  } finally {
    probe.close();
  }
}

/**
 * A reader scans: each page is read once, in order, and a 2 MB cache (SQLite's default) holds the indexes' pages
 * it comes back to. better-sqlite3 builds SQLite with 16 MB, which a long session's scan fills, as resident memory.
 */
const lessPageCache = (client: Database.Database) => client.pragma('cache_size = -2000');

/**
 * A read-only connection. A WAL database needs its -shm beside it, which SQLite cannot create in a directory this
 * process may not write (a read-only mount, another user's directory, chattr +i); better-sqlite3 is built without URI
 * filenames, so `immutable=1` is not available. Then the file (and its -wal, holding the last commits) is copied to
 * a private temporary directory and read there; the copy is removed when the connection closes.
 */
function readOnlyClient(file: string): Database.Database {
  let client: Database.Database | undefined;
  try {
    client = new Database(file, { readonly: true, fileMustExist: true });
    client.prepare('SELECT count(*) FROM sqlite_schema').get();
    return client;
  } catch (error) {
    client?.close();
    if (!(error instanceof Database.SqliteError) || !/^SQLITE_(CANTOPEN|READONLY)/.test(error.code)) throw error;
    return readOnlyCopy(file);
  }
}

function readOnlyCopy(file: string): Database.Database {
  const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-read-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', remove);
  try {
    const copy = path.join(dir, path.basename(file));
    copyFileSync(file, copy);
    if (existsSync(`${file}-wal`)) copyFileSync(`${file}-wal`, `${copy}-wal`);
    const client = new Database(copy, { readonly: true, fileMustExist: true });
    const close = client.close.bind(client);
    client.close = () => {
      close();
      remove();
      process.off('exit', remove);
      return client;
    };
    return client;
  } catch (error) {
    remove();
    throw error;
  }
}

/**
 * Brings the schema up to date inside one BEGIN IMMEDIATE transaction: two leakwatch processes starting on the same
 * new file take turns (busy_timeout), and a reader sees either an empty file or a complete database. drizzle's own
 * migrate() reads what is applied before it takes the lock, so two first runs at once would both create the tables.
 * `user_version` counts the migrations applied, in the journal's order. A database already up to date is not
 * written at all: opening it works on a full disk and while another connection holds the write lock.
 */
function migrateLocked(client: Database.Database, file: string): void {
  const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS });
  const state = () => ({
    applicationId: client.pragma('application_id', { simple: true }) as number,
    tables: (client.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get() as { n: number }).n,
    applied: client.pragma('user_version', { simple: true }) as number,
  });
  const before = state();
  if (before.applicationId === APPLICATION_ID && before.applied === migrations.length) return;
  client.exec('BEGIN IMMEDIATE');
  try {
    const { applicationId, tables, applied } = state();
    if (applicationId !== APPLICATION_ID && tables > 0) throw new LeakwatchError(`${file} is an SQLite database but not a leakwatch one; it was left untouched`);
    for (const migration of migrations.slice(applied)) for (const statement of migration.sql) if (statement.trim()) client.exec(statement);
    if (applicationId !== APPLICATION_ID) client.pragma(`application_id = ${APPLICATION_ID}`);
    if (applied !== migrations.length) client.pragma(`user_version = ${migrations.length}`);
    client.exec('COMMIT');
  } catch (error) {
    // A COMMIT that failed on a full disk has already rolled back: a second ROLLBACK would throw "no transaction is
    // active" and hide the real cause.
    if (client.inTransaction) client.exec('ROLLBACK');
    throw error;
  }
}

/**
 * Opens (creating and migrating if needed) a database for writing. WAL + synchronous=NORMAL: a committed
 * transaction survives a crash of leakwatch (kill -9); only a power loss can take the last few.
 */
export function openForWrite(file: string): Db {
  const dir = path.dirname(path.resolve(file));
  if (!existsSync(dir)) throw new LeakwatchError(`directory ${dir} does not exist`);
  refuseWhatIsNotAFile(file);
  refuseWhatCannotBeWritten(file);
  return explainingFaults(file, () => {
    if (existsSync(file)) inspectExisting(file);
    const client = new Database(file);
    try {
      client.pragma('busy_timeout = 5000');
      client.pragma('journal_mode = WAL');
      client.pragma('synchronous = NORMAL');
      client.pragma('foreign_keys = ON');
      migrateLocked(client, file);
    } catch (error) {
      client.close();
      throw error;
    }
    return drizzle(client, { schema });
  });
}

/**
 * Opens an existing leakwatch database read-only: works while a watch is writing to it, and where this process may
 * not write (see readOnlyClient). A database from an older leakwatch is first brought up to this schema (additive
 * migrations; no recorded data changes).
 */
export function openForRead(file: string): Db {
  refuseWhatIsNotAFile(file);
  if (!existsSync(file)) throw new LeakwatchError(`no database at ${file}`);
  try {
    accessSync(file, constants.R_OK);
  } catch {
    throw new LeakwatchError(`cannot read ${file}: permission denied for this user (uid ${process.getuid?.() ?? '?'})`);
  }
  const empty = new LeakwatchError(`${file} is empty: no sessions recorded yet`);
  if (isEmptyOrSqlite(file)) throw empty;
  return explainingFaults(file, () => {
    let client = readOnlyClient(file);
    try {
      const { isNew, version } = inspect(client, file);
      if (isNew) throw empty;
      if (version < schemaVersion()) {
        client.close();
        openForWrite(file).$client.close();
        client = readOnlyClient(file);
      }
      client.pragma('busy_timeout = 5000');
      lessPageCache(client);
    } catch (error) {
      client.close();
      throw error;
    }
    return drizzle(client, { schema });
  });
}

/** Which file a path names: its device and inode. */
export interface FileIdentity {
  dev: number;
  ino: number;
}

export function fileIdentity(file: string): FileIdentity | undefined {
  const stats = statSync(file, { throwIfNoEntry: false });
  return stats && { dev: stats.dev, ino: stats.ino };
}

/**
 * Whether `file` still names the file that was opened: SQLite goes on writing to a file deleted or replaced under it
 * (the open descriptor keeps the old inode), and everything written there is lost when it closes.
 */
export function fileFate(file: string, opened: FileIdentity): 'deleted' | 'replaced' | undefined {
  const now = fileIdentity(file);
  if (!now) return 'deleted';
  return now.dev === opened.dev && now.ino === opened.ino ? undefined : 'replaced';
}

/** A free name beside `file` for a copy of it: `<file>.rescued`, then `-2`, `-3`, … (never another file's name). */
export function rescuePath(file: string): string {
  let target = `${file}.rescued`;
  for (let n = 2; existsSync(target) || existsSync(`${target}-wal`); n++) target = `${file}.rescued-${n}`;
  return target;
}

/** Copies everything the open database holds to `target` (a new file), as one consistent snapshot (VACUUM INTO). */
export function saveCopy(db: Db, target: string): void {
  db.$client.prepare('VACUUM INTO ?').run(target);
}
