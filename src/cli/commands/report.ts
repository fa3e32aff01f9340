import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { LeakwatchError } from '../../errors.js';
import { parseSessionId } from '../options.js';

interface ReportOptions {
  db: string;
  output?: string;
}

/** Writes the HTML report of a stored session; returns where it went. */
export async function writeReport(id: number, dbFile: string, output = `leakwatch-session-${id}.html`): Promise<string> {
  const [{ openForRead }, { chartJsSource, reportModel }, { renderReport }] = await Promise.all([
    import('../../db/open.js'),
    import('../analysis.js'),
    import('../../report/html.js'),
  ]);
  const db = openForRead(dbFile);
  let html: string;
  try {
    html = renderReport(reportModel(db, id, dbFile), chartJsSource());
  } finally {
    db.$client.close();
  }
  try {
    writeFileSync(output, html);
  } catch (error) {
    throw new LeakwatchError(`cannot write ${output}: ${(error as Error).message}`);
  }
  return output;
}

export function reportCommand(): Command {
  return new Command('report')
    .description('write a self-contained HTML report of a session: verdicts, charts, regions, latest sample')
    .argument('<session>', 'session id', parseSessionId)
    .option('--db <file>', 'SQLite database to read', 'leakwatch.db')
    .option('-o, --output <file>', 'where to write the report (default: leakwatch-session-<id>.html)')
    .action(async (id: number, options: ReportOptions) => {
      const output = await writeReport(id, options.db, options.output);
      process.stdout.write(`report written to ${output}\n`);
    });
}
