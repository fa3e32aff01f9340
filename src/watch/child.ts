/** Starting the command of `leakwatch run`: no shell, its output passes through, its exit code is kept. */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { LeakwatchError } from '../errors.js';
import type { StartedChild } from './recorder.js';

// How long a child gets to exit after SIGTERM before it is killed.
const TERMINATE_GRACE_MS = 5000;

/**
 * Where the command's output goes: `inherit` passes both streams through; `stderr` sends its stdout to our stderr,
 * so that `run --json` keeps stdout for its one JSON document (`leakwatch run --json -- ./server | jq`); `ignore`
 * drops both (the demo's own chatter).
 */
export type ChildOutput = 'inherit' | 'stderr' | 'ignore';

export async function startChild(argv: string[], output: ChildOutput = 'inherit'): Promise<StartedChild & { pid: number }> {
  const [file, ...args] = argv;
  const child = spawn(file, args, { stdio: output === 'stderr' ? ['inherit', 2, 'inherit'] : ['inherit', output, output] });
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
