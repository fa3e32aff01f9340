import { Command } from 'commander';
import { LeakwatchError } from '../../errors.js';
import { EXIT, formatRate, isGated, type Metric, ROW_LABELS, VERDICT_LABELS } from '../../vocabulary.js';
import type { Finding } from '../../analysis/types.js';
import { addExamples, addOutputOptions, dbOption, metricOption, outputFormat, parseSessionId } from '../options.js';
import { printCsv, printJson, printText } from '../print.js';

const FORMATS = ['table', 'csv', 'json'] as const;

interface CompareOptions {
  db: string;
  json?: boolean;
  format?: string;
  failOnRegression?: boolean;
  metric: Metric;
}

const judged = (f: Finding) => (f.verdict === 'insufficient-data' ? VERDICT_LABELS[f.verdict] : `${VERDICT_LABELS[f.verdict]}, ${formatRate(f.slopeBytesPerHour)}`);

export function compareCommand(): Command {
  const command = addOutputOptions(new Command('compare'), FORMATS)
    .description('did session B leak more than session A? Per-type rates with CIs, the regression in words')
    .argument('<a>', 'session A (e.g. build N)', parseSessionId)
    .argument('<b>', 'session B (e.g. build N+1)', parseSessionId)
    .addOption(dbOption('read'))
    .option('--fail-on-regression', `exit ${EXIT.gateFailed} when a gated type or sum grows significantly faster in B`)
    .addOption(metricOption())
    .action(async (a: number, b: number, options: CompareOptions) => {
      const [{ compareSessions }, { renderTable, sessionHeading }] = await Promise.all([import('../../session/compare.js'), import('../../report/text.js')]);
      const comparison = await compareSessions(options.db, a, b, options.metric);
      const format = outputFormat(options, FORMATS);
      if (format === 'json') {
        printJson({ a, b, metric: options.metric, headline: comparison.headline, types: comparison.rows.map((r) => ({ type: r.type, gated: isGated(r.type), change: r.change, a: r.a, b: r.b, sentence: r.sentence })) });
      } else if (format === 'csv') {
        printCsv(['type', 'gated', 'change', 'aVerdict', 'aSlopeBytesPerHour', 'bVerdict', 'bSlopeBytesPerHour'],
          comparison.rows.map((r) => [r.type, isGated(r.type), r.change, r.a.verdict, r.a.slopeBytesPerHour, r.b.verdict, r.b.slopeBytesPerHour]));
      } else {
        const table = comparison.rows.map((r) => [ROW_LABELS[r.type] + (isGated(r.type) ? '' : ' (not gated)'), judged(r.a), judged(r.b), r.change]);
        printText([
          `A: ${sessionHeading(comparison.a).replace(/\n/g, '\n   ')}`,
          `B: ${sessionHeading(comparison.b).replace(/\n/g, '\n   ')}`,
          '',
          comparison.headline,
          '',
          renderTable([['TYPE', 'A', 'B', 'CHANGE'], ...table], new Set([0, 1, 2, 3])),
          '',
          ...comparison.rows.filter((r) => isGated(r.type) || r.change !== 'same').map((r) => `- ${r.sentence}`),
        ].join('\n'));
      }
      if (options.failOnRegression && comparison.rows.some((r) => isGated(r.type) && r.change === 'regression')) {
        throw new LeakwatchError(`session ${b} leaks more than session ${a} (--fail-on-regression)`, EXIT.gateFailed);
      }
    });
  return addExamples(command, ['leakwatch compare 11 12', 'leakwatch compare 11 12 --fail-on-regression   # in CI', 'leakwatch compare 11 12 --json']);
}
