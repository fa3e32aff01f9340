/** Reading a snapshot through the real CLI, and the kernel's own numbers to hold it against. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Region, Snapshot } from '../../src/collector/types.js';
import { runCli, type CliOptions } from './cli.js';

export async function snapshotJson(pid: number, options: CliOptions = {}): Promise<Snapshot> {
  const result = await runCli(['snapshot', String(pid), '--json'], options);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as Snapshot;
}

export function regionAt(snapshot: Snapshot, address: string | bigint): Region {
  const a = BigInt(address);
  const region = snapshot.regions.find((r) => BigInt(`0x${r.start}`) <= a && a < BigInt(`0x${r.end}`));
  assert.ok(region, `no region holds ${address}`);
  return region;
}

/** Independent of leakwatch's parser: sums smaps the simplest way. */
export function kernelSums(pid: number) {
  let rss = 0;
  let committed = 0;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) (\S+)/.exec(line);
    if (header && !header[3].startsWith('---')) committed += Number(BigInt(`0x${header[2]}`) - BigInt(`0x${header[1]}`));
    const rssLine = /^Rss:\s+(\d+) kB/.exec(line);
    if (rssLine) rss += Number(rssLine[1]) * 1024;
  }
  return { rss, committed };
}

export const near = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);
