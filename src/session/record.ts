/** What `watch`, `run` and `demo` share: running the recorder with a terminal around it. */
import type { EndReason } from '../db/store.js';
import { LeakwatchError } from '../errors.js';
import { printable } from '../report/text.js';
import { progressLine, statusLine } from '../watch/heartbeat.js';
import { writeStderr } from './terminal.js';
import { parseCron, type Schedule } from '../watch/schedule.js';
import { describeSelector } from '../watch/targets.js';
import { JUDGING_NEEDS, shortestJudgedMs } from '../analysis/trend.js';
import type { WatchResult, WatchSpec } from '../watch/recorder.js';
import type { Listen } from './serve.js';
import type { startMetricsWorker } from './serve-worker.js';
import { EXIT, formatDuration, parseDuration, plural } from '../vocabulary.js';

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
  /** The target is a Windows program under Wine, sampled by the Windows collector there. */
  wine?: boolean;
  /** Expose the session to Prometheus on this address while it records. */
  serve?: Listen;
}

function scheduleOf(options: WatchOptions): Schedule {
  if (options.cron !== undefined) return parseCron(options.cron);
  return { kind: 'every', ms: parseDuration(options.every ?? '1s', '--every') };
}

function describeSchedule(schedule: Schedule): string {
  return schedule.kind === 'cron' ? `on cron "${schedule.expression}"` : `every ${formatDuration(schedule.ms)}`;
}

/**
 * A --duration the analysis cannot judge is said when the recording starts, not found out after the run. The last
 * sample may fall up to one interval before the end, hence the interval's margin. A warning about what the numbers
 * will mean, so --quiet does not hide it.
 */
function warnWhenTooShortToJudge(durationMs: number | undefined, schedule: Schedule): void {
  if (durationMs === undefined || schedule.kind !== 'every') return;
  // Whole seconds: what a person types as --duration.
  const enough = Math.ceil((shortestJudgedMs(schedule.ms) + schedule.ms) / 1000) * 1000;
  if (durationMs >= enough) return;
  writeStderr(`leakwatch: warning: --duration ${formatDuration(durationMs)} is too short for the analysis to judge a leak at --every ${formatDuration(schedule.ms)}; `
    + `it needs at least ${formatDuration(enough)} (${JUDGING_NEEDS}). The samples are recorded anyway.\n`);
}

/**
 * SIGUSR1 would open Node's inspector (a debugger port on 127.0.0.1:9229) inside a recording: a listener takes the
 * signal from it. Kept until leakwatch exits: removing it would leave the signal's default, which ends the process.
 */
function ignoreInspectorSignal(): void {
  // Windows delivers no SIGUSR1 (libuv would refuse the listener).
  if (process.platform !== 'win32' && process.listenerCount('SIGUSR1') === 0) process.on('SIGUSR1', () => {});
}

export type Target = Pick<WatchSpec, 'targets' | 'follow' | 'mode' | 'command' | 'child'>;

/**
 * Runs the recorder with the terminal around it: signals, the start line, the live status line (on a terminal) or a
 * progress line every --progress (off one), the closing line. Options and the database are checked before the
 * target is started, so a typo never leaves a `run` command running.
 */
export async function record(startTarget: () => Promise<Target>, options: WatchOptions, { closingLine = true } = {}): Promise<WatchResult & { session: number }> {
  const schedule = scheduleOf(options);
  const durationMs = options.duration === undefined ? undefined : parseDuration(options.duration, '--duration');
  const progressMs = parseDuration(options.progress, '--progress');
  // Heavy modules load only when a watch really starts: `--help` stays fast.
  const [{ loadCollector }, { openForWrite }, { recordSession }] = await Promise.all([
    import('../collector/index.js'),
    import('../db/open.js'),
    import('../watch/recorder.js'),
  ]);
  const collector = await loadCollector(options.wine ? 'wine' : 'local');
  const local = options.wine ? await loadCollector() : collector;
  const db = openForWrite(options.db);
  const live = process.stderr.isTTY === true;
  const say = (line: string) => {
    if (!options.quiet) writeStderr(`${printable(line)}\n`); // paths, patterns and commands are the user's or the target's
  };
  const signalHandlers: [NodeJS.Signals, () => void][] = [];
  ignoreInspectorSignal();
  let result: WatchResult;
  let spec: Target | undefined;
  let session: number | null = null;
  let lastProgressMs = 0;
  let server: Awaited<ReturnType<typeof startMetricsWorker>> | undefined;
  try {
    // Bound before the target starts: a port in use is said before anything runs.
    if (options.serve) {
      const { startMetricsWorker } = await import('./serve-worker.js');
      server = await startMetricsWorker(options.db, options.serve);
      say(`leakwatch: serving Prometheus metrics at ${server.url}`);
    }
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
        // Its default would end leakwatch at once (exit 131, the session left running): closed like SIGTERM. Windows
        // has none (SIGBREAK, Ctrl-Break, is its nearest).
        if (process.platform === 'win32') on('SIGBREAK', 'signal');
        else on('SIGQUIT', 'signal');
      },
      onWaiting: () => say(`leakwatch: waiting for ${describeSelector(target.targets)} to start`),
      // A warning about what the numbers mean, not progress: --quiet does not hide it.
      onNotice: (text) => writeStderr(`leakwatch: ${printable(text)}\n`),
      // A database outage is news whatever --quiet says; on a terminal it goes above the status line.
      onStorage: (text) => writeStderr(`${live ? '\r\x1b[K' : ''}leakwatch: ${printable(text)}\n`),
      onStart: (start) => {
        session = start.session;
        server?.show(start.session);
        say(`session ${start.session} → ${options.db}: ${target.mode === 'run' ? 'running' : 'watching'} pid ${start.pid} (${printable(start.command).slice(0, 80)}) ` +
          `${describeSchedule(schedule)} ${until}${target.follow ? `, following restarts of ${describeSelector(target.targets)}` : ''}`);
        warnWhenTooShortToJudge(durationMs, schedule);
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
    }, local);
  } catch (error) {
    await spec?.child?.terminate();
    throw error;
  } finally {
    for (const [signal, handler] of signalHandlers) process.off(signal, handler);
    await server?.close();
    collector.close?.();
    db.$client.close();
  }
  if (live && !options.quiet) writeStderr('\n');
  if (result.session === null && result.endReason === 'error') {
    throw new LeakwatchError(`nothing was stored: ${result.error}`, EXIT.watchFailed);
  }
  if (result.session === null) {
    throw new LeakwatchError(`nothing was recorded: ${describeSelector(spec.targets)} never started (ended by ${result.endReason})`);
  }
  const recorded = { ...result, session: result.session };
  const summary = printable(`session ${result.session}: ${plural(result.samples, 'sample')}, ended by ${result.endReason}` +
    (result.restarts > 0 ? `, ${plural(result.restarts, 'restart')}` : '') +
    (result.exitCode !== null ? ` (target exit code ${result.exitCode})` : '') +
    (result.error ? `: ${result.error}` : '') + ` (${options.db})`);
  if (!closingLine) {
    // The caller prints the result (demo --json): the closing line is only for the person watching.
    writeStderr(`${summary}\n`);
  } else if (options.json) {
    writeStderr(`${summary}\n`);
    process.stdout.write(`${JSON.stringify({ session: result.session, samples: result.samples, endReason: result.endReason, restarts: result.restarts, exitCode: result.exitCode })}\n`);
  } else {
    process.stdout.write(`${summary}\n`);
  }
  if (result.endReason === 'error') throw new LeakwatchError(`the watch stopped early: ${result.error}`, EXIT.watchFailed);
  return recorded;
}
