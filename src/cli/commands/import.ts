import { Command } from 'commander';
import { parseDuration, plural } from '../../vocabulary.js';
import { addExamples, dbOption } from '../options.js';
import { printJson, printText } from '../print.js';

export function importCommand(): Command {
  const command = new Command('import')
    .description('load a leakwatch JSON export, VMMap CSV exports (one snapshot each: a timeline in the order given) or a VMMap .mmp file, as one new session')
    .argument('<files...>', 'the files to import')
    .addOption(dbOption('write'))
    .option('--label <label>', 'a label for the imported session')
    .option('--every <interval>', 'VMMap CSV files: the time between snapshots, when the files lost their modification times')
    .option('--json', 'print {"session","format","samples"}')
    .action(async (files: string[], options: { db: string; label?: string; every?: string; json?: boolean }) => {
      const everyMs = options.every === undefined ? undefined : parseDuration(options.every, '--every');
      const { importFiles } = await import('../../session/import.js');
      const result = await importFiles(options.db, files, { label: options.label, everyMs });
      if (options.json) printJson(result);
      else printText(`imported ${files.join(', ')} as session ${result.session} (${plural(result.samples, 'sample')})`);
    });
  return addExamples(command, [
    'leakwatch import session-12.json',
    'leakwatch import --every 5m vmmap-1.csv vmmap-2.csv vmmap-3.csv',
    'leakwatch import --label windows-service app.mmp',
  ]);
}
