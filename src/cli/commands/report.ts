import { Command } from 'commander';
import { LeakwatchError } from '../../errors.js';
import { withReadOnlyDatabase, writeOutputFile } from '../io.js';
import { metricOption, parseSessionId } from '../options.js';
import type { Metric } from '../../analysis/types.js';

interface ReportOptions {
  db: string;
  output?: string;
  png?: string;
  compare?: string[];
  metric: Metric;
}

/** Writes the HTML report of a stored session (and its charts as PNG files into `pngDir`); returns the files. */
export async function writeReport(id: number, dbFile: string, output = `leakwatch-session-${id}.html`, pngDir?: string, metric: Metric = 'committed'): Promise<string[]> {
  const [{ chartJsSource, reportModel }, { renderReport }] = await Promise.all([import('../analysis.js'), import('../../report/html.js')]);
  const { html, pngs } = await withReadOnlyDatabase(dbFile, async (db, alive) => {
    const model = reportModel(db, id, dbFile, alive, metric);
    const pngFiles = pngDir === undefined
      ? []
      : await (await import('../../report/png.js')).writePngs(model, pngDir, `session-${id}`);
    return { html: renderReport(model, chartJsSource()), pngs: pngFiles };
  });
  writeOutputFile(output, html);
  return [output, ...pngs];
}

/** Writes the side-by-side HTML comparison of two stored sessions; returns where it went. */
async function writeComparison(a: number, b: number, dbFile: string, output = `leakwatch-compare-${a}-${b}.html`, metric: Metric = 'committed'): Promise<string> {
  const [{ chartJsSource, reportModel }, { renderComparison }] = await Promise.all([import('../analysis.js'), import('../../report/html.js')]);
  const html = await withReadOnlyDatabase(dbFile, (db, alive) =>
    renderComparison(reportModel(db, a, dbFile, alive, metric), reportModel(db, b, dbFile, alive, metric), chartJsSource()),
  );
  writeOutputFile(output, html);
  return output;
}

export function reportCommand(): Command {
  return new Command('report')
    .description('write a self-contained HTML report of a session: verdicts, charts, regions, latest sample')
    .argument('[session]', 'session id')
    .option('--db <file>', 'SQLite database to read', 'leakwatch.db')
    .option('-o, --output <file>', 'where to write the report (default: leakwatch-session-<id>.html)')
    .option('--png <dir>', 'also write every chart as a PNG file into this directory (needs the optional canvas package)')
    .option('--compare <sessions...>', 'two session ids, A then B (e.g. build N and N+1): a side-by-side report instead')
    .addOption(metricOption())
    .action(async (sessionText: string | undefined, options: ReportOptions) => {
      if (options.compare) {
        const ids = [...(sessionText === undefined ? [] : [sessionText]), ...options.compare].map(parseSessionId);
        if (ids.length !== 2) throw new LeakwatchError(`--compare needs exactly two session ids, got ${ids.length}`);
        if (options.png) throw new LeakwatchError('--png cannot be used with --compare');
        process.stdout.write(`comparison written to ${await writeComparison(ids[0], ids[1], options.db, options.output, options.metric)}\n`);
        return;
      }
      if (sessionText === undefined) throw new LeakwatchError('report needs a session id (or --compare <A> <B>)');
      const [output, ...pngs] = await writeReport(parseSessionId(sessionText), options.db, options.output, options.png, options.metric);
      process.stdout.write(`report written to ${output}\n${pngs.map((f) => `chart written to ${f}\n`).join('')}`);
    });
}
