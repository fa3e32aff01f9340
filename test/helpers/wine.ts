/**
 * Live tests of Windows programs under Wine: the set-up (src/collector/wine/setup.ts, the same as `npm run wine` and `--wine`), the
 * Windows test programs in test/targets/windows/, and leakwatch's CLI run by Windows Node.
 *
 * Each test file gets a prefix of its own (a clone of the cached template: milliseconds, no space), whatever
 * $WINEPREFIX says, and `stopWine()` ends every Windows process in it, its wineserver, and removes it: test files
 * never see each other's programs, nor the user's, nor end them. Wine processes see each other only within one
 * prefix and wineserver, so a file's programs and CLI runs all run in its prefix.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnWindowsNode } from '../../scripts/wine/node.js';
import { removePrefix, setupWine, wineMissing, windowsPath, type WineSetup } from '../../src/collector/wine/setup.js';
import { outputOf, type CliResult } from './cli.js';
import { until } from './live.js';
import { buildC, repoRoot } from './targets.js';

const MINGW = 'x86_64-w64-mingw32-gcc';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

/** Whether Wine and mingw-w64 are here; `reason` says what is missing: `test(…, { skip: wineAvailable().reason }, …)`. */
export function wineAvailable(): { ok: boolean; reason?: string } {
  const reason = wineMissing() ??
    (spawnSync(MINGW, ['--version']).error !== undefined ? `${MINGW} is not installed (Debian: apt-get install gcc-mingw-w64-x86-64)` : undefined);
  return reason === undefined ? { ok: true } : { ok: false, reason };
}

let current: WineSetup | undefined;
let stopsOnExit = false;

/**
 * Sets up Wine on first use (downloads, wineboot: ~25 s; progress on stderr), makes this test file's prefix and
 * starts its wineserver persistent (`wineserver -p`), so the programs and CLI runs of the file share one server and
 * none of them waits for a server to start. Call `stopWine()` in `after()`; a process that exits without it stops and
 * removes the prefix too (one killed outright leaves it to the next setup, which removes it after an hour).
 */
export function ensureWine(): WineSetup {
  if (current !== undefined) return current;
  current = setupWine({ freshPrefix: true, log: (line) => process.stderr.write(`# wine setup: ${line}\n`) });
  spawnSync('wineserver', ['-p'], { env: current.env, stdio: 'ignore' });
  if (!stopsOnExit) process.on('exit', stopWine);
  stopsOnExit = true;
  return current;
}

/** Ends every Windows process in this test file's prefix and its wineserver (`wineserver -k`), and removes the prefix. */
export function stopWine(): void {
  if (current === undefined) return;
  removePrefix(current);
  current = undefined;
}

/** Compiles test/targets/windows/<name>.c with mingw-w64 (cached like the Linux targets); returns the .exe's path. */
export function buildWindowsTarget(name: 'alloc' | 'leak'): string {
  return buildC(path.join('windows', `${name}.c`), `${name}.exe`, ['-Wall', '-Wextra', '-O0'], ['-lpsapi'], MINGW);
}

/** What test/targets/windows/alloc.c writes. Addresses and sizes are bytes. */
export interface AllocReport {
  pid: number;
  allocations: Allocation[];
}

export type Allocation =
  | { kind: 'image'; address: number; size: number }
  | { kind: 'section'; address: number; size: number }
  | { kind: 'virtualAlloc'; address: number; size: number; committed: number }
  | { kind: 'heap'; address: number; regions: { address: number; size: number; committed: number }[] }
  | { kind: 'heapBlock'; heap: number; address: number; size: number; large?: true }
  | { kind: 'mappedFile'; address: number; size: number; path: string; deviceName: string }
  | { kind: 'threadStack'; threadId: number; main: boolean; address: number; size: number; stackBase: number; stackLimit: number };

/** What test/targets/windows/leak.c writes. */
export interface LeakReport {
  pid: number;
  mode: 'heap' | 'virtual';
  kibPerStep: number;
  msPerStep: number;
  heap: number;
  start: number;
}

export interface WindowsTarget<T> {
  /** The Windows pid (what OpenProcess takes; not the Unix pid of `child`). */
  pid: number;
  /** The JSON the program wrote, and where (a program's other marks sit next to it: `<outFile>.done`). */
  report: T;
  outFile: string;
  child: ChildProcess;
  /** Tells the program to end (its stop file), waits for it (SIGKILL after 10 s); resolves with its exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts a Windows program built by buildWindowsTarget under Wine as `<exe> <out.json> <args>` and waits for it to
 * write <out.json>. It runs until stop() (or stopWine()).
 */
export async function startWindowsTarget<T extends { pid: number }>(exe: string, args: string[] = []): Promise<WindowsTarget<T>> {
  const setup = ensureWine();
  const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-wine-target-'));
  const json = path.join(dir, 'out.json');
  // stderr to a file, not a pipe: the Wine services the first program of a prefix starts inherit it and live on.
  const stderrFile = path.join(dir, 'stderr');
  const stderrFd = openSync(stderrFile, 'w');
  const child = spawn('wine', [exe, windowsPath(json), ...args], { env: setup.env, stdio: ['ignore', 'ignore', stderrFd] });
  closeSync(stderrFd);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', () => resolve((exitCode = null)));
    child.on('exit', (code) => resolve((exitCode = code)));
  });
  const stop = async (): Promise<number | null> => {
    writeFileSync(`${json}.stop`, '');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    await until(`${path.basename(exe)} to write ${json}`, () => existsSync(json) || exitCode !== undefined, START_TIMEOUT_MS);
    if (!existsSync(json)) {
      throw new Error(`${path.basename(exe)} exited with code ${exitCode} before writing its report: ${readFileSync(stderrFile, 'utf8').trim()}`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const report = JSON.parse(readFileSync(json, 'utf8')) as T;
  return { pid: report.pid, report, outFile: json, child, stop };
}

/** `npm run wine -- <args>` without npm (node dist/scripts/wine/run.js), in the tests' prefix. */
export async function runLeakwatchUnderWine(args: string[], { timeoutMs = 120_000 } = {}): Promise<CliResult> {
  const setup = ensureWine();
  const child = spawn(process.execPath, [path.join(repoRoot(), 'dist', 'scripts', 'wine', 'run.js'), ...args], {
    env: setup.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: timeoutMs,
  });
  return outputOf(child);
}

/** A Node script (a Unix path) run by Windows Node under Wine in the tests' prefix, koffi available to `import()`. */
export async function runWindowsScript(script: string, args: string[]): Promise<CliResult> {
  const setup = ensureWine();
  let stdout = '';
  let stderr = '';
  const run = spawnWindowsNode(setup, script, args, { stdout: (c) => (stdout += c), stderr: (c) => (stderr += c) });
  const { code } = await run.exited;
  return { code, stdout, stderr };
}
