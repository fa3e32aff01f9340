/**
 * Week-long sessions without waiting a week: a few seconds of a real leaking process recorded by the real CLI, whose
 * rows are then replayed in SQL tick after tick (samples, region rows, the processes' first and last tick) with a
 * slow heap drift on top. The read commands meet what a real soak leaves behind, at the size a soak reaches.
 */
import Database from 'better-sqlite3';
import { runCli } from './cli.js';
import { buildCTarget } from './targets.js';

/** Added to the heap's size and committed bytes, on top of the recorded values: a slow leak to find. */
export const HEAP_DRIFT_BYTES_PER_HOUR = 10 * 1024 * 1024;

/** Records `leaker heap` (2.5 MiB/s from malloc, see test/targets/leaker.c) for a few seconds; returns the session id. */
export async function recordShortSession(file: string, duration = '5s'): Promise<number> {
  const run = await runCli(['run', '--every', '250ms', '--duration', duration, '--db', file, '--json', '--', buildCTarget('leaker'), 'heap']);
  if (run.code !== 0) throw new Error(`recording the short session failed (exit ${run.code}): ${run.stderr}`);
  return JSON.parse(run.stdout.trimEnd().split('\n').at(-1)!).session as number;
}

const columnsOf = (client: Database.Database, table: string) =>
  (client.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name).filter((name) => name !== 'id');

/**
 * Replaces session `template` (k ticks) by one of `ticks` ticks `intervalMs` apart, ended by its duration: tick i
 * repeats the template's tick i mod k (every process's sample and region rows, so a cycle starts with the full
 * region list the template started with and regions rebuild as they were recorded). Returns the new session's id.
 */
export function lengthenSession(file: string, template: number, size: { ticks: number; intervalMs: number }): number {
  const client = new Database(file);
  try {
    client.pragma('foreign_keys = ON');
    return client.transaction(() => {
      const params = { template, ticks: size.ticks, interval: size.intervalMs, drift: (HEAP_DRIFT_BYTES_PER_HOUR * size.intervalMs) / 3_600_000 };
      const sessionColumns = columnsOf(client, 'sessions').join(', ');
      const session = Number(client.prepare(`INSERT INTO sessions (${sessionColumns}) SELECT ${sessionColumns} FROM sessions WHERE id = @template`).run(params).lastInsertRowid);
      client.prepare(`UPDATE sessions SET interval_ms = @interval, cron = NULL, ended_at = started_at + (@ticks - 1) * @interval, end_reason = 'duration' WHERE id = @session`)
        .run({ ...params, session });
      client.prepare(`INSERT INTO processes (session_id, pid, start_time, parent_pid, command, first_seq, last_seq)
        SELECT @session, pid, start_time, parent_pid, command, 0, 0 FROM processes WHERE session_id = @template ORDER BY id`).run({ ...params, session });
      client.prepare('INSERT INTO session_verdicts SELECT @session, type, verdict, first_reached_at, first_reached_seq FROM session_verdicts WHERE session_id = @template')
        .run({ ...params, session });
      // Which template sample each new sample repeats, in insertion order (seq, then process): its rowid gives the new id.
      client.exec('DROP TABLE IF EXISTS temp.plan');
      client.prepare(`CREATE TEMP TABLE plan AS
        WITH RECURSIVE tick(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM tick WHERE i + 1 < @ticks),
          recorded AS MATERIALIZED (SELECT id, process_id, dense_rank() OVER (ORDER BY seq) - 1 AS k FROM samples WHERE session_id = @template),
          cycle(k) AS (SELECT max(k) + 1 FROM recorded)
        SELECT tick.i AS seq, recorded.id AS template_id, np.id AS process_id
        FROM tick, cycle JOIN recorded ON recorded.k = tick.i % cycle.k
        JOIN processes tp ON tp.id = recorded.process_id
        JOIN processes np ON np.session_id = @session AND np.pid = tp.pid AND np.start_time = tp.start_time
        ORDER BY tick.i, recorded.process_id`).run({ ...params, session });
      const base = (client.prepare('SELECT coalesce(max(id), 0) AS id FROM samples').get() as { id: number }).id;
      const copied = columnsOf(client, 'samples').filter((c) => !['session_id', 'process_id', 'seq', 'taken_at', 'elapsed_ms'].includes(c));
      const drifted = (c: string) => (c === 'heap_committed' || c === 'heap_size' ? `t.${c} + CAST(plan.seq * @drift AS INTEGER)` : `t.${c}`);
      client.prepare(`INSERT INTO samples (id, session_id, process_id, seq, taken_at, elapsed_ms, ${copied.join(', ')})
        SELECT @base + plan.rowid, @session, plan.process_id, plan.seq, s.started_at + plan.seq * @interval, plan.seq * @interval, ${copied.map(drifted).join(', ')}
        FROM plan JOIN samples t ON t.id = plan.template_id JOIN sessions s ON s.id = @session ORDER BY plan.rowid`).run({ ...params, session, base });
      const regionColumns = columnsOf(client, 'regions').filter((c) => c !== 'sample_id').join(', ');
      client.prepare(`INSERT INTO regions (sample_id, ${regionColumns})
        SELECT @base + plan.rowid, ${regionColumns} FROM plan JOIN regions r ON r.sample_id = plan.template_id ORDER BY plan.rowid, r.id`).run({ base });
      client.prepare(`UPDATE processes SET first_seq = (SELECT min(seq) FROM samples WHERE process_id = processes.id),
        last_seq = (SELECT max(seq) FROM samples WHERE process_id = processes.id) WHERE session_id = @session`).run({ session });
      client.exec('DROP TABLE temp.plan');
      client.prepare('DELETE FROM sessions WHERE id = @template').run(params);
      return session;
    })();
  } finally {
    client.close();
  }
}
