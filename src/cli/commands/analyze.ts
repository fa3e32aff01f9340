import { Command } from 'commander';
import { LeakwatchError } from '../../errors.js';

import type { Finding } from '../../analysis/types.js';
import { findingsTable } from '../../report/text.js';
import { junitXml } from '../../report/junit.js';
import { withReadOnlyDatabase, writeOutputFile } from '../io.js';
import { metricOption, parseSessionId, parseTypeList } from '../options.js';
import { ANALYZED_ROWS, GATED_ROWS, isGated, type Metric, type Row } from '../../vocabulary.js';

interface AnalyzeOptions {
  db: string;
  json?: boolean;
  types?: Row[];
  failOnLeak?: boolean;
  junit?: string;
  metric: Metric;
}

/** Exit code when --fail-on-leak finds a leak in a gated type. */
const EXIT_LEAK = 1;

export function analyzeCommand(): Command {
  return new Command('analyze')
    .description('decide per memory type, for Native (Private + Heap) and the Total, whether a recorded session leaks: rate, onset, confidence, time to limit')
    .argument('<session>', 'session id (printed by watch/run)', parseSessionId)
    .option('--db <file>', 'SQLite database to read', 'leakwatch.db')
    .option('--json', 'print the findings as JSON')
    .option('--types <list>', `comma-separated types and sums to judge, all of them gated (default: ${ANALYZED_ROWS.join(',')}, of which ${GATED_ROWS.join(',')} gated)`, (text: string) => parseTypeList(text, ANALYZED_ROWS))
    .addOption(metricOption())
    .option('--fail-on-leak', `exit ${EXIT_LEAK} when a gated type or sum leaks`)
    .option('--junit <file>', 'also write JUnit XML: one test case per type, a leak is a failure')
    .action(async (id: number, options: AnalyzeOptions) => {
      const { analyseStoredSession } = await import('../analysis.js');
      const { session, samples, durationSeconds, findings } = await withReadOnlyDatabase(options.db, (db, alive) =>
        analyseStoredSession(db, id, options.db, options.types ?? ANALYZED_ROWS, alive, options.metric),
      );
      // Types named with --types are the gated set; by default the allocating types and Native are.
      const gated = (f: Finding) => (options.types ? options.types.includes(f.type) : isGated(f.type));
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ session: id, durationSeconds, samples, metric: options.metric, findings })}\n`);
      } else {
        const judged = options.metric === 'ws' ? ' (judging the working set: the ticks that read it)' : '';
        process.stdout.write(`session ${id}: ${samples} samples over ${durationSeconds} s${judged}\n\n${findingsTable(findings, gated)}\n`);
      }
      if (options.junit) writeOutputFile(options.junit, junitXml(id, session.command, findings, gated));
      if (options.failOnLeak && findings.some((f) => gated(f) && f.verdict === 'leak')) {
        throw new LeakwatchError('a gated memory type leaks (--fail-on-leak)', EXIT_LEAK);
      }
    });
}
