/**
 * Analysis time of a 12-hour session sampled at 1 Hz (43,200 ticks × 9 types): reading the series from a real
 * SQLite file and analysing every type, against a plain least-squares fit of the same data (the naive baseline).
 * Run: npm run bench
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ANALYZED_TYPES, analyzeSession } from '../src/analysis/session.js';
import { leastSquares } from '../src/analysis/stats.js';
import { MEMORY_TYPES } from '../src/collector/types.js';
import { openForWrite } from '../src/db/open.js';
import { sessionSeries } from '../src/db/read.js';
import { sampleKey } from '../src/db/schema.js';

const TICKS = 12 * 3600;
const MiB = 1024 * 1024;
const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-bench-'));
try {
  const db = openForWrite(path.join(dir, 'bench.db'));
  const client = db.$client;
  client.exec(`INSERT INTO sessions (command, mode, target_pid, target_start_time, host, platform, follow_children, started_at, collector_pid, collector_start_time)
    VALUES ('bench', 'watch', 1, 'x', 'h', 'linux', 0, 0, 1, 'x')`);
  client.exec(`INSERT INTO processes (session_id, pid, start_time, command, first_seq, last_seq) VALUES (1, 1, 'x', 'bench', 0, ${TICKS - 1})`);
  const columns = MEMORY_TYPES.map((t) => sampleKey(t, 'committed').replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));
  const insert = client.prepare(`INSERT INTO samples (session_id, process_id, seq, taken_at, elapsed_ms, with_usage, ${columns.join(', ')})
    VALUES (1, 1, ?, ?, ?, 1, ${columns.map(() => '?').join(', ')})`);
  let seed = 1;
  const noise = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5) * 2 * MiB;
  client.transaction(() => {
    for (let i = 0; i < TICKS; i++) {
      // Heap leaks 10 MiB/h, the managed heap saws every 5 minutes, the rest is flat with noise.
      const values = MEMORY_TYPES.map((t) =>
        t === 'heap' ? 200 * MiB + (i / 3600) * 10 * MiB + noise()
          : t === 'managedHeap' ? 300 * MiB + ((i % 300) / 300) * 100 * MiB
            : 100 * MiB + noise());
      insert.run(i, i * 1000, i * 1000, ...values.map(Math.round));
    }
  })();

  const time = (fn: () => void, rounds = 5) => {
    const samples: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const start = performance.now();
      fn();
      samples.push(performance.now() - start);
    }
    return samples.sort((a, b) => a - b)[rounds >> 1];
  };
  let data = sessionSeries(db, 1);
  const read = time(() => (data = sessionSeries(db, 1)));
  let verdicts = '';
  const analyse = time(() => {
    const findings = analyzeSession({ ...data, limit: undefined }, ANALYZED_TYPES, () => []);
    verdicts = findings.map((f) => `${f.type}=${f.verdict}`).join(' ');
  });
  const naive = time(() => ANALYZED_TYPES.forEach((t) => leastSquares(data.t, data.committed[t])));
  console.log(`12 h @ 1 Hz session: ${data.t.length} ticks × ${ANALYZED_TYPES.length} analysed types (median of 5)`);
  console.log(`read series from SQLite  ${read.toFixed(0).padStart(6)} ms`);
  console.log(`analyse all types        ${analyse.toFixed(0).padStart(6)} ms   ${(analyse / naive).toFixed(0)}x a plain least-squares fit of the same data (${naive.toFixed(1)} ms)`);
  console.log(`total                    ${(read + analyse).toFixed(0).padStart(6)} ms   verdicts: ${verdicts}`);
  client.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
