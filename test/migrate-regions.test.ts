/**
 * Migration 0003 on a database written by the schema before it (migrations 0000-0002, region addresses as hex text):
 * every address becomes the integer it names, one above 2^53 the `0x` text, and readers rebuild the same regions.
 */
import Database from 'better-sqlite3';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { APPLICATION_ID, openForWrite } from '../src/db/open.js';
import { regionsAt } from '../src/db/regions.js';
import { hexAddress, sortedRegions, storedAddress } from '../src/db/region-deltas.js';
import { repoRoot } from './helpers/targets.js';

const OLD_REGIONS: [kind: string, start: string, end: string, details: string][] = [
  ['full', '00400000', '00401000', '/usr/bin/cat'],
  ['full', '7f0000000000', '7f0000021000', ''],
  ['full', '7ffff7fc1000', '7ffff7fc5000', '[vvar]'],
  ['full', 'ffffffffff600000', 'ffffffffff601000', '[vsyscall]'],
];

function oldDatabase(file: string): void {
  const client = new Database(file);
  try {
    for (const migration of readMigrationFiles({ migrationsFolder: path.join(repoRoot(), 'migrations') }).slice(0, 3)) {
      for (const statement of migration.sql) if (statement.trim()) client.exec(statement);
    }
    client.pragma(`application_id = ${APPLICATION_ID}`);
    client.pragma('user_version = 3');
    client.exec(`INSERT INTO sessions (id, command, mode, target_pid, target_start_time, host, platform, follow_children, started_at, collector_pid, collector_start_time)
      VALUES (1, 'cat', 'watch', 42, 't', 'h', 'linux', 0, 1000, 43, 't')`);
    client.exec("INSERT INTO processes (id, session_id, pid, start_time, command, first_seq, last_seq) VALUES (1, 1, 42, 't', 'cat', 0, 1)");
    client.exec('INSERT INTO samples (id, session_id, process_id, seq, taken_at, elapsed_ms, with_usage) VALUES (1, 1, 1, 0, 1000, 0, 1), (2, 1, 1, 1, 2000, 1000, 0)');
    const insert = client.prepare(`INSERT INTO regions (sample_id, kind, start, "end", type, protection, size, committed, details)
      VALUES (?, ?, ?, ?, 'private', 'rw-p', ?, ?, ?)`);
    for (const [kind, start, end, details] of OLD_REGIONS) {
      const size = Number(BigInt(`0x${end}`) - BigInt(`0x${start}`));
      insert.run(1, kind, start, end, size, size, details);
    }
    insert.run(2, 'added', '7f0000100000', '7f0000200000', 1 << 20, 1 << 20, '');
  } finally {
    client.close();
  }
}

test('storedAddress / hexAddress: integers where exact, 0x text above 2^53, the collectors\' hex back', () => {
  assert.equal(storedAddress('7ffff7fc1000'), 0x7ffff7fc1000);
  assert.equal(storedAddress('ffffffffff600000'), '0xffffffffff600000');
  for (const hex of ['00400000', '7f0000000000', 'ffffffffff600000', '1fffffffffffff']) assert.equal(hexAddress(storedAddress(hex)), hex);
});

test('migration 0003 turns the regions of an older database into integer addresses; the regions read back the same', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-migrate-'));
  try {
    const file = path.join(dir, 'old.db');
    oldDatabase(file);
    const db = openForWrite(file);
    const rows = db.$client.prepare('SELECT start, "end", typeof(start) AS t FROM regions ORDER BY id').all() as { start: unknown; end: unknown; t: string }[];
    assert.deepEqual(rows.map((r) => [r.start, r.end]), [
      [0x400000, 0x401000], [0x7f0000000000, 0x7f0000021000], [0x7ffff7fc1000, 0x7ffff7fc5000],
      ['0xffffffffff600000', '0xffffffffff601000'], [0x7f0000100000, 0x7f0000200000],
    ]);
    const at1 = sortedRegions(regionsAt(db, 1, 1)).map((r) => [r.start, r.end, r.details]);
    assert.deepEqual(at1, [
      ['00400000', '00401000', '/usr/bin/cat'], ['7f0000000000', '7f0000021000', ''], ['7f0000100000', '7f0000200000', ''],
      ['7ffff7fc1000', '7ffff7fc5000', '[vvar]'], ['ffffffffff600000', 'ffffffffff601000', '[vsyscall]'],
    ]);
    assert.equal(db.$client.pragma('user_version', { simple: true }), 4);
    assert.deepEqual(db.$client.prepare("SELECT name FROM sqlite_schema WHERE tbl_name = 'regions' AND type = 'index'").pluck().all(), ['regions_sample']);
    db.$client.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
