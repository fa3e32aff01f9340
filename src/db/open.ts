/**
 * Opening the database: refuse files that are not ours (and leave them untouched), refuse a schema newer than this
 * build knows, migrate our own, and set the pragmas that make "a sample written is a sample kept" true.
 */
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LeakwatchError } from '../errors.js';
import * as schema from './schema.js';

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

/** Checks an existing file without writing to it: whether it is new (empty), and its schema version. */
function inspectExisting(file: string): { isNew: boolean; version: number } {
  if (statSync(file).isDirectory()) throw new LeakwatchError(`${file} is a directory, not a database file`);
  if (statSync(file).size === 0) return { isNew: true, version: 0 };
  if (readHeader(file) !== SQLITE_HEADER) throw new LeakwatchError(`${file} is not a leakwatch database (not an SQLite file); it was left untouched`);
  const probe = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const applicationId = probe.pragma('application_id', { simple: true }) as number;
    const tables = probe.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get() as { n: number };
    if (applicationId !== APPLICATION_ID) {
      if (applicationId === 0 && tables.n === 0) return { isNew: true, version: 0 };
      throw new LeakwatchError(`${file} is an SQLite database but not a leakwatch one; it was left untouched`);
    }
    const version = probe.pragma('user_version', { simple: true }) as number;
    if (version > schemaVersion()) {
      throw new LeakwatchError(`${file} was written by a newer leakwatch (schema ${version}; this one knows up to ${schemaVersion()}); upgrade leakwatch`);
    }
    return { isNew: false, version };
  } catch (error) {
    if (error instanceof LeakwatchError) throw error;
    throw new LeakwatchError(`${file} cannot be read as a database: ${(error as Error).message}`);
  } finally {
    probe.close();
  }
}

/**
 * Brings the schema up to date inside one BEGIN IMMEDIATE transaction: two leakwatch processes starting on the same
 * new file take turns (busy_timeout), and a reader sees either an empty file or a complete database. drizzle's own
 * migrate() reads what is applied before it takes the lock, so two first runs at once would both create the tables.
 * `user_version` counts the migrations applied, in the journal's order.
 */
function migrateLocked(client: Database.Database, file: string): void {
  const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS });
  client.exec('BEGIN IMMEDIATE');
  try {
    const applicationId = client.pragma('application_id', { simple: true }) as number;
    const tables = client.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get() as { n: number };
    if (applicationId !== APPLICATION_ID && tables.n > 0) throw new LeakwatchError(`${file} is an SQLite database but not a leakwatch one; it was left untouched`);
    const applied = client.pragma('user_version', { simple: true }) as number;
    for (const migration of migrations.slice(applied)) for (const statement of migration.sql) if (statement.trim()) client.exec(statement);
    client.pragma(`application_id = ${APPLICATION_ID}`);
    client.pragma(`user_version = ${migrations.length}`);
    client.exec('COMMIT');
  } catch (error) {
    client.exec('ROLLBACK');
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
  if (existsSync(file)) inspectExisting(file);
  const client = new Database(file);
  client.pragma('busy_timeout = 5000');
  client.pragma('journal_mode = WAL');
  client.pragma('synchronous = NORMAL');
  client.pragma('foreign_keys = ON');
  migrateLocked(client, file);
  return drizzle(client, { schema });
}

/**
 * Opens an existing leakwatch database read-only: works while a watch is writing to it. A database from an older
 * leakwatch is first brought up to this schema (additive migrations; no recorded data changes).
 */
export function openForRead(file: string): Db {
  if (!existsSync(file)) throw new LeakwatchError(`no database at ${file}`);
  const { isNew, version } = inspectExisting(file);
  if (isNew) throw new LeakwatchError(`${file} is empty: no sessions recorded yet`);
  if (version < schemaVersion()) openForWrite(file).$client.close();
  const client = new Database(file, { readonly: true, fileMustExist: true });
  client.pragma('busy_timeout = 5000');
  return drizzle(client, { schema });
}
