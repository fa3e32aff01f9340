/** Runs one measured child (bench/peak-rss.js) and reports its wall time, peak RSS and stdout size. */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./peak-rss.js', import.meta.url));

export interface Measured {
  seconds: number;
  peakMiB: number;
  outputBytes: number;
}

/**
 * Runs bench/peak-rss.js with `args` (`cli <leakwatch args...>` or `rows <db> <session>`), reading (and counting) its
 * stdout as it comes; its peak RSS arrives on fd 3. Rejects when it exits non-zero.
 */
export function measureCommand(args: string[]): Promise<Measured> {
  const start = performance.now();
  const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  let outputBytes = 0;
  let stderr = '';
  let rss = '';
  child.stdout!.on('data', (chunk: Buffer) => (outputBytes += chunk.length));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  (child.stdio[3] as Readable).setEncoding('utf8').on('data', (chunk: string) => (rss += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${args.join(' ')} exited ${code}: ${stderr}`));
      else resolve({ seconds: (performance.now() - start) / 1000, peakMiB: Number(rss) / 1024, outputBytes });
    });
  });
}
