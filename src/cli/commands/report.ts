import { Command } from 'commander';
import { LeakwatchError } from '../../errors.js';
import type { Metric } from '../../vocabulary.js';
import { addExamples, dbOption, metricOption, parseSessionId } from '../options.js';
import { printJson, printText } from '../print.js';

interface ReportOptions {
  db: string;
  output?: string;
  png?: string;
  compare?: string[];
  metric: Metric;
  json?: boolean;
}

export function reportCommand(): Command {
  const command = new Command('report')
    .description('write a self-contained HTML report of a session: verdicts, charts, regions, latest sample')
    .argument('[session]', 'session id')
    .addOption(dbOption('read'))
    .option('-o, --output <file>', 'where to write the report (default: leakwatch-session-<id>.html, or leakwatch-compare-<a>-<b>.html)')
    .option('--png <dir>', 'also write every chart as a PNG file into this directory (needs the optional canvas package)')
    .option('--compare <sessions...>', 'two session ids, A then B (e.g. build N and N+1): a side-by-side report instead')
    .addOption(metricOption())
    .option('--json', 'print {"report","pngs"} (the files written) instead of a sentence')
    .action(async (sessionText: string | undefined, options: ReportOptions) => {
      const { writeComparison, writeReport } = await import('../../session/report.js');
      if (options.compare) {
        const ids = [...(sessionText === undefined ? [] : [sessionText]), ...options.compare].map(parseSessionId);
        if (ids.length !== 2) throw new LeakwatchError(`--compare needs exactly two session ids, got ${ids.length}`);
        if (options.png) throw new LeakwatchError('--png cannot be used with --compare');
        const report = await writeComparison(ids[0], ids[1], options.db, options.output, options.metric);
        return void (options.json ? printJson({ report, pngs: [] }) : printText(`comparison written to ${report}`));
      }
      if (sessionText === undefined) throw new LeakwatchError('report needs a session id (or --compare <A> <B>)');
      const { html, pngs } = await writeReport(parseSessionId(sessionText), options.db, options.output, options.png, options.metric);
      if (options.json) printJson({ report: html, pngs });
      else printText([`report written to ${html}`, ...pngs.map((f) => `chart written to ${f}`)].join('\n'));
    });
  return addExamples(command, [
    'leakwatch report 12 -o leak-report.html',
    'leakwatch report 12 --png charts/   # PNG files to attach to a ticket',
    'leakwatch report --compare 11 12    # build N against build N+1',
  ]);
}
