/** What `watch`, `run` and `demo` share: their options, and running the recorder with a terminal around it. */
import { Command, Option } from 'commander';
import type { EndReason } from '../db/store.js';
import { LeakwatchError } from '../errors.js';
import { statusLine } from '../report/text.js';
import { parseCron, parseDuration, type Schedule } from '../watch/schedule.js';
import type { WatchResult, WatchSpec } from '../watch/recorder.js';
import { writeStderr } from './stderr.js';

/** The watch ended on an error (lost access, database failure); what was sampled until then is stored. */
const EXIT_WATCH_ERROR = 3;

export interface WatchOptions {
  every?: string;
  cron?: string;
  duration?: string;
  db: string;
  label?: string;
  children: boolean;
  json?: boolean;
}

/** The options `watch` and `run` share. */
export function addWatchOptions(command: Command, childrenByDefault: boolean): Command {
  return command
    .addOption(new Option('--every <interval>', 'sample at this interval (500ms, 1s, 1m)').conflicts('cron'))
    .option('--cron <expression>', 'sample on a cron schedule; 6 fields put seconds first ("*/5 * * * * *")')
    .option('--duration <duration>', 'stop after this long (30s, 12h, 1h30m); default: until the target exits or Ctrl-C')
    .option('--db <file>', 'SQLite database to write (created on first use)', 'leakwatch.db')
    .option('--label <label>', 'a name for this session, e.g. nightly-42')
    .option('--children', 'also sample every descendant process', childrenByDefault)
    .option('--no-children', 'sample only the target process')
    .option('--json', 'print {"session","samples","endReason"} as the last line of stdout');
}

function scheduleOf(options: WatchOptions): Schedule {
  if (options.cron !== undefined) return parseCron(options.cron);
  return { kind: 'every', ms: parseDuration(options.every ?? '1s', '--every') };
}

export type Target = Pick<WatchSpec, 'pid' | 'mode' | 'command' | 'child'>;

/**
 * Runs the recorder with the terminal around it: signals, the live status line, the closing line. Options and the
 * database are checked before the target is started, so a typo never leaves a `run` command running.
 */
export async function record(startTarget: () => Promise<Target>, options: WatchOptions): Promise<WatchResult> {
  const schedule = scheduleOf(options);
  const durationMs = options.duration === undefined ? undefined : parseDuration(options.duration, '--duration');
  // Heavy modules load only when a watch really starts: `--help` stays fast.
  const [{ loadCollector }, { openForWrite }, { recordSession }] = await Promise.all([
    import('../collector/index.js'),
    import('../db/open.js'),
    import('../watch/recorder.js'),
  ]);
  const collector = await loadCollector();
  const db = openForWrite(options.db);
  const live = process.stderr.isTTY === true;
  const signalHandlers: [NodeJS.Signals, () => void][] = [];
  let result: WatchResult;
  let spec: Target | undefined;
  try {
    spec = await startTarget();
    result = await recordSession(collector, db, { ...spec, schedule, durationMs, label: options.label, followChildren: options.children }, {
      onReady: (stop) => {
        const on = (signal: NodeJS.Signals, reason: EndReason) => {
          const handler = () => stop(reason);
          process.on(signal, handler);
          signalHandlers.push([signal, handler]);
        };
        on('SIGINT', 'interrupted');
        on('SIGTERM', 'signal');
        on('SIGHUP', 'signal');
      },
      // Cut to the terminal's width: a wrapped line could not be redrawn in place.
      onTick: live ? (status) => writeStderr(`\r\x1b[K${statusLine(status).slice(0, (process.stderr.columns || 200) - 1)}`) : undefined,
    });
  } catch (error) {
    await spec?.child?.terminate();
    throw error;
  } finally {
    for (const [signal, handler] of signalHandlers) process.off(signal, handler);
    db.$client.close();
  }
  if (live) writeStderr('\n');
  const summary = `session ${result.session}: ${result.samples} samples, ended by ${result.endReason}` +
    (result.exitCode !== null ? ` (target exit code ${result.exitCode})` : '') +
    (result.error ? `: ${result.error}` : '') + ` (${options.db})`;
  if (options.json) {
    writeStderr(`${summary}\n`);
    process.stdout.write(`${JSON.stringify({ session: result.session, samples: result.samples, endReason: result.endReason })}\n`);
  } else {
    process.stdout.write(`${summary}\n`);
  }
  if (result.endReason === 'error') throw new LeakwatchError(`the watch stopped early: ${result.error}`, EXIT_WATCH_ERROR);
  return result;
}

