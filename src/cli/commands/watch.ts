import { Command } from 'commander';
import { LeakwatchError } from '../../errors.js';
import type { TargetSelector } from '../../watch/targets.js';
import { addWatchOptions, record, type WatchOptions } from '../recording.js';
import { parsePid } from '../options.js';

interface WatchTargetOptions extends WatchOptions {
  name?: string;
  pidfile?: string;
  all?: boolean;
  follow?: boolean;
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
  return addWatchOptions(new Command('watch'), false)
    .description('sample a running process on a schedule into a SQLite database')
    .argument('[pid]', 'process id (or use --name / --pidfile)')
    .option('--name <pattern>', "the process by name (glob: 'redis-*'), or with a '/' by a part of its command line")
    .option('--pidfile <file>', 'the process whose pid this file holds (re-read after a restart)')
    .option('--all', 'with --name: watch every matching process as one session')
    .option('--follow', 'when the target exits, wait for the next matching process and go on in the same session')
    .action(async (pidText: string | undefined, options: WatchTargetOptions) => {
      const targets = selectorOf(pidText, options);
      await record(async () => ({ targets, follow: options.follow === true, mode: 'watch', command: undefined, child: undefined }), options);
    });
}

export function runCommand(): Command {
  return addWatchOptions(new Command('run'), true)
    .description('start a command and watch it (and its children) until it exits')
    .argument('<command...>', 'the command and its arguments, after --')
    .action(async (argv: string[], options: WatchOptions) => {
      const { startChild } = await import('../../watch/child.js');
      await record(async () => {
        const child = await startChild(argv);
        return { targets: { kind: 'pid', pid: child.pid }, follow: false, mode: 'run', command: argv.join(' '), child };
      }, options);
    });
}
