import { Command } from 'commander';
import { LeakwatchError } from '../../errors.js';
import { formatBytes } from '../../vocabulary.js';
import { addExamples, addOutputOptions, dbOption, outputFormat, parseCount, parseSessionId, parseTimePoint } from '../options.js';
import { printCsv, printJson, printText } from '../print.js';

const FORMATS = ['table', 'csv', 'json'] as const;

interface RegionsOptions {
  db: string;
  at?: string;
  diff?: string;
  top: number;
  json?: boolean;
  format?: string;
}

const signed = (bytes: number) => `${bytes >= 0 ? '+' : ''}${formatBytes(bytes)}`;

export function regionsCommand(): Command {
  const command = addOutputOptions(new Command('regions'), FORMATS)
    .description('the region list of a session rebuilt at a time, or what changed between two times')
    .argument('<session>', 'session id', parseSessionId)
    .addOption(dbOption('read'))
    .option('--at <time>', 'rebuild the regions at this time (10m, 2h, ISO; default: the last tick)')
    .option('--diff <from..to>', 'what changed between two times, e.g. 0s..40s or 1h..3h')
    .option('--top <n>', 'show this many regions, largest (or largest change) first', parseCount('--top'), 20)
    .action(async (id: number, options: RegionsOptions) => {
      const [{ regionsAt, regionsDiff }, { printable, renderTable }] = await Promise.all([import('../../session/regions.js'), import('../../report/text.js')]);
      const format = outputFormat(options, FORMATS);
      if (options.diff !== undefined) {
        const [from, to, ...rest] = options.diff.split('..');
        if (!from || !to || rest.length > 0) throw new LeakwatchError(`--diff needs <from>..<to>, e.g. 0s..40s or 1h..3h, got '${options.diff}'`);
        const changes = await regionsDiff(options.db, id, from, to, options.top, parseTimePoint);
        if (format === 'json') return void printJson(changes);
        if (format === 'csv') return void printCsv(['pid', 'change', 'start', 'end', 'type', 'protection', 'committedDelta', 'details'], changes.map((c) => [c.pid, c.change, c.start, c.end, c.type, c.protection, c.committedDelta, c.details]));
        const rows = changes.map((c) => [String(c.pid), c.change, `${c.start}-${c.end}`, c.type, c.protection, signed(c.committedDelta), printable(c.details)]);
        return void printText(renderTable([['PID', 'CHANGE', 'ADDRESS', 'TYPE', 'PROT', 'COMMITTED Δ', 'DETAILS'], ...rows], 'all'));
      }
      const regions = await regionsAt(options.db, id, options.at, options.top, parseTimePoint);
      if (format === 'json') return void printJson(regions);
      if (format === 'csv') return void printCsv(['pid', 'start', 'end', 'type', 'protection', 'size', 'committed', 'details'], regions.map((r) => [r.pid, r.start, r.end, r.type, r.protection, r.size, r.committed, r.details]));
      const rows = regions.map((r) => [String(r.pid), `${r.start}-${r.end}`, r.type, r.protection, formatBytes(r.size), formatBytes(r.committed), printable(r.details)]);
      printText(renderTable([['PID', 'ADDRESS', 'TYPE', 'PROT', 'SIZE', 'COMMITTED', 'DETAILS'], ...rows], 'all'));
    });
  return addExamples(command, ['leakwatch regions 12 --top 10', 'leakwatch regions 12 --at 2h', 'leakwatch regions 12 --diff 0s..12h --json']);
}
