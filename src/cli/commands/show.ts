import { Command } from 'commander';
import { ANALYZED_ROWS, formatBytes, formatElapsed, formatRate, plural, ROW_LABELS, VERDICT_LABELS } from '../../vocabulary.js';
import { addExamples, addOutputOptions, dbOption, outputFormat, parseSessionId } from '../options.js';
import { printCsv, printJson, printText } from '../print.js';

const FORMATS = ['table', 'csv', 'json'] as const;

export function showCommand(): Command {
  const command = addOutputOptions(new Command('show'), FORMATS)
    .description("one session's facts, first / last / peak committed memory per type, and its verdicts")
    .argument('<session>', 'session id', parseSessionId)
    .addOption(dbOption('read'))
    .action(async (id: number, options: { db: string; json?: boolean; format?: string }) => {
      const [{ showSession }, { endedText, livesText, printable, renderTable }] = await Promise.all([import('../../session/show.js'), import('../../report/text.js')]);
      const shown = await showSession(options.db, id);
      const { session, samples, durationSeconds, restarts, execs, types } = shown;
      const format = outputFormat(options, FORMATS);
      if (format === 'json') return void printJson({ session, samples, durationSeconds, restarts, execs, types });
      if (format === 'csv') {
        return void printCsv(['type', 'first', 'last', 'peak', 'verdict', 'slopeBytesPerHour'], ANALYZED_ROWS.map((type) => {
          const t = types[type];
          return [type, t.first, t.last, t.peak, t.verdict, t.slopeBytesPerHour];
        }));
      }
      const facts = [
        `session ${id}${session.label ? ` (${printable(session.label)})` : ''}: ${printable(session.command)}`,
        `${session.mode} of pid ${session.targetPid} on ${printable(session.host)}, ${new Date(session.startedAt).toISOString()}, ${plural(samples, 'sample')} over ${formatElapsed(durationSeconds * 1000)}, ` +
          `${endedText(session)}${session.exitCode === null ? '' : ` (exit code ${session.exitCode})`}`,
        ...(livesText(shown) ? [`${livesText(shown)}; each life is judged on its own`] : []),
      ];
      const rows = ANALYZED_ROWS.map((type) => {
        const t = types[type];
        return [ROW_LABELS[type], formatBytes(t.first), formatBytes(t.last), formatBytes(t.peak), VERDICT_LABELS[t.verdict], t.verdict === 'insufficient-data' ? '' : formatRate(t.slopeBytesPerHour)];
      });
      printText(`${facts.join('\n')}\n\n${renderTable([['TYPE', 'FIRST', 'LAST', 'PEAK', 'VERDICT', 'RATE'], ...rows], 'all')}`);
    });
  return addExamples(command, ['leakwatch show 12', 'leakwatch show 12 --json | jq .types.heap']);
}
