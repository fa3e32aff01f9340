/**
 * Per-tick cost of `watch` on a process with ~1000 mappings (sample + store, maps-only and smaps ticks), against
 * the floor of reading /proc/PID/maps or smaps alone, with and without glibc's chunk headers (a probe with
 * /proc/PID/mem refused samples the same process each tick), and the database bytes per stored sample after 1000 ticks.
 * Run: npm run build && node dist/bench/watch.bench.js (npm run bench runs bench/overhead.bench.ts)
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { procMem } from '../test/helpers/refuse-proc-mem.js';
import { linuxCollector } from '../src/collector/linux/index.js';
import type { ProcessProbe } from '../src/collector/types.js';
import { openForWrite, type Db } from '../src/db/open.js';
import { SessionWriter } from '../src/db/store.js';
import { startBenchTarget } from './bench-target.js';

const TICKS = 1000;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];

/** A probe storing into its own database, timed per tick kind. */
interface Watcher {
  probe: ProcessProbe;
  db: Db;
  file: string;
  writer: SessionWriter;
  refused: boolean;
  timings: { maps: number[]; smaps: number[] };
}

function watcher(dir: string, pid: number, refused: boolean): Watcher {
  const file = path.join(dir, `bench-${refused ? 'refused' : 'reads'}.db`);
  const db = openForWrite(file);
  procMem.refused = refused;
  const probe = linuxCollector.open(pid);
  const first = probe.sample({ usage: true });
  const writer = SessionWriter.create(db, {
    command: first.command, mode: 'watch', targetPid: pid, targetStartTime: first.startTime, host: hostname(),
    platform: 'linux', intervalMs: 1000, followChildren: false, startedAt: Date.now(), collectorPid: process.pid,
    collectorStartTime: linuxCollector.startTimeOf(process.pid)!,
  });
  return { probe, db, file, writer, refused, timings: { maps: [], smaps: [] } };
}

function tick(w: Watcher, seq: number, usage: boolean): void {
  procMem.refused = w.refused;
  const start = performance.now();
  const snapshot = w.probe.sample({ usage });
  w.writer.recordTick({ seq, takenAt: Date.now(), elapsedMs: seq * 1000, samples: [{ snapshot, withUsage: usage, parentPid: undefined }] });
  (usage ? w.timings.smaps : w.timings.maps).push(performance.now() - start);
}

const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-bench-'));
const target = await startBenchTarget();
try {
  const pid = target.pid;
  const [reads, refused] = [watcher(dir, pid, false), watcher(dir, pid, true)];
  const raw = { maps: [] as number[], smaps: [] as number[] };
  for (let seq = 0; seq < TICKS; seq++) {
    // Some churn, as a real target has: the heap grows now and then, and a large malloc maps a chunk next to the
    // others (their mapping changes: its headers are read again).
    if (seq % 50 === 25) await target.send(`malloc ${1024 * 1024}`);
    if (seq % 50 === 0) await target.send(`big 1 ${1024 * 1024}`);
    const usage = seq % 10 === 0; // one smaps tick in ten, like a budget-limited watch
    tick(reads, seq, usage);
    tick(refused, seq, usage);
    const rawStart = performance.now();
    readFileSync(`/proc/${pid}/${usage ? 'smaps' : 'maps'}`, 'utf8');
    (usage ? raw.smaps : raw.maps).push(performance.now() - rawStart);
  }
  for (const w of [reads, refused]) {
    w.db.$client.pragma('wal_checkpoint(TRUNCATE)');
    w.db.$client.close();
  }
  const bytes = statSync(reads.file).size;
  const mappings = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').length - 1;
  const µs = (ms: number) => `${Math.round(ms * 1000)} µs`.padStart(9);
  console.log(`watch tick (sample + store in SQLite) of a process with ${mappings} mappings, median of ${TICKS} ticks`);
  for (const kind of ['maps', 'smaps'] as const) {
    const [withReads, without, bare] = [median(reads.timings[kind]), median(refused.timings[kind]), median(raw[kind])];
    console.log(`${`${kind === 'maps' ? 'maps-only' : 'smaps'} tick`.padEnd(15)} ${µs(withReads)}   ${(withReads / bare).toFixed(1)}x a bare read of ${kind} (${µs(bare).trim()}); ` +
      `without chunk headers ${µs(without).trim()} (${(withReads / without).toFixed(2)}x)`);
  }
  console.log(`database after ${TICKS} samples: ${bytes} bytes = ${Math.round(bytes / TICKS)} bytes per sample (regions: full list every 300 ticks + deltas)`);
} finally {
  await target.stop();
  rmSync(dir, { recursive: true, force: true });
}
