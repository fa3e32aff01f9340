import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { LeakwatchError } from '../../errors.js';
import { parseSessionId } from '../options.js';

interface ReportOptions {
  db: string;
  output?: string;
  png?: string;
}

/** Writes the HTML report of a stored session (and its charts as PNG files into `pngDir`); returns the files. */
export async function writeReport(id: number, dbFile: string, output = `leakwatch-session-${id}.html`, pngDir?: string): Promise<string[]> {
  const [{ openForRead }, { chartJsSource, reportModel }, { chartSpecs, renderReport }] = await Promise.all([
    import('../../db/open.js'),
    import('../analysis.js'),
    import('../../report/html.js'),
  ]);
  const db = openForRead(dbFile);
  let html: string;
  let pngs: string[] = [];
  try {
    const model = reportModel(db, id, dbFile);
    if (pngDir !== undefined) {
      const { writePngs } = await import('../../report/png.js');
      pngs = await writePngs(chartSpecs(model), model.t.at(-1) ?? 0, pngDir, `session-${id}`);
    }
    html = renderReport(model, chartJsSource());
  } finally {
    db.$client.close();
  }
  try {
    writeFileSync(output, html);
  } catch (error) {
    throw new LeakwatchError(`cannot write ${output}: ${(error as Error).message}`);
  }
  return [output, ...pngs];
}

export function reportCommand(): Command {
  return new Command('report')
    .description('write a self-contained HTML report of a session: verdicts, charts, regions, latest sample')
    .argument('<session>', 'session id', parseSessionId)
    .option('--db <file>', 'SQLite database to read', 'leakwatch.db')
    .option('-o, --output <file>', 'where to write the report (default: leakwatch-session-<id>.html)')
    .option('--png <dir>', 'also write every chart as a PNG file into this directory (needs the optional canvas package)')
    .action(async (id: number, options: ReportOptions) => {
      const [output, ...pngs] = await writeReport(id, options.db, options.output, options.png);
      process.stdout.write(`report written to ${output}\n${pngs.map((f) => `chart written to ${f}\n`).join('')}`);
    });
}
