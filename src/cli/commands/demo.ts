import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { committedChange } from '../../db/read.js';
import { changeTable } from '../../report/text.js';
import { record, type WatchOptions } from '../recording.js';

const DEMO_TARGET = fileURLToPath(new URL('../../../../demo/leaky-server.mjs', import.meta.url));

export function demoCommand(): Command {
  return new Command('demo')
    .description('run the bundled leaking demo program under `run` and show how its memory changed')
    .option('--duration <duration>', 'how long to watch it', '20s')
    .option('--every <interval>', 'sample interval', '1s')
    .option('--db <file>', 'SQLite database to write', 'leakwatch.db')
    .action(async (options: Pick<WatchOptions, 'duration' | 'every' | 'db'>) => {
      process.stdout.write(`Running ${DEMO_TARGET} (it leaks ~2 MB/s: JS objects and native buffers) for ${options.duration}...\n`);
      const { startChild } = await import('../../watch/child.js');
      const result = await record(async () => {
        const argv = [process.execPath, DEMO_TARGET];
        // The demo's own ready line is not for the user: keep its output out of the demo's.
        const child = await startChild(argv, 'ignore');
        return { pid: child.pid, mode: 'run', command: argv.join(' '), child };
      }, { ...options, label: 'demo', children: true });
      const { openForRead } = await import('../../db/open.js');
      const db = openForRead(options.db);
      try {
        process.stdout.write(`\nAfter start-up (the first quarter of the samples is skipped):\n${changeTable(committedChange(db, result.session, 0.25))}\n`);
      } finally {
        db.$client.close();
      }
    });
}
