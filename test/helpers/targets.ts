/**
 * Builds and drives the live test targets in test/targets/ (alloc.c, v8-grow.mjs).
 *
 * Every target speaks the same protocol: it prints {"ready":true,"pid":N}, then
 * answers each command line on stdin with exactly one JSON line on stdout.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface TargetExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Target {
  pid: number;
  /** Sends one command line; resolves with the reply, rejects on an `error` reply, exit or
   *  20 s timeout (which also kills the target, as its protocol is then out of step). */
  send(cmd: string): Promise<Record<string, unknown>>;
  /** SIGKILLs the target (if still running) and waits for it to exit. */
  stop(): Promise<void>;
  child: ChildProcess;
  /** Resolves (never rejects) when the target has exited, e.g. after `exit <code>`. */
  exited: Promise<TargetExit>;
}

const REPLY_TIMEOUT_MS = 20_000;

let cachedRoot: string | undefined;

/** The repository root: the nearest ancestor of this file that holds package.json. */
export function repoRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return (cachedRoot = dir);
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/**
 * Compiles test/targets/<name>.c into a per-checkout cache directory under
 * os.tmpdir() (only when the binary is missing or older than the source) and
 * returns the binary's path.
 */
export function buildCTarget(name: 'alloc' | 'leaker' | 'forkstorm'): string {
  return buildC(`${name}.c`, name, ['-Wall', '-Wextra', '-O0', '-pthread'], ['-lrt']);
}

/** Compiles test/targets/<name>.c into a shared library lib<name>.so (cached like buildCTarget) and returns its path. */
export function buildSharedLibrary(name: 'bigbss'): string {
  return buildC(`${name}.c`, `lib${name}.so`, ['-Wall', '-Wextra', '-O0', '-shared', '-fPIC'], []);
}

/**
 * Compiles test/targets/<source> with `compiler` into <output> in a per-checkout cache directory (only when the
 * binary is missing or older than the source) and returns the binary's path.
 */
export function buildC(source: string, output: string, flags: string[], libraries: string[], compiler = 'gcc'): string {
  source = path.join(repoRoot(), 'test', 'targets', source);
  const key = createHash('sha256').update(source).digest('hex').slice(0, 12);
  const dir = path.join(tmpdir(), `leakwatch-targets-${process.getuid?.() ?? 'u'}-${key}`);
  const binary = path.join(dir, output);
  const sourceTime = statSync(source).mtimeMs;
  if (existsSync(binary) && statSync(binary).mtimeMs >= sourceTime) return binary;

  mkdirSync(dir, { recursive: true });
  // Build under a private name, then rename: concurrent test files never see a partial binary.
  const partial = `${binary}.${process.pid}.tmp`;
  const args = [...flags, '-o', partial, source, ...libraries];
  const build = spawnSync(compiler, args, { encoding: 'utf8' });
  if (build.error !== undefined || build.status !== 0) {
    rmSync(partial, { force: true });
    const why = build.error !== undefined ? build.error.message : `exit status ${build.status ?? build.signal}`;
    throw new Error(`building ${source} failed (${compiler} ${args.join(' ')}): ${why}\n${build.stderr ?? ''}`);
  }
  renameSync(partial, binary);
  return binary;
}

/**
 * Starts the C allocation target (see test/targets/alloc.c for its commands), optionally as another user or with
 * libraries preloaded (LD_PRELOAD).
 */
export async function startAllocTarget(options: { uid?: number; preload?: string } = {}): Promise<Target> {
  const env = options.preload === undefined ? undefined : { ...process.env, LD_PRELOAD: options.preload };
  return startTarget(buildCTarget('alloc'), [], options.uid, env);
}

/** Starts the V8 heap target (see test/targets/v8-grow.mjs) with this Node binary. */
export async function startV8Target(): Promise<Target> {
  return startTarget(process.execPath, [path.join(repoRoot(), 'test', 'targets', 'v8-grow.mjs')]);
}

/** Starts the Java heap target (see test/targets/JavaHeap.java) with the given JVM options, e.g. ['-Xmx512m']. */
export async function startJavaTarget(jvmOptions: string[]): Promise<Target> {
  return startTarget('java', [...jvmOptions, path.join(repoRoot(), 'test', 'targets', 'JavaHeap.java')]);
}

/**
 * Targets not yet exited, with their /dev/shm object names: if the test process
 * exits without stopping them they are SIGKILLed and their /dev/shm objects removed.
 */
const live = new Map<ChildProcess, Set<string>>();
process.on('exit', () => {
  for (const [child, shmNames] of live) {
    child.kill('SIGKILL');
    removeShm(shmNames);
  }
});

function removeShm(names: Iterable<string>): void {
  for (const name of names) rmSync(path.join('/dev/shm', name), { force: true });
}

async function startTarget(file: string, args: string[], uid?: number, env?: NodeJS.ProcessEnv): Promise<Target> {
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env, ...(uid !== undefined && { uid, gid: uid }) });
  const shmNames = new Set<string>(); // devshm names, removed by stop()
  live.set(child, shmNames);
  // The target's pipes must not keep the test process alive by themselves: only a
  // pending reply (its timeout timer) does. A forgotten stop() then cannot hang a test file.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }
  child.stdin?.on('error', () => {}); // EPIPE after the target died: reported via `exited`

  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });

  // Lines arrive in order; a line nobody is waiting for yet is queued.
  const lines: string[] = [];
  let waiter: { ok: (line: string) => void; fail: (err: Error) => void } | undefined;
  let exitInfo: TargetExit | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<TargetExit>((resolve) => {
    child.on('error', (err) => {
      spawnError = err;
      if (child.pid === undefined) finish({ code: null, signal: null }); // never started
    });
    // 'close' (not 'exit'): it comes after stdout is drained, so no reply line is lost.
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => finish({ code, signal }));
    function finish(info: TargetExit): void {
      if (exitInfo !== undefined) return;
      exitInfo = info;
      live.delete(child);
      waiter?.fail(deathError());
      resolve(info);
    }
  });
  const deathError = (): Error => {
    const how = spawnError !== undefined ? spawnError.message
      : exitInfo?.signal ? `killed by ${exitInfo.signal}` : `exited with code ${exitInfo?.code}`;
    return new Error(`target ${file} ${how}${stderr ? `; stderr: ${stderr.trim()}` : ''}`);
  };

  const rl = createInterface({ input: child.stdout!, crlfDelay: Infinity });
  rl.on('line', (line) => {
    if (waiter !== undefined) waiter.ok(line);
    else lines.push(line);
  });

  const nextLine = (what: string): Promise<string> => {
    const queued = lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (exitInfo !== undefined) return Promise.reject(deathError());
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiter = undefined;
        // A late reply would be taken as the answer to the next command: kill the target.
        child.kill('SIGKILL');
        reject(new Error(`target ${file}: no reply to ${what} within ${REPLY_TIMEOUT_MS} ms (target killed)`));
      }, REPLY_TIMEOUT_MS);
      const done = (): void => {
        clearTimeout(timer);
        waiter = undefined;
      };
      waiter = {
        ok: (line) => { done(); resolve(line); },
        fail: (err) => { done(); reject(err); },
      };
    });
  };

  const parse = (line: string, what: string): Record<string, unknown> => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`target ${file}: reply to ${what} is not JSON: ${line}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new Error(`target ${file}: reply to ${what} is not a JSON object: ${line}`);
    }
    return value as Record<string, unknown>;
  };

  const stop = async (): Promise<void> => {
    if (exitInfo === undefined) {
      child.kill('SIGKILL');
      // A referenced timer keeps the event loop alive until the exit event arrives.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        exited,
        new Promise<void>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`target ${file} did not die`)), REPLY_TIMEOUT_MS);
        }),
      ]).finally(() => clearTimeout(timer));
    }
    // SIGKILL skips alloc's atexit shm_unlink: remove its /dev/shm objects here.
    removeShm(shmNames);
  };

  let ready: Record<string, unknown>;
  try {
    ready = parse(await nextLine('startup'), 'startup');
    if (ready.ready !== true || typeof ready.pid !== 'number') {
      throw new Error(`target ${file}: unexpected first line ${JSON.stringify(ready)}`);
    }
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }

  // Commands are strictly request/reply: chain them so concurrent send() calls queue.
  let queue: Promise<unknown> = Promise.resolve();
  const send = (cmd: string): Promise<Record<string, unknown>> => {
    if (/[\r\n]/.test(cmd)) return Promise.reject(new Error(`command contains a newline: ${JSON.stringify(cmd)}`));
    const words = cmd.trim().split(/\s+/);
    if (words[0] === 'devshm' && words[1] !== undefined) shmNames.add(words[1]);
    if (words[0] === 'exit' || words[0] === 'quit') child.ref(); // keep the loop alive for `exited`
    const result = queue.then(async () => {
      if (exitInfo !== undefined) throw deathError();
      child.stdin!.write(`${cmd}\n`);
      const reply = parse(await nextLine(JSON.stringify(cmd)), JSON.stringify(cmd));
      if ('error' in reply) throw new Error(`target ${file}: ${cmd} -> ${String(reply.error)}`);
      return reply;
    });
    queue = result.catch(() => {});
    return result;
  };

  return { pid: ready.pid as number, send, stop, child, exited };
}

/**
 * The leaker under a watchdog (test/targets/supervisor.mjs): it runs `leaker <mode>`, which exits after `lifeTicks`
 * of its own ticks (a crash, counted, not timed), starts it again, and writes each life's pid to `pidfile`.
 * Resolves once the first pid is written.
 */
export async function startRestartingLeaker(pidfile: string, mode: string, lifeTicks: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(repoRoot(), 'test', 'targets', 'supervisor.mjs'), pidfile, buildCTarget('leaker'), mode], {
    stdio: 'ignore',
    env: { ...process.env, LEAKER_TICKS: String(lifeTicks) },
  });
  const deadline = Date.now() + 20_000;
  while (!existsSync(pidfile)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the watchdog wrote no pid file ${pidfile}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return child;
}
