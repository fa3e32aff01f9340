import { Command, Option } from 'commander';
import { addExamples, dbOption, parseSessionId } from '../options.js';

export function exportCommand(): Command {
  const command = new Command('export')
    .description('a session: csv = committed bytes per type and tick, with ISO times (for spreadsheets); json = every stored row (lossless, for import)')
    .argument('<session>', 'session id', parseSessionId)
    .addOption(dbOption('read'))
    .addOption(new Option('--format <format>', 'file format').choices(['csv', 'json']).default('csv'))
    .option('--json', 'the same as --format json')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (id: number, options: { db: string; format: 'csv' | 'json'; json?: boolean; output?: string }) => {
      const { exportSession } = await import('../../session/query.js');
      await exportSession(options.db, id, options.json ? 'json' : options.format, options.output);
    });
  return addExamples(command, [
    'leakwatch export 12 -o session-12.csv',
    'leakwatch export 12 --format json -o session-12.json   # move it to another machine',
    'leakwatch export 12 | head',
  ]);
}
