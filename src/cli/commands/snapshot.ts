import { Command } from 'commander';
import { loadCollector } from '../../collector/index.js';

import { regionTable, snapshotHeading, sortRegions, typeTable } from '../../report/text.js';
import { parsePid, parseSortColumn } from '../options.js';
import { type TotalColumn } from '../../vocabulary.js';

interface SnapshotOptions {
  json?: boolean;
  regions?: boolean;
  sort?: TotalColumn;
}

export function snapshotCommand(): Command {
  return new Command('snapshot')
    .description("one look at a process's memory, split into VMMap's types")
    .argument('<pid>', 'process id')
    .option('--json', 'print JSON (bytes; always includes the region list)')
    .option('--regions', 'also list every region: address range, type, protection, sizes, details')
    .option('--sort <column>', 'sort rows by a column, largest first (size, committed, private, total-ws, ...)', parseSortColumn)
    .action(async (pidText: string, options: SnapshotOptions) => {
      const pid = parsePid(pidText);
      const collector = await loadCollector();
      const snapshot = collector.snapshot(pid, { usage: true });
      snapshot.regions = sortRegions(snapshot.regions, options.sort);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(snapshot)}\n`);
        return;
      }
      const parts = [snapshotHeading(snapshot), typeTable(snapshot, options.sort)];
      if (options.regions) parts.push(regionTable(snapshot.regions), '* type found by a layout heuristic');
      process.stdout.write(`${parts.join('\n\n')}\n`);
    });
}
