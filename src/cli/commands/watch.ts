import { Command } from 'commander';
import { LeakwatchError } from '../../errors.js';
import type { WatchOptions } from '../../session/record.js';
import type { TargetSelector } from '../../watch/targets.js';
import { addExamples, parsePid, WINE_HELP } from '../options.js';
import { addRecordingOptions, recordingOptions } from './recording-options.js';

interface WatchTargetOptions extends WatchOptions {
  name?: string;
  pidfile?: string;
  all?: boolean;
  follow?: boolean;
  wine?: boolean;
}

/** Exactly one of a pid, --name or --pidfile; --all only with --name; --follow only for targets that can come back. */
function selectorOf(pidText: string | undefined, options: WatchTargetOptions): TargetSelector {
  const given = [pidText !== undefined, options.name !== undefined, options.pidfile !== undefined].filter(Boolean).length;
  if (given !== 1) throw new LeakwatchError('watch needs exactly one target: a pid, --name <pattern> or --pidfile <file>');
  if (options.all && options.name === undefined) throw new LeakwatchError('--all goes with --name: it watches every process matching the name');
  if (options.follow && pidText !== undefined) {
    throw new LeakwatchError('--follow needs --name or --pidfile: a restarted program has a new pid, found by its name or its pid file');
  }
  if (options.name !== undefined) {
    if (options.name.trim() === '') throw new LeakwatchError('--name needs a pattern, e.g. redis-server or "python3 /srv/app.py"');
    return { kind: 'name', pattern: options.name, all: options.all === true };
  }
  if (options.pidfile !== undefined) return { kind: 'pidfile', file: options.pidfile };
  return { kind: 'pid', pid: parsePid(pidText!) };
}

export function watchCommand(): Command {
  const command = addRecordingOptions(new Command('watch'), false)
    .description('sample a running process on a schedule into a SQLite database')
    .argument('[pid]', 'process id (or use --name / --pidfile)')
    .option('--name <pattern>', "the process by name (glob: 'redis-*'), or with a '/' by a part of its command line")
    .option('--pidfile <file>', 'the process whose pid this file holds (re-read after a restart)')
    .option('--all', 'with --name: watch every matching process as one session')
    .option('--follow', 'when the target exits, wait for the next matching process and go on in the same session')
    .option('--wine', WINE_HELP)
    .action(async (pidText: string | undefined, options: WatchTargetOptions) => {
      const targets = selectorOf(pidText, options);
      const { record } = await import('../../session/record.js');
      await record(async () => ({ targets, follow: options.follow === true, mode: 'watch', command: undefined, child: undefined }), recordingOptions(options));
    });
  return addExamples(command, [
    'leakwatch watch 4242 --every 250ms --duration 12h --label nightly-42',
    'leakwatch watch --name my-server --follow --duration 12h --progress 10m   # under nohup or systemd',
    'leakwatch watch --pidfile /run/app.pid --children --json',
  ]);
}
