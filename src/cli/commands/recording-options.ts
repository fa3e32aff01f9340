/** The options `watch`, `run` and `demo` share. */
import { Command, Option } from 'commander';
import type { WatchOptions } from '../../session/record.js';
import { dbOption } from '../options.js';

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
    .option('--quiet', 'print neither the start line nor progress; only the closing line')
    .option('--json', 'print {"session","samples","endReason","restarts","exitCode"} on stdout, the only thing there (run: the command\'s own stdout goes to stderr)');
}

/** Commander leaves `children` undefined when a watch is not given --children. */
export const recordingOptions = <T extends Partial<WatchOptions>>(options: T): T & { children: boolean } => ({ ...options, children: options.children === true });
