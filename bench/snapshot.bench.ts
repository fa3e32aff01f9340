/**
 * Cost of one snapshot of a process with ~1000 mappings, against the floor of just reading the /proc files it
 * needs (measured in the same run, so the ratio is meaningful on a noisy machine).
 * Run: npm run bench
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { linuxCollector } from '../src/collector/linux/index.js';
import { startAllocTarget } from '../test/helpers/targets.js';

const ROUNDS = 200;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

async function timeIt(fn: () => unknown): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

const target = await startAllocTarget();
try {
  await target.send('many 1000');
  await target.send(`malloc ${64 * 1024 * 1024}`);
  const pid = target.pid;
  const mappings = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').length - 1;
  const rawSmaps = await timeIt(() => readFileSync(`/proc/${pid}/smaps`, 'utf8'));
  const rawMaps = await timeIt(() => readFileSync(`/proc/${pid}/maps`, 'utf8'));
  const full = await timeIt(() => linuxCollector.snapshot(pid, { usage: true }));
  const mapsOnly = await timeIt(() => linuxCollector.snapshot(pid, { usage: false }));
  const rows = [
    ['snapshot with smaps (the `snapshot` command)', full, rawSmaps, 'read of smaps alone'],
    ['snapshot from maps only', mapsOnly, rawMaps, 'read of maps alone'],
  ] as const;
  console.log(`process with ${mappings} mappings, median of ${ROUNDS} rounds`);
  for (const [what, ms, baseline, baselineName] of rows) {
    console.log(`${what.padEnd(46)} ${ms.toFixed(2).padStart(7)} ms   ${(ms / baseline).toFixed(2)}x the ${baselineName} (${baseline.toFixed(2)} ms)`);
  }
} finally {
  await target.stop();
}
