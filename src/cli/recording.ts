/** What `watch`, `run` and `demo` share: their options, and running the recorder with a terminal around it. */
import { Command, Option } from 'commander';
import type { EndReason } from '../db/store.js';
import { LeakwatchError } from '../errors.js';
import { printable, progressLine, statusLine } from '../report/text.js';

import { writeStderr } from './stderr.js';
import { parseCron, type Schedule } from '../watch/schedule.js';
import { describeSelector } from '../watch/targets.js';
import type { WatchResult, WatchSpec } from '../watch/recorder.js';
import { formatDuration, parseDuration } from '../vocabulary.js';

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
  progress: string;
  quiet?: boolean;
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
    .option('--progress <interval>', 'off a terminal (nohup, CI, systemd): print a progress line on stderr this often', '5m')
    .option('--quiet', 'print neither the start line nor progress; only the closing line')
    .option('--json', 'print {"session","samples","endReason","restarts"} as the last line of stdout');
}

function scheduleOf(options: WatchOptions): Schedule {
  if (options.cron !== undefined) return parseCron(options.cron);
  return { kind: 'every', ms: parseDuration(options.every ?? '1s', '--every') };
}

function describeSchedule(schedule: Schedule): string {
  return schedule.kind === 'cron' ? `on cron "${schedule.expression}"` : `every ${formatDuration(schedule.ms)}`;
}

export type Target = Pick<WatchSpec, 'targets' | 'follow' | 'mode' | 'command' | 'child'>;

/**
 * Runs the recorder with the terminal around it: signals, the start line, the live status line (on a terminal) or a
 * progress line every --progress (off one), the closing line. Options and the database are checked before the
 * target is started, so a typo never leaves a `run` command running.
 */
export async function record(startTarget: () => Promise<Target>, options: WatchOptions): Promise<WatchResult & { session: number }> {
  const schedule = scheduleOf(options);
  const durationMs = options.duration === undefined ? undefined : parseDuration(options.duration, '--duration');
  const progressMs = parseDuration(options.progress, '--progress');
  // Heavy modules load only when a watch really starts: `--help` stays fast.
  const [{ loadCollector }, { openForWrite }, { recordSession }] = await Promise.all([
    import('../collector/index.js'),
    import('../db/open.js'),
    import('../watch/recorder.js'),
  ]);
  const collector = await loadCollector();
  const db = openForWrite(options.db);
  const live = process.stderr.isTTY === true;
  const say = (line: string) => {
    if (!options.quiet) writeStderr(`${line}\n`);
  };
  const signalHandlers: [NodeJS.Signals, () => void][] = [];
  let result: WatchResult;
  let spec: Target | undefined;
  let session: number | null = null;
  let lastProgressMs = 0;
  try {
    spec = await startTarget();
    const target = spec;
    const until = durationMs !== undefined ? `for ${formatDuration(durationMs)}` : target.follow ? 'until stopped' : 'until it exits';
    result = await recordSession(collector, db, { ...target, schedule, durationMs, label: options.label, followChildren: options.children }, {
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
      onWaiting: () => say(`leakwatch: waiting for ${describeSelector(target.targets)} to start`),
      // A warning about what the numbers mean, not progress: --quiet does not hide it.
      onNotice: (text) => writeStderr(`leakwatch: ${text}\n`),
      onStart: (start) => {
        session = start.session;
        say(`session ${start.session} → ${options.db}: ${target.mode === 'run' ? 'running' : 'watching'} pid ${start.pid} (${printable(start.command).slice(0, 80)}) ` +
          `${describeSchedule(schedule)} ${until}${target.follow ? `, following restarts of ${describeSelector(target.targets)}` : ''}`);
      },
      onTick: (status) => {
        if (options.quiet) return;
        // Cut to the terminal's width: a wrapped line could not be redrawn in place.
        if (live) writeStderr(`\r\x1b[K${statusLine(status).slice(0, (process.stderr.columns || 200) - 1)}`);
        else if (status.elapsedMs - lastProgressMs >= progressMs) {
          lastProgressMs = status.elapsedMs;
          say(progressLine(session, status));
        }
      },
    });
  } catch (error) {
    await spec?.child?.terminate();
    throw error;
  } finally {
    for (const [signal, handler] of signalHandlers) process.off(signal, handler);
    db.$client.close();
  }
  if (live && !options.quiet) writeStderr('\n');
  if (result.session === null) {
    throw new LeakwatchError(`nothing was recorded: ${describeSelector(spec.targets)} never started (ended by ${result.endReason})`);
  }
  const recorded = { ...result, session: result.session };
  const summary = `session ${result.session}: ${result.samples} samples, ended by ${result.endReason}` +
    (result.restarts > 0 ? `, ${result.restarts} restart${result.restarts === 1 ? '' : 's'}` : '') +
    (result.exitCode !== null ? ` (target exit code ${result.exitCode})` : '') +
    (result.error ? `: ${result.error}` : '') + ` (${options.db})`;
  if (options.json) {
    writeStderr(`${summary}\n`);
    process.stdout.write(`${JSON.stringify({ session: result.session, samples: result.samples, endReason: result.endReason, restarts: result.restarts })}\n`);
  } else {
    process.stdout.write(`${summary}\n`);
  }
  if (result.endReason === 'error') throw new LeakwatchError(`the watch stopped early: ${result.error}`, EXIT_WATCH_ERROR);
  return recorded;
}
