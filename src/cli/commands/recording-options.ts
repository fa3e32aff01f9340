/** The options `watch`, `run` and `demo` share. */
import { Command, Option } from 'commander';
import { LeakwatchError } from '../../errors.js';
import type { WatchOptions } from '../../session/record.js';
import { parseDuration } from '../../vocabulary.js';
import { dbOption, parseListen } from '../options.js';

/**
 * An --every longer than --duration would end the watch before its second sample: a usage error, said before the
 * target starts. Only a given --every counts: the default 1s with a short --duration is a quick look of one sample.
 */
function checkIntervalFitsDuration(command: Command): void {
  const { every, duration } = command.opts<{ every?: string; duration?: string }>();
  if (every === undefined || duration === undefined || command.getOptionValueSource('every') === 'default') return;
  let everyMs: number;
  let durationMs: number;
  try {
    everyMs = parseDuration(every, '--every');
    durationMs = parseDuration(duration, '--duration');
  } catch {
    return; // a malformed value is said by the recording, with the other options
  }
  if (everyMs > durationMs) {
    throw new LeakwatchError(`--every ${every} is longer than --duration ${duration}: only the first sample would be taken; give a shorter --every or a longer --duration`);
  }
}

/** `--children` for watch (off by default), `--no-children` for run (on by default): each help lists only its own. */
export function addRecordingOptions(command: Command, childrenByDefault: boolean): Command {
  command
    .addOption(new Option('--every <interval>', 'sample at this interval (500ms, 1s, 1m)').default('1s').conflicts('cron'))
    .option('--cron <expression>', 'sample on a cron schedule instead; 6 fields put seconds first ("*/5 * * * * *")')
    .option('--duration <duration>', 'stop after this long (30s, 12h, 1h30m); default: until the target exits or Ctrl-C')
    .addOption(dbOption('write'))
    .option('--label <label>', 'a name for this session, e.g. nightly-42');
  if (childrenByDefault) command.option('--no-children', 'sample only the started process, not its descendants');
  else command.option('--children', 'also sample every descendant process');
  return command
    .option('--progress <interval>', 'off a terminal (nohup, CI, systemd): print a progress line on stderr this often', '5m')
    .option('--serve <[host:]port>', 'expose the session to Prometheus at http://host:port/metrics while it records (a port alone: on 127.0.0.1)', parseListen)
    .option('--quiet', 'print neither the start line nor progress; only the closing line')
    .option('--json', 'print {"session","samples","endReason","restarts","exitCode"} on stdout, the only thing there (run: the command\'s own stdout goes to stderr)')
    .hook('preAction', checkIntervalFitsDuration);
}

/** Commander leaves `children` undefined when a watch is not given --children. */
export const recordingOptions = <T extends Partial<WatchOptions>>(options: T): T & { children: boolean } => ({ ...options, children: options.children === true });
