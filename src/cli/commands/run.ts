import { Command } from 'commander';
import type { WatchOptions } from '../../session/record.js';
import { addExamples } from '../options.js';
import { addRecordingOptions, recordingOptions } from './recording-options.js';

export function runCommand(): Command {
  const command = addRecordingOptions(new Command('run'), true)
    .description('start a command and watch it (and its children) until it exits')
    .argument('<command...>', 'the command and its arguments, after --')
    .action(async (argv: string[], options: WatchOptions) => {
      const [{ startChild }, { record }] = await Promise.all([import('../../watch/child.js'), import('../../session/record.js')]);
      await record(async () => {
        const child = await startChild(argv, options.json ? 'stderr' : 'inherit');
        return { targets: { kind: 'pid', pid: child.pid }, follow: false, mode: 'run', command: argv.join(' '), child };
      }, recordingOptions(options));
    });
  return addExamples(command, [
    'leakwatch run --duration 12h --every 250ms -- ./server --port 8080',
    'leakwatch run --label build-1234 --json -- node app.js',
    'leakwatch run --no-children -- python3 worker.py',
  ]);
}
