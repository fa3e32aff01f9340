import { Command } from 'commander';
import { LeakwatchError } from '../../errors.js';
import { parseDuration, plural } from '../../vocabulary.js';
import { addExamples, dbOption, parseCount } from '../options.js';
import { printJson, printText } from '../print.js';

export function pruneCommand(): Command {
  const command = new Command('prune')
    .description('delete old sessions (never one that is still being written)')
    .addOption(dbOption('write'))
    .option('--older-than <duration>', 'delete sessions started longer ago than this (30d)')
    .option('--keep <n>', 'keep only the newest n sessions', parseCount('--keep'))
    .option('--dry-run', 'only list what would be deleted')
    .option('--json', 'print {"dryRun","sessions"} with the sessions as `sessions --json` lists them')
    .action(async (options: { db: string; olderThan?: string; keep?: number; dryRun?: boolean; json?: boolean }) => {
      if (options.olderThan === undefined && options.keep === undefined) throw new LeakwatchError('prune needs --older-than <duration> or --keep <n>');
      const olderThanMs = options.olderThan === undefined ? undefined : Date.now() - parseDuration(options.olderThan, '--older-than');
      const [{ pruneSessions }, { sessionsTable }] = await Promise.all([import('../../session/sessions.js'), import('../../report/sessions.js')]);
      const dryRun = options.dryRun === true;
      const pruned = await pruneSessions(options.db, { olderThanMs, keep: options.keep }, dryRun);
      if (options.json) return void printJson({ dryRun, sessions: pruned });
      const verb = dryRun ? 'would delete' : 'deleted';
      printText(pruned.length === 0 ? `${verb} no sessions` : `${verb} ${plural(pruned.length, 'session')}:\n${sessionsTable(pruned)}`);
    });
  return addExamples(command, ['leakwatch prune --older-than 30d --dry-run', 'leakwatch prune --keep 100', 'leakwatch prune --older-than 7d --json']);
}
