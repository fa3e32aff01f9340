/** The database around a task: opened for it, closed after it whatever happens. */
import type { Db } from '../db/open.js';
import type { CollectorAlive } from '../db/read.js';
import { LeakwatchError } from '../errors.js';

/**
 * Whether a collector process still runs, judged by this platform's collector; where there is none, sessions are
 * read as stored.
 */
export async function collectorAlive(): Promise<CollectorAlive> {
  const { loadCollector } = await import('../collector/index.js');
  try {
    const collector = await loadCollector();
    return (pid, startTime) => collector.startTimeOf(pid) === startTime;
  } catch (error) {
    if (error instanceof LeakwatchError) return () => true;
    throw error;
  }
}

/**
 * Opens the database, read-only or for writing (created and migrated on first use), runs `use` with it and a judge of
 * which sessions are still being recorded, and closes it whatever happens. A database failure on the way (damaged
 * pages, a full disk, a lock held too long) is one line naming the cause and what to do, exit 2.
 */
async function withDatabase<T>(file: string, access: 'read' | 'write', use: (db: Db, alive: CollectorAlive) => T | Promise<T>): Promise<T> {
  const [{ openForRead, openForWrite }, { databaseFault }, alive] = await Promise.all([import('../db/open.js'), import('../db/faults.js'), collectorAlive()]);
  const db = access === 'read' ? openForRead(file) : openForWrite(file);
  try {
    return await use(db, alive);
  } catch (error) {
    throw databaseFault(error, file) ?? error;
  } finally {
    db.$client.close();
  }
}

export const withReadOnlyDatabase = <T>(file: string, use: (db: Db, alive: CollectorAlive) => T | Promise<T>) => withDatabase(file, 'read', use);
export const withWritableDatabase = <T>(file: string, use: (db: Db, alive: CollectorAlive) => T | Promise<T>) => withDatabase(file, 'write', use);
