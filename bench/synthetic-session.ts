/** A synthetic 12-hour session at 1 Hz in a real SQLite file, for the analysis and report benchmarks. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Db, openForWrite } from '../src/db/open.js';
import { sampleKey } from '../src/db/schema.js';
import { MEMORY_TYPES } from '../src/vocabulary.js';

export const TICKS = 12 * 3600;
const MiB = 1024 * 1024;

/** Session 1: the heap leaks 10 MiB/h, the managed heap saws every 5 minutes, the rest is flat with noise. */
export function syntheticSession(): { db: Db; dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-bench-'));
  const db = openForWrite(path.join(dir, 'bench.db'));
  const client = db.$client;
  client.exec(`INSERT INTO sessions (command, mode, target_pid, target_start_time, host, platform, follow_children, started_at, ended_at, end_reason, collector_pid, collector_start_time)
    VALUES ('bench', 'watch', 1, 'x', 'h', 'linux', 0, 0, ${TICKS * 1000}, 'duration', 1, 'x')`);
  client.exec(`INSERT INTO processes (session_id, pid, start_time, command, first_seq, last_seq) VALUES (1, 1, 'x', 'bench', 0, ${TICKS - 1})`);
  const columns = MEMORY_TYPES.flatMap((t) => [sampleKey(t, 'committed'), sampleKey(t, 'totalWs')]).map((c) => c.replace(/[A-Z]/g, (x) => `_${x.toLowerCase()}`));
  const insert = client.prepare(`INSERT INTO samples (session_id, process_id, seq, taken_at, elapsed_ms, with_usage, ${columns.join(', ')})
    VALUES (1, 1, ?, ?, ?, 1, ${columns.map(() => '?').join(', ')})`);
  let seed = 1;
  const noise = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 2 * MiB;
  client.transaction(() => {
    for (let i = 0; i < TICKS; i++) {
      const values = MEMORY_TYPES.flatMap((t) => {
        const committed = t === 'heap' ? 200 * MiB + (i / 3600) * 10 * MiB + noise()
          : t === 'managedHeap' ? 300 * MiB + ((i % 300) / 300) * 100 * MiB
            : 100 * MiB + noise();
        return [Math.round(committed), Math.round(committed * 0.6)];
      });
      insert.run(i, i * 1000, i * 1000, ...values);
    }
  })();
  return { db, dir, cleanup: () => { client.close(); rmSync(dir, { recursive: true, force: true }); } };
}

/** Median wall time of a few runs of `fn`, in ms. */
export function medianTime(fn: () => void, rounds = 5): number {
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    fn();
    samples.push(performance.now() - start);
  }
  return samples.sort((a, b) => a - b)[rounds >> 1];
}
