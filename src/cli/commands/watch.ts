import { Command } from 'commander';
import { parsePid } from '../../collector/index.js';
import { addWatchOptions, record, type WatchOptions } from '../recording.js';

export function watchCommand(): Command {
  return addWatchOptions(new Command('watch'), false)
    .description('sample a running process on a schedule into a SQLite database')
    .argument('<pid>', 'process id')
    .action(async (pidText: string, options: WatchOptions) => {
      const pid = parsePid(pidText);
      await record(async () => ({ pid, mode: 'watch', command: undefined, child: undefined }), options);
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
        return { pid: child.pid, mode: 'run', command: argv.join(' '), child };
      }, options);
    });
}
