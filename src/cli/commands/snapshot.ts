import { Command } from 'commander';
import type { TotalColumn } from '../../vocabulary.js';
import { MEMORY_TYPES, TOTAL_COLUMNS } from '../../vocabulary.js';
import { regionTable, snapshotHeading, sortRegions, typeTable } from '../../report/text.js';
import { addExamples, addOutputOptions, outputFormat, parsePid, parseSortColumn, WINE_HELP } from '../options.js';
import { printCsv, printJson, printText } from '../print.js';

const FORMATS = ['table', 'csv', 'json'] as const;

interface SnapshotOptions {
  json?: boolean;
  format?: string;
  regions?: boolean;
  sort?: TotalColumn;
  wine?: boolean;
}

export function snapshotCommand(): Command {
  const command = addOutputOptions(new Command('snapshot'), FORMATS)
    .description("one look at a process's memory, split into VMMap's types")
    .argument('<pid>', 'process id', parsePid)
    .option('--regions', 'also list every region: address range, type, protection, sizes, details')
    .option('--sort <column>', 'sort rows by a column, largest first (size, committed, private, total-ws, ...)', parseSortColumn)
    .option('--wine', WINE_HELP)
    .action(async (pid: number, options: SnapshotOptions) => {
      const { loadCollector } = await import('../../collector/index.js');
      const collector = await loadCollector(options.wine ? 'wine' : 'local');
      let snapshot;
      try {
        snapshot = collector.snapshot(pid, { usage: true });
      } finally {
        collector.close?.();
      }
      snapshot.regions = sortRegions(snapshot.regions, options.sort);
      const format = outputFormat(options, FORMATS);
      if (format === 'json') return void printJson(snapshot);
      if (format === 'csv') {
        if (options.regions) return void printCsv(['start', 'end', 'type', 'protection', 'size', 'committed', 'private', 'totalWs', 'privateWs', 'details'],
          snapshot.regions.map((r) => [r.start, r.end, r.type, r.protection, r.size, r.committed, r.private, r.totalWs, r.privateWs, r.details]));
        return void printCsv(['type', ...TOTAL_COLUMNS], [...MEMORY_TYPES.map((t) => [t, ...TOTAL_COLUMNS.map((c) => snapshot.types[t][c])]), ['total', ...TOTAL_COLUMNS.map((c) => snapshot.total[c])]]);
      }
      const parts = [snapshotHeading(snapshot), typeTable(snapshot, options.sort)];
      if (options.regions) parts.push(regionTable(snapshot.regions), '* type found by a layout heuristic');
      printText(parts.join('\n\n'));
    });
  return addExamples(command, ['leakwatch snapshot 4242', 'leakwatch snapshot 4242 --regions --sort committed', 'leakwatch snapshot 4242 --format csv > types.csv']);
}
