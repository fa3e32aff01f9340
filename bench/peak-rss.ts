/**
 * One measured child of the long-session benchmark: runs a leakwatch command in this process (`cli <args...>`), or
 * for the baseline only reads every stored value of a session's samples (`rows <db> <session>`), then writes its
 * peak RSS in KiB to fd 3.
 */
import Database from 'better-sqlite3';
import { writeSync } from 'node:fs';
import { main } from '../src/cli/index.js';

const [mode, ...args] = process.argv.slice(2);
if (mode === 'rows') {
  const db = new Database(args[0], { readonly: true });
  let values = 0;
  for (const row of db.prepare('SELECT * FROM samples WHERE session_id = ? ORDER BY seq').raw().iterate(Number(args[1])) as Iterable<unknown[]>) values += row.length;
  db.close();
  process.stdout.write(`${values} values\n`);
} else {
  process.exitCode = await main([process.argv[0], process.argv[1], ...args]);
}
writeSync(3, String(process.resourceUsage().maxRSS));
