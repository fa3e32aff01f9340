import { Command, Option } from 'commander';
import type { Aggregate } from '../../analysis/resample.js';
import { formatBytes, formatElapsed, MEMORY_TYPES, type MemoryType, parseDuration } from '../../vocabulary.js';
import { addExamples, addOutputOptions, dbOption, outputFormat, parseSessionId, parseTimePoint, parseTypeList } from '../options.js';

const FORMATS = ['table', 'csv', 'json'] as const;

interface QueryOptions {
  db: string;
  types?: MemoryType[];
  from?: string;
  to?: string;
  every?: string;
  agg: Aggregate;
  json?: boolean;
  format?: string;
}

export function queryCommand(): Command {
  const command = addOutputOptions(new Command('query'), FORMATS)
    .description('committed bytes per type over a time range of a session, optionally resampled')
    .argument('<session>', 'session id', parseSessionId)
    .addOption(dbOption('read'))
    .option('--types <list>', 'comma-separated types (default: all but free)', (text: string) => parseTypeList(text, MEMORY_TYPES))
    .option('--from <time>', 'start: a duration after the session start (0s, 10m) or an ISO time')
    .option('--to <time>', 'end: a duration after the session start (2h) or an ISO time')
    .option('--every <interval>', 'one row per interval (1m, 1h)')
    .addOption(new Option('--agg <aggregate>', 'how --every reduces a bucket').choices(['max', 'avg', 'last']).default('max'))
    .action(async (id: number, options: QueryOptions) => {
      const every = options.every === undefined ? undefined : parseDuration(options.every, '--every') / 1000;
      // Free is address space, not memory: asked for by name only.
      const types = options.types ?? MEMORY_TYPES.filter((t) => t !== 'free');
      const format = outputFormat(options, FORMATS);
      const [{ querySession }, { writeStreamed }, { csvRows, jsonRows }, { tableLines }] = await Promise.all([
        import('../../session/query.js'),
        import('../../session/output.js'),
        import('../../report/rows.js'),
        import('../../report/text.js'),
      ]);
      await querySession(options.db, id, { types, from: options.from, to: options.to, every, aggregate: options.agg }, parseTimePoint, (session, rows) => {
        if (format === 'csv') return writeStreamed(csvRows(types, rows(), session.startedAt));
        if (format === 'json') return writeStreamed(jsonRows(types, rows(), session.startedAt));
        // Sub-second rows would repeat a whole second: show milliseconds when rows can be closer than that.
        const precision = (every ?? (session.intervalMs ?? 1000) / 1000) < 1 ? 'ms' : 's';
        const cells = function* () {
          yield ['ELAPSED', ...types];
          for (const row of rows()) yield [formatElapsed(row.seconds * 1000, precision), ...row.values.map(formatBytes)];
        };
        return writeStreamed(tableLines(cells, 'all'));
      });
    });
  return addExamples(command, [
    'leakwatch query 12 --types heap,private --from 1h --to 3h',
    'leakwatch query 12 --every 10m --agg max',
    'leakwatch query 12 --format csv > series.csv',
  ]);
}
