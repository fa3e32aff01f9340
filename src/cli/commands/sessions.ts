import { Command } from 'commander';
import { parseDuration } from '../../vocabulary.js';
import { addExamples, addOutputOptions, dbOption, outputFormat } from '../options.js';
import { printJson, printText } from '../print.js';

const FORMATS = ['table', 'csv', 'json'] as const;

export function sessionsCommand(): Command {
  const command = addOutputOptions(new Command('sessions'), FORMATS)
    .description('list recorded sessions, newest first')
    .addOption(dbOption('read'))
    .option('--label <glob>', 'only labels matching this glob, e.g. nightly-*')
    .option('--since <duration>', 'only sessions started within this long (7d, 12h)')
    .action(async (options: { db: string; label?: string; since?: string; json?: boolean; format?: string }) => {
      const sinceMs = options.since === undefined ? undefined : Date.now() - parseDuration(options.since, '--since');
      const { listStoredSessions } = await import('../../session/sessions.js');
      const sessions = await listStoredSessions(options.db, { labelGlob: options.label, sinceMs });
      const format = outputFormat(options, FORMATS);
      const { sessionsCsv, sessionsTable } = await import('../../report/sessions.js');
      if (format === 'json') printJson(sessions);
      else if (format === 'csv') process.stdout.write(sessionsCsv(sessions));
      else printText(sessionsTable(sessions));
    });
  return addExamples(command, ['leakwatch sessions', "leakwatch sessions --label 'nightly-*' --since 7d", 'leakwatch sessions --format csv > sessions.csv']);
}
