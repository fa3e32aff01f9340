/** What the commands share around their work: a read-only database for the length of a task, and writing a file. */
import { writeFileSync } from 'node:fs';
import type { Db } from '../db/open.js';
import { LeakwatchError } from '../errors.js';

/** Opens the database read-only, runs `use`, and closes it whatever happens. */
export async function withReadOnlyDatabase<T>(file: string, use: (db: Db) => T | Promise<T>): Promise<T> {
  const { openForRead } = await import('../db/open.js');
  const db = openForRead(file);
  try {
    return await use(db);
  } finally {
    db.$client.close();
  }
}

/** Writes an output file; a failure (missing directory, no permission) is a one-line error. */
export function writeOutputFile(file: string, content: string): void {
  try {
    writeFileSync(file, content);
  } catch (error) {
    throw new LeakwatchError(`cannot write ${file}: ${(error as Error).message}`);
  }
}
