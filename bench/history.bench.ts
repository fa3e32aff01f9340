/**
 * History on a large database: `sessions` over 10,000 sessions, and `query` over a 24-hour session at 1 Hz
 * (read, cut a range, resample), against a bare `SELECT count(*)` over the same rows as the baseline.
 * Run: npm run build && node dist/bench/history.bench.js (npm run bench runs bench/overhead.bench.ts)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { listSessions } from '../src/db/sessions.js';
import { openForWrite } from '../src/db/open.js';
import { committedColumns, tickSums } from '../src/db/read.js';
import { resample } from '../src/analysis/resample.js';
import { medianTime } from './synthetic-session.js';

const SESSIONS = 10_000;
const DAY_TICKS = 24 * 3600;
const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-bench-'));
try {
  const db = openForWrite(path.join(dir, 'history.db'));
  const client = db.$client;
  const session = client.prepare(`INSERT INTO sessions (label, command, mode, target_pid, target_start_time, host, platform, follow_children, started_at, ended_at, end_reason, collector_pid, collector_start_time)
    VALUES (?, 'server --port 8080', 'run', 1, 'x', 'h', 'linux', 1, ?, ?, 'duration', 1, 'x')`);
  const sample = client.prepare('INSERT INTO samples (session_id, process_id, seq, taken_at, elapsed_ms, with_usage, heap_committed, stack_committed) VALUES (?, ?, ?, ?, ?, 1, ?, ?)');
  client.transaction(() => {
    for (let i = 0; i < SESSIONS; i++) {
      const { lastInsertRowid } = session.run(`nightly-${i}`, i * 86_400_000, i * 86_400_000 + 3_600_000);
      client.prepare(`INSERT INTO processes (session_id, pid, start_time, command, first_seq, last_seq) VALUES (?, 1, 'x', 'server', 0, 9)`).run(lastInsertRowid);
      // Ten ticks each: enough rows that the per-session sample count is a real lookup.
      for (let seq = 0; seq < 10; seq++) sample.run(lastInsertRowid, lastInsertRowid, seq, seq * 1000, seq * 1000, 1, 1);
    }
    const { lastInsertRowid: day } = session.run('day', 0, DAY_TICKS * 1000);
    const { lastInsertRowid: process } = client.prepare(`INSERT INTO processes (session_id, pid, start_time, command, first_seq, last_seq) VALUES (?, 1, 'x', 'server', 0, ?)`).run(day, DAY_TICKS - 1);
    for (let seq = 0; seq < DAY_TICKS; seq++) sample.run(day, process, seq, seq * 1000, seq * 1000, 100e6 + seq * 100, 8e6);
  })();
  const daySession = SESSIONS + 1;
  let count = 0;
  const sessions = medianTime(() => (count = listSessions(db, {}, () => true).length));
  const filtered = medianTime(() => listSessions(db, { labelGlob: 'nightly-99*' }, () => true));
  const baseline = medianTime(() => client.prepare('SELECT count(*) FROM sessions').get());
  const query = medianTime(() => Array.from(resample(tickSums(db, daySession, committedColumns(['heap']), 3600, 7200), 60, 'max')));
  const rows = medianTime(() => client.prepare('SELECT count(*) FROM samples WHERE session_id = ?').get(daySession));
  console.log(`sessions: ${count} sessions listed in ${sessions.toFixed(0)} ms (label glob: ${filtered.toFixed(0)} ms); ${(sessions / baseline).toFixed(0)}x a bare count of them (${baseline.toFixed(2)} ms)`);
  console.log(`query: 24 h @ 1 Hz session (${DAY_TICKS} ticks) read, cut to 1 h and resampled per minute in ${query.toFixed(0)} ms; ${(query / rows).toFixed(0)}x a bare count of its rows (${rows.toFixed(1)} ms)`);
  client.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
