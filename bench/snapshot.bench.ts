/**
 * Cost of one snapshot of a process with ~1000 mappings, against the floor of just reading the /proc files it
 * needs (measured in the same run, so the ratio is meaningful on a noisy machine), with and without reading glibc's
 * chunk headers from /proc/PID/mem (without: the open is refused, as where ptrace rights are missing).
 * Run: npm run build && node dist/bench/snapshot.bench.js (npm run bench runs bench/overhead.bench.ts)
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { procMem } from '../test/helpers/refuse-proc-mem.js';
import { linuxCollector } from '../src/collector/linux/index.js';
import { startBenchTarget } from './bench-target.js';

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

/** The same, with /proc/PID/mem refused: no chunk header is read. */
async function timeRefused(fn: () => unknown): Promise<number> {
  procMem.refused = true;
  try {
    return await timeIt(fn);
  } finally {
    procMem.refused = false;
  }
}

procMem.refused = false;
const target = await startBenchTarget();
try {
  const pid = target.pid;
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').filter(Boolean);
  const anonymousRw = maps.filter((line) => / rw-p 00000000 00:00 0 *$/.test(line)).length;
  const rawSmaps = await timeIt(() => readFileSync(`/proc/${pid}/smaps`, 'utf8'));
  const rawMaps = await timeIt(() => readFileSync(`/proc/${pid}/maps`, 'utf8'));
  const full = await timeIt(() => linuxCollector.snapshot(pid, { usage: true }));
  const fullRefused = await timeRefused(() => linuxCollector.snapshot(pid, { usage: true }));
  const mapsOnly = await timeIt(() => linuxCollector.snapshot(pid, { usage: false }));
  const mapsOnlyRefused = await timeRefused(() => linuxCollector.snapshot(pid, { usage: false }));
  const rows = [
    ['snapshot with smaps (the `snapshot` command)', full, rawSmaps, 'read of smaps alone'],
    ['  without chunk headers (mem refused)', fullRefused, rawSmaps, 'read of smaps alone'],
    ['snapshot from maps only', mapsOnly, rawMaps, 'read of maps alone'],
    ['  without chunk headers (mem refused)', mapsOnlyRefused, rawMaps, 'read of maps alone'],
  ] as const;
  console.log(`process with ${maps.length} mappings (${anonymousRw} anonymous rw-p: a chunk header read each), median of ${ROUNDS} rounds`);
  for (const [what, ms, baseline, baselineName] of rows) {
    console.log(`${what.padEnd(46)} ${ms.toFixed(2).padStart(7)} ms   ${(ms / baseline).toFixed(2)}x the ${baselineName} (${baseline.toFixed(2)} ms)`);
  }
  console.log(`chunk headers cost ${(full / fullRefused).toFixed(2)}x with smaps, ${(mapsOnly / mapsOnlyRefused).toFixed(2)}x from maps only`);
} finally {
  await target.stop();
}
