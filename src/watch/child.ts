/** Starting the command of `leakwatch run`: no shell, its output passes through, its exit code is kept. */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { LeakwatchError } from '../errors.js';
import type { StartedChild } from './recorder.js';

// How long a child gets to exit after SIGTERM before it is killed.
const TERMINATE_GRACE_MS = 5000;

export async function startChild(argv: string[], output: 'inherit' | 'ignore' = 'inherit'): Promise<StartedChild & { pid: number }> {
  const [file, ...args] = argv;
  const child = spawn(file, args, { stdio: ['inherit', output, output] });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(new LeakwatchError(error.code === 'ENOENT' ? `command not found: ${file}` : `cannot start ${file}: ${error.message}`)),
    );
  });
  const exited = new Promise<number>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0))),
  );
  const terminate = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), TERMINATE_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    return exited;
  };
  return { pid: child.pid!, exited, terminate };
}
