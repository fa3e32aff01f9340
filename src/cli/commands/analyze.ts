import { Command } from 'commander';
import type { MemoryType } from '../../collector/types.js';
import { LeakwatchError } from '../../errors.js';
import { ANALYZED_TYPES, isGated } from '../../analysis/session.js';
import { findingsTable } from '../../report/text.js';
import { junitXml } from '../../report/junit.js';
import { withReadOnlyDatabase, writeOutputFile } from '../io.js';
import { parseSessionId, parseTypeList } from '../options.js';

interface AnalyzeOptions {
  db: string;
  json?: boolean;
  types?: MemoryType[];
  failOnLeak?: boolean;
  junit?: string;
}

/** Exit code when --fail-on-leak finds a leak in a gated type. */
const EXIT_LEAK = 1;

export function analyzeCommand(): Command {
  return new Command('analyze')
    .description('decide per memory type whether a recorded session leaks: rate, onset, confidence, time to limit')
    .argument('<session>', 'session id (printed by watch/run)', parseSessionId)
    .option('--db <file>', 'SQLite database to read', 'leakwatch.db')
    .option('--json', 'print the findings as JSON')
    .option('--types <list>', `comma-separated types (default: ${ANALYZED_TYPES.join(',')})`, (text: string) => parseTypeList(text, ANALYZED_TYPES))
    .option('--fail-on-leak', `exit ${EXIT_LEAK} when a gated type (private, heap, managedHeap, stack) leaks`)
    .option('--junit <file>', 'also write JUnit XML: one test case per type, a leak is a failure')
    .action(async (id: number, options: AnalyzeOptions) => {
      const { analyseStoredSession } = await import('../analysis.js');
      const { session, samples, durationSeconds, findings } = await withReadOnlyDatabase(options.db, (db, alive) =>
        analyseStoredSession(db, id, options.db, options.types ?? ANALYZED_TYPES, alive),
      );
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ session: id, durationSeconds, samples, findings })}\n`);
      } else {
        process.stdout.write(`session ${id}: ${samples} samples over ${durationSeconds} s\n\n${findingsTable(findings, (f) => isGated(f.type))}\n`);
      }
      if (options.junit) writeOutputFile(options.junit, junitXml(id, session.command, findings, (f) => isGated(f.type)));
      if (options.failOnLeak && findings.some((f) => isGated(f.type) && f.verdict === 'leak')) {
        throw new LeakwatchError('a gated memory type leaks (--fail-on-leak)', EXIT_LEAK);
      }
    });
}
