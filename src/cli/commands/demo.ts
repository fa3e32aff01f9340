import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { ANALYZED_ROWS, isGated } from '../../vocabulary.js';
import { addExamples, dbOption } from '../options.js';
import { printJson, printText } from '../print.js';

const DEMO_TARGET = fileURLToPath(new URL('../../../../demo/leaky-server.mjs', import.meta.url));

interface DemoOptions {
  duration: string;
  every: string;
  db: string;
  json?: boolean;
}

export function demoCommand(): Command {
  const command = new Command('demo')
    .description('run the bundled leaking demo program under `run`, analyse the session and write its HTML report')
    .option('--duration <duration>', 'how long to watch it (a V8 heap needs a few GC cycles to judge)', '60s')
    .addOption(new Option('--every <interval>', 'sample interval').default('250ms'))
    .addOption(dbOption('write'))
    .option('--json', 'print {"session","samples","findings","report"} instead of tables')
    .action(async (options: DemoOptions) => {
      const [{ startChild }, { record }, { analyseStoredSession }, { withReadOnlyDatabase }, { writeReport }, { findingsTable }] = await Promise.all([
        import('../../watch/child.js'),
        import('../../session/record.js'),
        import('../../session/analyse.js'),
        import('../../session/database.js'),
        import('../../session/report.js'),
        import('../../report/text.js'),
      ]);
      const { session, samples } = await record(async () => {
        // Said once the options and the database have been checked: a typo prints only its error.
        if (!options.json) printText(`Running ${DEMO_TARGET} (it leaks ~2 MB/s: JS objects and native buffers) for ${options.duration}...`);
        const argv = [process.execPath, '--expose-gc', DEMO_TARGET];
        // The demo's own ready line is not for the user: keep its output out of the demo's.
        const child = await startChild(argv, 'ignore');
        return { targets: { kind: 'pid', pid: child.pid }, follow: false, mode: 'run', command: argv.join(' '), child };
      }, { ...options, json: false, quiet: options.json, label: 'demo', children: true, progress: '5m' }, { closingLine: !options.json });
      const { findings } = await withReadOnlyDatabase(options.db, (db, alive) => analyseStoredSession(db, session, options.db, ANALYZED_ROWS, alive));
      const { html } = await writeReport(session, options.db, path.join(path.dirname(options.db), 'leakwatch-demo-report.html'));
      if (options.json) return void printJson({ session, samples, findings, report: path.resolve(html) });
      printText(`\n${findingsTable(findings, (f) => isGated(f.type))}`);
      printText(`\nThe report with charts: ${path.resolve(html)} (open it in a browser)\nAgain from the database: npx leakwatch analyze ${session} --db ${options.db}`);
    });
  return addExamples(command, ['leakwatch demo', 'leakwatch demo --duration 2m --db /tmp/demo.db', 'leakwatch demo --json']);
}
