/** Runs the real CLI (bin/leakwatch.js) as a subprocess, as the tests' user or another one. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './targets.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  uid?: number;
  timeoutMs?: number;
  /** Options for node itself, before the script (e.g. --import). */
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** The checkout whose bin/leakwatch.js runs (default: this one). */
  root?: string;
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), path.join(options.root ?? repoRoot(), 'bin', 'leakwatch.js'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: options.timeoutMs ?? 60_000,
    env: options.env,
    ...(options.uid !== undefined && { uid: options.uid, gid: options.uid }),
  });
  return outputOf(child);
}

/** What a child printed, once it has exited and its output is closed. */
export function outputOf(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `report --png` where the optional canvas packages are missing: one line naming what to install, exit 2. */
export function assertPngUnavailable(result: CliResult): void {
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /^leakwatch: [^\n]+\n$/, 'exactly one line on stderr');
  assert.doesNotMatch(result.stderr, /\sat \S+:\d+:\d+/, 'no stack frame');
  for (const words of ['apt-get install', 'libcairo2-dev', 'libpango1.0-dev', 'librsvg2-dev', 'dnf install', 'cairo-devel', 'pango-devel', 'libjpeg-turbo-devel', 'npm install']) {
    assert.ok(result.stderr.includes(words), `the line names ${words}: ${result.stderr}`);
  }
}
