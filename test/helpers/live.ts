/** What the live tests share around a running CLI: waiting for a condition, reading its database, its JSON line. */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import type { CliResult } from './cli.js';
import { repoRoot } from './targets.js';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The last line of stdout as JSON: `--json` puts its result there. */
export const lastJsonLine = (result: CliResult) => JSON.parse(result.stdout.trimEnd().split('\n').at(-1)!);

/** Waits for a condition, checked every 50 ms: no test leans on how long something takes. */
export async function until(what: string, done: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Rows of a query on a database, opened read-only for that query alone. */
export function query<T>(file: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** The CLI in the background (to signal it, or to write to the command's stdin), its output readable while it runs. */
export function startCli(args: string[], { env = {}, stdin = 'ignore' }: { env?: NodeJS.ProcessEnv; stdin?: 'pipe' | 'ignore' } = {}) {
  const child = spawn(process.execPath, [path.join(repoRoot(), 'bin', 'leakwatch.js'), ...args], {
    stdio: [stdin, 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const output = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (output.stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (output.stderr += c));
  const done = once(child, 'close').then(([code]): CliResult => ({ code: code as number | null, ...output }));
  return { child, output, done };
}
