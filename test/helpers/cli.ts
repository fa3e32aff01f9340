/** Runs the real CLI (bin/leakwatch.js) as a subprocess, as the tests' user or another one. */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './targets.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { uid?: number; timeoutMs?: number } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [path.join(repoRoot(), 'bin', 'leakwatch.js'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: options.timeoutMs ?? 60_000,
    ...(options.uid !== undefined && { uid: options.uid, gid: options.uid }),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
