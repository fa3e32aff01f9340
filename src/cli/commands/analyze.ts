import { Command } from 'commander';
import { LeakwatchError } from '../../errors.js';
import type { Finding } from '../../analysis/types.js';
import { ANALYZED_ROWS, EXIT, GATED_ROWS, isGated, type Metric, type Row } from '../../vocabulary.js';
import { addExamples, addOutputOptions, dbOption, metricOption, outputFormat, parseSessionId, parseTypeList } from '../options.js';
import { printCsv, printJson, printText } from '../print.js';

const FORMATS = ['table', 'csv', 'json'] as const;

interface AnalyzeOptions {
  db: string;
  json?: boolean;
  format?: string;
  types?: Row[];
  failOnLeak?: boolean;
  junit?: string;
  metric: Metric;
}

export function analyzeCommand(): Command {
  const command = addOutputOptions(new Command('analyze'), FORMATS)
    .description('decide per memory type, for Native (Private + Heap) and the Total, whether a recorded session leaks: rate, onset, confidence, time to limit')
    .argument('<session>', 'session id (printed by watch/run)', parseSessionId)
    .addOption(dbOption('read'))
    .option('--types <list>', `comma-separated types and sums to judge, all of them gated (default: ${ANALYZED_ROWS.join(',')}, of which ${GATED_ROWS.join(',')} gated)`, (text: string) => parseTypeList(text, ANALYZED_ROWS))
    .addOption(metricOption())
    .option('--fail-on-leak', `exit ${EXIT.gateFailed} when a gated type or sum leaks`)
    .option('--junit <file>', 'also write JUnit XML: one test case per type, a leak is a failure')
    .action(async (id: number, options: AnalyzeOptions) => {
      const [{ analyseStoredSession }, { withReadOnlyDatabase }, { writeOutputFile }, { findingsTable, sessionHeading }, { junitXml }] = await Promise.all([
        import('../../session/analyse.js'),
        import('../../session/database.js'),
        import('../../session/output.js'),
        import('../../report/text.js'),
        import('../../report/junit.js'),
      ]);
      const analysed = await withReadOnlyDatabase(options.db, (db, alive) => analyseStoredSession(db, id, options.db, options.types ?? ANALYZED_ROWS, alive, options.metric));
      const { session, samples, durationSeconds, findings } = analysed;
      // Types named with --types are the gated set; by default the allocating types and Native are.
      const gated = (f: Finding) => (options.types ? options.types.includes(f.type) : isGated(f.type));
      const format = outputFormat(options, FORMATS);
      if (format === 'json') {
        printJson({ session: id, label: session.label, command: session.command, durationSeconds, samples, metric: options.metric, findings: findings.map((f) => ({ ...f, gated: gated(f) })) });
      } else if (format === 'csv') {
        printCsv(['type', 'gated', 'verdict', 'slopeBytesPerHour', 'ciLow', 'ciHigh', 'onsetSeconds', 'growthBytes', 'timeToLimitSeconds', 'confidence', 'explanation'],
          findings.map((f) => [f.type, gated(f), f.verdict, f.slopeBytesPerHour, f.ci[0], f.ci[1], f.onsetSeconds, f.growthBytes, f.timeToLimitSeconds, f.confidence, f.explanation]));
      } else {
        printText(`${sessionHeading(analysed)}\n\n${findingsTable(findings, gated)}`);
      }
      if (options.junit) writeOutputFile(options.junit, junitXml(id, session.command, findings, gated));
      if (options.failOnLeak && findings.some((f) => gated(f) && f.verdict === 'leak')) {
        throw new LeakwatchError('a gated memory type leaks (--fail-on-leak)', EXIT.gateFailed);
      }
    });
  return addExamples(command, [
    'leakwatch analyze 12',
    'leakwatch analyze 12 --fail-on-leak --junit leakwatch.xml   # in CI: exit 1 on a leak',
    'leakwatch analyze 12 --types heap,native --metric ws --json',
  ]);
}
