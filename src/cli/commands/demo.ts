import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';

import { analyseStoredSession } from '../analysis.js';
import { withReadOnlyDatabase } from '../io.js';
import { findingsTable } from '../../report/text.js';
import { record, type WatchOptions } from '../recording.js';
import { writeReport } from './report.js';
import { ANALYZED_ROWS, isGated } from '../../vocabulary.js';

const DEMO_TARGET = fileURLToPath(new URL('../../../../demo/leaky-server.mjs', import.meta.url));

export function demoCommand(): Command {
  return new Command('demo')
    .description('run the bundled leaking demo program under `run`, analyse the session and write its HTML report')
    .option('--duration <duration>', 'how long to watch it (a V8 heap needs a few GC cycles to judge)', '60s')
    .option('--every <interval>', 'sample interval', '250ms')
    .option('--db <file>', 'SQLite database to write', 'leakwatch.db')
    .action(async (options: Pick<WatchOptions, 'duration' | 'every' | 'db'>) => {
      process.stdout.write(`Running ${DEMO_TARGET} (it leaks ~2 MB/s: JS objects and native buffers) for ${options.duration}...\n`);
      const { startChild } = await import('../../watch/child.js');
      const result = await record(async () => {
        const argv = [process.execPath, '--expose-gc', DEMO_TARGET];
        // The demo's own ready line is not for the user: keep its output out of the demo's.
        const child = await startChild(argv, 'ignore');
        return { targets: { kind: 'pid', pid: child.pid }, follow: false, mode: 'run', command: argv.join(' '), child };
      }, { ...options, label: 'demo', children: true, progress: '5m' });
      const { session } = result;
      const { findings } = await withReadOnlyDatabase(options.db, (db, alive) => analyseStoredSession(db, session, options.db, ANALYZED_ROWS, alive));
      process.stdout.write(`\n${findingsTable(findings, (f) => isGated(f.type))}\n`);
      const [report] = await writeReport(session, options.db, path.join(path.dirname(options.db), 'leakwatch-demo-report.html'));
      process.stdout.write(`\nThe report with charts: ${path.resolve(report)} (open it in a browser)\nAgain from the database: npx leakwatch analyze ${session} --db ${options.db}\n`);
    });
}
