/**
 * Starting the command of `leakwatch run`: no shell, its output passes through, its exit code is kept. It runs in a
 * process group of its own, so that ending it ends everything it started (`sh -c 'server & worker'`), not only the
 * process leakwatch started.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { LeakwatchError } from '../errors.js';
import type { StartedChild } from './recorder.js';

// How long the command's processes get to exit after the first signal before they are killed.
const TERMINATE_GRACE_MS = 5000;
// How often to look whether they have gone, while waiting.
const POLL_MS = 50;
// After SIGKILL, how long to wait for the group to be gone (a process in uninterruptible sleep dies when it wakes).
const KILL_WAIT_MS = 2000;
const WINDOWS = process.platform === 'win32';

/**
 * Where the command's output goes: `inherit` passes both streams through; `stderr` sends its stdout to our stderr,
 * so that `run --json` keeps stdout for its one JSON document (`leakwatch run --json -- ./server | jq`); `ignore`
 * drops both (the demo's own chatter).
 */
export type ChildOutput = 'inherit' | 'stderr' | 'ignore';

export async function startChild(argv: string[], output: ChildOutput = 'inherit'): Promise<StartedChild & { pid: number }> {
  const { loadCollector } = await import('../collector/index.js');
  const collector = await loadCollector();
  const [file, ...args] = argv;
  // `detached`: a new session and process group, led by the command (its pid is the group's id). The terminal's
  // Ctrl-C then reaches leakwatch only, which forwards the stop to the whole group (see terminate).
  // Windows has no process groups, and `detached` there would open a console of its own: the command stays in
  // leakwatch's console, and its "group" is the tree of processes it started (the Windows collector's groupMembers).
  const child = spawn(file, args, { stdio: output === 'stderr' ? ['inherit', 2, 'inherit'] : ['inherit', output, output], detached: !WINDOWS });
  // Read before the event loop turns: Node has not reaped the command yet, even one that has already exited
  // (`run -- true`), so its start time is still there for the session.
  const startTime = child.pid === undefined ? undefined : collector.startTimeOf(child.pid);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(new LeakwatchError(error.code === 'ENOENT' ? `command not found: ${file}` : `cannot start ${file}: ${error.message}`)),
    );
  });
  const pgid = child.pid!;
  let reaped = false;
  const exited = new Promise<number>((resolve) =>
    child.once('exit', (code, signal) => {
      reaped = true;
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    }),
  );
  /** Signals the whole group, and the command itself should it have left the group (setsid, setpgid). */
  const send = (signal: NodeJS.Signals) => {
    // Windows: each process of the tree (a signal there ends the process, whatever the signal).
    for (const target of WINDOWS ? collector.groupMembers(pgid) : [-pgid]) {
      try {
        process.kill(target, signal);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    }
    if (!reaped && !collector.groupMembers(pgid).includes(pgid)) child.kill(signal);
  };
  // Zombies do not count: an init that does not reap (some containers) keeps them forever.
  const gone = () => reaped && collector.groupMembers(pgid).length === 0;
  /**
   * Ends the command and what it started: `signal` to the group (SIGINT for Ctrl-C, as the terminal would have sent
   * it; else SIGTERM), SIGTERM to what is left once the command itself has exited (a shell's background jobs ignore
   * SIGINT), SIGKILL to all of it after the grace period. Resolves with the command's exit code.
   */
  const terminate = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (gone()) return exited;
    send(signal);
    let termSent = signal === 'SIGTERM';
    const deadline = performance.now() + TERMINATE_GRACE_MS;
    while (performance.now() < deadline) {
      await sleep(POLL_MS);
      if (gone()) return exited;
      if (reaped && !termSent) {
        send('SIGTERM');
        termSent = true;
      }
    }
    send('SIGKILL');
    const code = await exited;
    for (const killDeadline = performance.now() + KILL_WAIT_MS; !gone() && performance.now() < killDeadline; ) await sleep(POLL_MS);
    return code;
  };
  return { pid: child.pid!, startTime, exited, terminate };
}
