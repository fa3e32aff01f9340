/**
 * Per-tick cost of `watch` on a process with ~1000 mappings (sample + store, maps-only and smaps ticks), against
 * the floor of reading /proc/PID/maps or smaps alone, and the database bytes per stored sample after 1000 ticks.
 * Run: npm run bench
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { linuxCollector } from '../src/collector/linux/index.js';
import { openForWrite } from '../src/db/open.js';
import { SessionWriter } from '../src/db/store.js';
import { startAllocTarget } from '../test/helpers/targets.js';

const TICKS = 1000;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];

const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-bench-'));
const target = await startAllocTarget();
try {
  await target.send('many 1000');
  await target.send(`malloc ${64 * 1024 * 1024}`);
  const pid = target.pid;
  const dbFile = path.join(dir, 'bench.db');
  const db = openForWrite(dbFile);
  const probe = linuxCollector.open(pid);
  const first = probe.sample({ usage: true });
  const writer = SessionWriter.create(db, {
    command: first.command, mode: 'watch', targetPid: pid, targetStartTime: first.startTime, host: hostname(),
    platform: 'linux', intervalMs: 1000, followChildren: false, startedAt: Date.now(), collectorPid: process.pid,
    collectorStartTime: linuxCollector.startTimeOf(process.pid)!,
  });
  const timings = { maps: [] as number[], smaps: [] as number[], rawMaps: [] as number[], rawSmaps: [] as number[] };
  for (let seq = 0; seq < TICKS; seq++) {
    // Some churn, as a real target has: the heap grows now and then.
    if (seq % 50 === 25) await target.send(`malloc ${1024 * 1024}`);
    const usage = seq % 10 === 0; // one smaps tick in ten, like a budget-limited watch
    const start = performance.now();
    const snapshot = probe.sample({ usage });
    writer.recordTick({ seq, takenAt: Date.now(), elapsedMs: seq * 1000, samples: [{ snapshot, withUsage: usage, parentPid: undefined }] });
    (usage ? timings.smaps : timings.maps).push(performance.now() - start);
    const rawStart = performance.now();
    readFileSync(`/proc/${pid}/${usage ? 'smaps' : 'maps'}`, 'utf8');
    (usage ? timings.rawSmaps : timings.rawMaps).push(performance.now() - rawStart);
  }
  db.$client.pragma('wal_checkpoint(TRUNCATE)');
  const bytes = statSync(dbFile).size;
  db.$client.close();
  const mappings = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').length - 1;
  const µs = (ms: number) => `${Math.round(ms * 1000)} µs`.padStart(9);
  console.log(`watch tick (sample + store in SQLite) of a process with ${mappings} mappings, median of ${TICKS} ticks`);
  console.log(`maps-only tick  ${µs(median(timings.maps))}   ${(median(timings.maps) / median(timings.rawMaps)).toFixed(1)}x a bare read of maps (${µs(median(timings.rawMaps)).trim()})`);
  console.log(`smaps tick      ${µs(median(timings.smaps))}   ${(median(timings.smaps) / median(timings.rawSmaps)).toFixed(1)}x a bare read of smaps (${µs(median(timings.rawSmaps)).trim()})`);
  console.log(`database after ${TICKS} samples: ${bytes} bytes = ${Math.round(bytes / TICKS)} bytes per sample (regions: full list every 300 ticks + deltas)`);
} finally {
  await target.stop();
  rmSync(dir, { recursive: true, force: true });
}
