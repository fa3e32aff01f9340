/**
 * A leakwatch JSON export built here, row by row as `export --format json` writes it: two processes (a child from
 * tick 10), a heap that grows, full region lists and deltas, online verdicts, an exec() of the child at the last tick.
 * Every column of the schema is filled.
 */
import { getTableColumns } from 'drizzle-orm';
import type { SessionDump } from '../../src/db/dump.js';
import { schemaVersion } from '../../src/db/open.js';
import { SAMPLE_COLUMNS, sampleKey, samples } from '../../src/db/schema.js';
import { MEMORY_TYPES } from '../../src/vocabulary.js';

export type Row = Record<string, unknown>;
/** An export as `export --format json` writes it; `format` any text, for the tests that change it. */
export type Dump = Omit<SessionDump, 'format'> & { format: string };

const MiB = 1024 * 1024;

export interface DumpOptions {
  ticks?: number;
  label?: string | null;
  command?: string;
  host?: string;
  details?: string;
}

export function validDump(options: DumpOptions = {}): Dump {
  const ticks = options.ticks ?? 60;
  const command = options.command ?? '/usr/bin/app --serve';
  // Whole seconds two days ago: within the sane range, and not "still running" on this host.
  const t0 = Math.floor((Date.now() - 2 * 86_400_000) / 1000) * 1000;
  const session: Row = {
    id: 7, label: options.label === undefined ? 'nightly' : options.label, command, mode: 'run', target_pid: 4242, target_start_time: new Date(t0 - 500).toISOString(),
    host: options.host ?? 'build-host', platform: 'linux x64', interval_ms: 1000, cron: null, follow_children: 1, started_at: t0,
    ended_at: t0 + (ticks - 1) * 1000, end_reason: 'duration', exit_code: null, collector_pid: 100, collector_start_time: new Date(t0 - 900).toISOString(),
    error: null, limit_bytes: 8192 * MiB, limit_source: 'cgroup memory limit',
  };
  const processes: Row[] = [
    { id: 3, session_id: 7, pid: 4242, start_time: session.target_start_time, parent_pid: null, command, first_seq: 0, last_seq: ticks - 1 },
    { id: 4, session_id: 7, pid: 4243, start_time: new Date(t0 + 9_000).toISOString(), parent_pid: 4242, command: `${command} --worker`, first_seq: 10, last_seq: ticks - 1 },
  ];
  const names = getTableColumns(samples);
  const rows: Row[] = [];
  const regions: Row[] = [];
  let sampleId = 100;
  let regionId = 1000;
  const region = (sample: number, kind: string, start: number, size: number, type: string, details: string, committed = size) => ({
    id: regionId++, sample_id: sample, kind, start: start.toString(16), end: (start + size).toString(16), type, protection: type === 'image' ? 'r-xp' : 'rw-p',
    size, committed, total_ws: committed, private_ws: type === 'image' ? 0 : committed, details,
  });
  for (let seq = 0; seq < ticks; seq++) {
    for (const p of processes) {
      if (seq < (p.first_seq as number)) continue;
      const withUsage = seq % 5 === 0 ? 1 : 0;
      const row: Row = { id: sampleId++, session_id: 7, process_id: p.id, seq, taken_at: t0 + seq * 1000, elapsed_ms: seq * 1000, with_usage: withUsage };
      const heap = 10 * MiB + seq * 64 * 1024;
      MEMORY_TYPES.forEach((type, t) => {
        for (const column of SAMPLE_COLUMNS) {
          const base = type === 'heap' ? heap : type === 'free' ? 0 : (t + 1) * MiB;
          const value = column === 'blocks' ? t + 1 : column === 'size' ? 2 * base : base;
          row[names[sampleKey(type, column)].name] = column.endsWith('Ws') && withUsage === 0 ? null : value;
        }
      });
      rows.push(row);
      const id = row.id as number;
      const heapStart = p.id === 3 ? 0x55d0_0000_0000 : 0x5600_0000_0000;
      if (seq === p.first_seq || seq === 30) {
        regions.push(region(id, 'full', 0x7f00_0000_0000, 2 * MiB, 'image', options.details ?? '/usr/lib/libc.so.6'));
        regions.push(region(id, 'full', heapStart, heap, 'heap', '[heap]'));
        regions.push(region(id, 'full', 0x7ffc_0000_0000, 132 * 1024, 'stack', '[stack]'));
      } else if (seq % 10 === 0) {
        regions.push(region(id, 'changed', heapStart, heap, 'heap', '[heap]'));
      } else if (seq === ticks - 1) {
        regions.push(region(id, 'added', 0x7f10_0000_0000, 4 * MiB, 'private', options.details ?? 'glibc arena'));
      }
    }
  }
  const verdicts: Row[] = [
    { session_id: 7, type: 'heap', verdict: 'suspected', first_reached_at: t0 + 20_000, first_reached_seq: 20 },
    { session_id: 7, type: 'heap', verdict: 'leak', first_reached_at: t0 + 40_000, first_reached_seq: 40 },
  ];
  const execs: Row[] = [{ process_id: 4, seq: ticks - 1, command: `${command} --reloaded` }];
  return { format: 'leakwatch-session', schema: schemaVersion(), session, processes, samples: rows, regions, verdicts, execs };
}
