/**
 * The database's bad moments, through the real CLI on real processes and real files: a lock held by a second
 * connection, a prune of a big session during a watch, a really full filesystem (a small tmpfs), the database file
 * deleted or replaced under a watch, files that are no database (a device, a FIFO, a directory), damaged pages, and
 * read-only files and directories. Whatever happens, no sample is lost that could be kept, and every failure is one
 * line naming its cause.
 */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { type CliResult, runCli } from './helpers/cli.js';
import { lengthenSession, recordShortSession } from './helpers/long-session.js';
import { startAllocTarget } from './helpers/targets.js';
import { lastJsonLine, query, sleep, startCli, until } from './helpers/live.js';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-faults-'));
chmodSync(dir, 0o755); // the tests that run leakwatch as another user read here
const mounts: string[] = [];
const immutable: string[] = [];
after(() => {
  for (const file of immutable) spawnSync('chattr', ['-i', file]);
  for (const mount of mounts) spawnSync('umount', ['-l', mount]);
  rmSync(dir, { recursive: true, force: true });
});
let count = 0;
const newDbPath = (where = dir) => path.join(where, `f${++count}.db`);


/** How many samples are stored (0 while the database is not there yet or is locked). */
function storedSamples(file: string): number {
  try {
    return query<{ n: number }>(file, 'SELECT count(*) AS n FROM samples')[0].n;
  } catch {
    return 0;
  }
}

/** Every tick stored once, in order: seqs 0..n-1 on one process, each later than the one before. */
function assertNoGap(file: string, session: number, expected?: number): { seq: number; elapsed_ms: number; taken_at: number }[] {
  const rows = query<{ seq: number; elapsed_ms: number; taken_at: number }>(file, 'SELECT seq, elapsed_ms, taken_at FROM samples WHERE session_id = ? ORDER BY id', session);
  if (expected !== undefined) assert.equal(rows.length, expected, 'every sample said is stored');
  assert.deepEqual(rows.map((r) => r.seq), rows.map((_, i) => i), 'seqs 0..n-1, in order, none twice');
  for (let i = 1; i < rows.length; i++) assert.ok(rows[i].elapsed_ms > rows[i - 1].elapsed_ms, `elapsed increases at seq ${i}`);
  return rows;
}

/** The longest pause in the sampling (ms): the sampling went on whatever the database did. */
const longestGap = (rows: { elapsed_ms: number }[]) => Math.max(...rows.slice(1).map((r, i) => r.elapsed_ms - rows[i].elapsed_ms));

const oneLine = (stderr: string) => assert.match(stderr, /^leakwatch: [^\n]+\n$/, `one line: ${stderr}`);
const noInternalError = (result: CliResult) => {
  assert.notEqual(result.code, 70, result.stderr);
  assert.doesNotMatch(result.stderr, /internal error|cannot rollback/);
};

test('a lock held past busy_timeout: sampling goes on, the samples wait and are written in order, the watch ends by duration', async () => {
  const target = await startAllocTarget();
  try {
    const db = newDbPath();
    const watch = startCli(['watch', String(target.pid), '--every', '100ms', '--duration', '15s', '--progress', '1s', '--db', db, '--json']);
    await until('ten samples', () => storedSamples(db) >= 10);
    // A second connection takes the write lock and keeps it for 8 s, longer than the watch's 5 s busy_timeout.
    const locker = new Database(db);
    locker.exec('BEGIN EXCLUSIVE');
    const lockedAt = Date.now();
    const before = storedSamples(db);
    await until('the watch to say the database is locked', () => /the database is locked by another connection/.test(watch.output.stderr));
    await sleep(Math.max(0, lockedAt + 8000 - Date.now()));
    // Nothing was written meanwhile: the samples waited in memory.
    assert.equal(storedSamples(db), before);
    locker.exec('COMMIT');
    const releasedAt = Date.now();
    locker.close();
    const result = await watch.done;
    assert.equal(result.code, 0, result.stderr);
    const json = lastJsonLine(result);
    assert.equal(json.endReason, 'duration');
    assert.match(result.stderr, /leakwatch: the database is locked by another connection \(SQLite: database is locked\) since \d:\d\d:\d\d: sampling goes on/);
    assert.match(result.stderr, /leakwatch: session 1: .*database locked since \d:\d\d:\d\d, \d+ samples waiting/, 'the progress line says so');
    assert.match(result.stderr, /leakwatch: caught up: the database takes writes again; the \d+ samples that waited since \d:\d\d:\d\d are written/);
    const rows = assertNoGap(db, json.session, json.samples);
    const duringLock = rows.filter((r) => r.taken_at > lockedAt + 500 && r.taken_at < releasedAt - 500).length;
    assert.ok(duringLock >= 30, `sampled during the lock: ${duringLock} samples`);
    assert.ok(longestGap(rows) < 1500, `longest gap ${longestGap(rows)} ms`);
    assert.deepEqual(query(db, 'SELECT end_reason, error FROM sessions'), [{ end_reason: 'duration', error: null }]);
  } finally {
    await target.stop();
  }
});

test('an outage past the give-up limit (LEAKWATCH_OUTAGE_GIVE_UP=2s): exit 3, the reason stored, the samples that waited written when the lock goes', async () => {
  const target = await startAllocTarget();
  try {
    const db = newDbPath();
    const watch = startCli(['watch', String(target.pid), '--every', '100ms', '--duration', '60s', '--db', db, '--json'], { env: { LEAKWATCH_OUTAGE_GIVE_UP: '2s' } });
    await until('five samples', () => storedSamples(db) >= 5);
    const locker = new Database(db);
    locker.exec('BEGIN EXCLUSIVE');
    // Given up after 2 s of lock: the watch stops sampling and has a last few seconds to write what waits.
    await until('the watch to give up and write what waits', () => /still waiting before closing the session/.test(watch.output.stderr));
    locker.exec('COMMIT');
    locker.close();
    const result = await watch.done;
    assert.equal(result.code, 3, result.stderr);
    const error = /the database was locked by another connection from \d:\d\d:\d\d \(SQLite: database is locked\) for more than 2s: gave up waiting; the samples that waited were written before closing/;
    assert.match(result.stderr, new RegExp(`leakwatch: the watch stopped early: ${error.source}\n$`));
    const [session] = query<{ id: number; end_reason: string; error: string }>(db, 'SELECT id, end_reason, error FROM sessions');
    assert.equal(session.end_reason, 'error');
    assert.match(session.error, error);
    const rows = assertNoGap(db, session.id);
    assert.equal(lastJsonLine(result).samples, rows.length);
    assert.match(result.stderr, new RegExp(`\nsession 1: ${rows.length} samples, ended by error`));
    assert.ok(rows.at(-1)!.elapsed_ms < 30_000, 'it ended long before its duration');
  } finally {
    await target.stop();
  }
});

test('prune of a big session runs in small transactions: a watch writing meanwhile ends by duration with every sample, nobody waits long for the lock', async () => {
  const db = newDbPath();
  const template = await recordShortSession(db, '3s');
  // 300,000 ticks: about 1.2 million sample and region rows, a 150 MB file; one transaction would hold the lock ~3 s.
  const big = lengthenSession(db, template, { ticks: 300_000, intervalMs: 1000 });
  const rowsBefore = query<{ n: number }>(db, 'SELECT (SELECT count(*) FROM samples) + (SELECT count(*) FROM regions) AS n')[0].n;
  assert.ok(rowsBefore > 1_000_000, `${rowsBefore} rows`);
  const target = await startAllocTarget();
  try {
    const watch = startCli(['watch', String(target.pid), '--every', '100ms', '--duration', '15s', '--db', db, '--json']);
    await until('five samples of the watch', () => query<{ n: number }>(db, 'SELECT count(*) AS n FROM samples WHERE session_id <> ?', big)[0].n >= 5);
    const prune = startCli(['prune', '--keep', '1', '--db', db, '--json']);
    // A third connection measures how long a writer waits for the lock while the prune runs.
    const probe = new Database(db, { timeout: 30_000 });
    let longestWait = 0;
    let probes = 0;
    let pruned: CliResult | undefined;
    void prune.done.then((r) => (pruned = r));
    while (!pruned) {
      const start = performance.now();
      probe.exec('BEGIN IMMEDIATE');
      probe.exec('ROLLBACK');
      longestWait = Math.max(longestWait, performance.now() - start);
      probes++;
      await sleep(20);
    }
    probe.close();
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.deepEqual(JSON.parse(pruned.stdout).sessions.map((s: { id: number }) => s.id), [big]);
    assert.ok(probes >= 10, `${probes} probes`);
    assert.ok(longestWait < 1000, `a writer waited ${longestWait.toFixed(0)} ms for the lock`);
    const result = await watch.done;
    assert.equal(result.code, 0, result.stderr);
    const json = lastJsonLine(result);
    assert.equal(json.endReason, 'duration');
    const rows = assertNoGap(db, json.session, json.samples);
    assert.ok(longestGap(rows) < 1500, `longest gap ${longestGap(rows)} ms`);
    // Everything of the big session is gone, nothing of the watch's.
    const left = query<{ sessions: number; others: number }>(db, 'SELECT (SELECT count(*) FROM sessions) AS sessions, (SELECT count(*) FROM samples WHERE session_id <> ?) + (SELECT count(*) FROM processes WHERE session_id <> ?) AS others', json.session, json.session);
    assert.deepEqual(left, [{ sessions: 1, others: 0 }]);
    assert.deepEqual(query(db, 'PRAGMA foreign_key_check'), []);
  } finally {
    await target.stop();
  }
});

test('a database made unwritable under a watch (chattr +i on its WAL): the samples wait and are written once it is lifted', { skip: !isRoot && 'needs root for chattr +i' }, async () => {
  const target = await startAllocTarget();
  try {
    const db = newDbPath();
    const watch = startCli(['watch', String(target.pid), '--every', '100ms', '--duration', '10s', '--db', db, '--json']);
    await until('five samples', () => storedSamples(db) >= 5);
    assert.equal(spawnSync('chattr', ['+i', `${db}-wal`]).status, 0);
    immutable.push(`${db}-wal`);
    await until('the watch to say writes fail', () => /the database is failing writes \(a read-only or failing disk\) \(SQLite: disk I\/O error\) since/.test(watch.output.stderr));
    await sleep(1500);
    assert.equal(spawnSync('chattr', ['-i', `${db}-wal`]).status, 0);
    const result = await watch.done;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /leakwatch: caught up: the database takes writes again; the \d+ samples that waited since/);
    const json = lastJsonLine(result);
    assert.equal(json.endReason, 'duration');
    assertNoGap(db, json.session, json.samples);
  } finally {
    await target.stop();
  }
});

/** A tmpfs of `size` (a really full filesystem is a small one); undefined where mounting is not allowed. */
function smallFilesystem(size: string): string | undefined {
  const mount = mkdtempSync(path.join(dir, 'tmpfs-'));
  const result = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=1777`, 'tmpfs', mount], { encoding: 'utf8' });
  if (result.status !== 0) return undefined;
  mounts.push(mount);
  return mount;
}

/** Writes a file until the filesystem is full (ENOSPC). */
function fillUp(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(4096, 0x55);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

const canMount = isRoot && (() => {
  const probe = smallFilesystem('64k');
  return probe !== undefined;
})();

test('a full disk: the samples wait until there is room again, then are written in order; the watch ends by duration', { skip: !canMount && 'needs root to mount a small tmpfs' }, async () => {
  const mount = smallFilesystem('8m')!;
  const db = newDbPath(mount);
  const target = await startAllocTarget();
  try {
    const watch = startCli(['watch', String(target.pid), '--every', '100ms', '--duration', '12s', '--db', db, '--json']);
    await until('five samples', () => storedSamples(db) >= 5);
    const filler = path.join(mount, 'filler');
    fillUp(filler);
    await until('the watch to say the disk is full', () => /the database is on a full disk \(SQLite: database or disk is full\)/.test(watch.output.stderr));
    await sleep(1500);
    rmSync(filler);
    const result = await watch.done;
    assert.equal(result.code, 0, result.stderr);
    const json = lastJsonLine(result);
    assert.equal(json.endReason, 'duration');
    assert.match(result.stderr, /leakwatch: caught up: the database takes writes again; the \d+ samples that waited since/);
    const rows = assertNoGap(db, json.session, json.samples);
    assert.ok(longestGap(rows) < 1500, `longest gap ${longestGap(rows)} ms`);
    assert.deepEqual(query(db, 'PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
  } finally {
    await target.stop();
  }
});

test('a disk that stays full: the watch gives up with exit 3 naming the full disk; every later command works, and works fully once there is room', { skip: !canMount && 'needs root to mount a small tmpfs' }, async () => {
  // 600 KiB: the watch's own WAL fills it within seconds.
  const mount = smallFilesystem('600k')!;
  const db = newDbPath(mount);
  const target = await startAllocTarget();
  const env = { LEAKWATCH_OUTAGE_GIVE_UP: '2s' };
  try {
    const result = await runCli(['watch', String(target.pid), '--every', '100ms', '--duration', '60s', '--db', db], { env: { ...process.env, ...env }, timeoutMs: 120_000 });
    assert.equal(result.code, 3, result.stderr);
    noInternalError(result);
    assert.match(result.stderr, /the database is on a full disk \(SQLite: database or disk is full\) since/);
    assert.match(result.stderr, /\nleakwatch: the watch stopped early: the database was on a full disk from \d:\d\d:\d\d \(SQLite: database or disk is full\) for more than 2s: gave up waiting; [^\n]+\n$/);
    const lost = Number(/(\d+) samples? lost \(never written\)/.exec(result.stderr)?.[1] ?? 0);
    const closed = !/the session could not be closed/.test(result.stderr);

    // Still full: readers read; writers say the disk is full (or manage in the space SQLite has), never "cannot rollback".
    const sessions = await runCli(['sessions', '--db', db, '--json']);
    assert.equal(sessions.code, 0, sessions.stderr);
    const [listed] = JSON.parse(sessions.stdout);
    assert.equal(listed.endReason, closed ? 'error' : 'interrupted');
    const stored = query<{ n: number }>(db, 'SELECT count(*) AS n FROM samples')[0].n;
    assert.equal(listed.samples, stored);
    assert.ok(stored >= 5 && lost >= 0, `${stored} stored, ${lost} lost`);
    assertNoGap(db, listed.id, stored);
    for (const args of [['export', String(listed.id), '--db', db], ['show', String(listed.id), '--db', db]]) {
      const read = await runCli(args);
      assert.equal(read.code, 0, read.stderr);
    }
    const prune = await runCli(['prune', '--keep', '0', '--db', db]);
    noInternalError(prune);
    if (prune.code !== 0) {
      assert.equal(prune.code, 2, prune.stderr);
      assert.match(prune.stderr, /^leakwatch: the disk holding \S+ is full \(SQLite: database or disk is full\): free some space and try again\n$/);
    }
    const again = await runCli(['watch', String(target.pid), '--every', '100ms', '--duration', '1s', '--db', db], { env: { ...process.env, ...env } });
    noInternalError(again);
    if (again.code !== 0) {
      assert.equal(again.code, 3, again.stderr);
      assert.match(again.stderr, /on a full disk/);
    }

    // Room again (the tmpfs grown): every writer works and the file is whole.
    assert.equal(spawnSync('mount', ['-o', 'remount,size=16m', mount]).status, 0);
    const prunedNow = await runCli(['prune', '--keep', '0', '--db', db]);
    assert.equal(prunedNow.code, 0, prunedNow.stderr);
    const watch = await runCli(['watch', String(target.pid), '--every', '100ms', '--duration', '1s', '--db', db, '--json']);
    assert.equal(watch.code, 0, watch.stderr);
    assertNoGap(db, lastJsonLine(watch).session, lastJsonLine(watch).samples);
    assert.deepEqual(query(db, 'PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
  } finally {
    await target.stop();
  }
});

test('the database file deleted under a running watch: exit 3, one line saying so, everything it held saved beside it', async () => {
  const target = await startAllocTarget();
  try {
    const db = newDbPath();
    const watch = startCli(['watch', String(target.pid), '--every', '100ms', '--duration', '60s', '--db', db, '--json']);
    await until('ten samples', () => storedSamples(db) >= 10);
    const deletedAt = Date.now();
    rmSync(db);
    const result = await watch.done;
    assert.equal(result.code, 3, result.stderr);
    assert.ok(Date.now() - deletedAt < 10_000, 'noticed within seconds');
    const rescued = `${db}.rescued`;
    const line = new RegExp(`\nleakwatch: the watch stopped early: ${db} was deleted while recording \\(noticed at \\d:\\d\\d:\\d\\d\\): everything the file held, this session's (\\d+) samples included, is saved in ${rescued}\n$`);
    assert.match(result.stderr, line);
    const said = Number(line.exec(result.stderr)![1]);
    // The copy is a whole leakwatch database: the session closed, every sample in it.
    const sessions = await runCli(['sessions', '--db', rescued, '--json']);
    assert.equal(sessions.code, 0, sessions.stderr);
    const [session] = JSON.parse(sessions.stdout);
    assert.equal(session.endReason, 'error');
    assertNoGap(rescued, session.id, said);
    // No stale WAL is left at the path (a new database there would read it as its own), and a new watch works.
    assert.ok(!existsSync(db) && !existsSync(`${db}-wal`) && !existsSync(`${db}-shm`));
    const fresh = await runCli(['watch', String(target.pid), '--every', '100ms', '--duration', '1s', '--db', db, '--json']);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.equal(lastJsonLine(fresh).session, 1);
    assert.deepEqual(query(db, 'PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
  } finally {
    await target.stop();
  }
});

test('the database file replaced under a running watch: exit 3, the new file left untouched, the old one saved beside it', async () => {
  const target = await startAllocTarget();
  try {
    const other = newDbPath();
    const first = await runCli(['watch', String(target.pid), '--every', '100ms', '--duration', '500ms', '--db', other]);
    assert.equal(first.code, 0, first.stderr);
    const db = newDbPath();
    const watch = startCli(['watch', String(target.pid), '--every', '100ms', '--duration', '60s', '--db', db, '--json']);
    await until('ten samples', () => storedSamples(db) >= 10);
    const replacement = `${db}.new`;
    copyFileSync(other, replacement);
    const hash = createHash('sha256').update(readFileSync(replacement)).digest('hex');
    renameSync(replacement, db);
    const result = await watch.done;
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, new RegExp(`\nleakwatch: the watch stopped early: ${db} was replaced by another file while recording \\(noticed at [\\d:]+\\); the file now at ${db} was left untouched: everything the file held, this session's \\d+ samples included, is saved in ${db}\\.rescued\n$`));
    assert.equal(createHash('sha256').update(readFileSync(db)).digest('hex'), hash, 'the new file is as it was put there');
    const rescued = await runCli(['sessions', '--db', `${db}.rescued`, '--json']);
    assert.equal(rescued.code, 0, rescued.stderr);
    assert.equal(JSON.parse(rescued.stdout)[0].endReason, 'error');
  } finally {
    await target.stop();
  }
});

test('what is no database file is refused before SQLite opens it: a device, a FIFO, a directory (one line, exit 2, nothing created)', async () => {
  const fifo = path.join(dir, 'fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const marker = path.join(dir, 'started');
  const journalBefore = existsSync('/dev/null-journal');
  for (const [file, kind] of [['/dev/null', 'a character device'], [fifo, 'a FIFO \\(named pipe\\)'], [dir, 'a directory']]) {
    for (const args of [['run', '--every', '100ms', '--duration', '1s', '--db', file, '--', 'touch', marker], ['sessions', '--db', file], ['report', '1', '--db', file], ['prune', '--keep', '1', '--db', file]]) {
      const result = await runCli(args, { timeoutMs: 20_000 });
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      oneLine(result.stderr);
      assert.match(result.stderr, new RegExp(`^leakwatch: ${file} is ${kind}, not a database file\n$`));
    }
  }
  assert.ok(!existsSync(marker), 'run did not start its command');
  if (!journalBefore) assert.ok(!existsSync('/dev/null-journal'), 'no /dev/null-journal');
  for (const suffix of ['-journal', '-wal', '-shm']) assert.ok(!existsSync(`${fifo}${suffix}`));
});

/** A short real session in a new database file, closed (checkpointed: everything is in the main file). */
async function recordedDatabase(where = dir): Promise<string> {
  const db = newDbPath(where);
  const result = await runCli(['run', '--every', '100ms', '--duration', '2s', '--db', db, '--', 'sleep', '30']);
  assert.equal(result.code, 0, result.stderr);
  assert.ok(!existsSync(`${db}-wal`));
  return db;
}

/** Writes garbage over page `page` (1-based) of a database file. */
function damagePage(file: string, page: number): void {
  const pageSize = query<{ page_size: number }>(file, 'PRAGMA page_size')[0].page_size;
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, Buffer.alloc(pageSize, 0xde), 0, pageSize, (page - 1) * pageSize);
  } finally {
    closeSync(fd);
  }
}

test('damaged pages: every reader exits 2 naming PRAGMA integrity_check and how to save what reads; a writer too', async () => {
  const db = await recordedDatabase();
  // A leaf page of the samples table (found with dbstat): what every reader of a session reads.
  const [{ pageno }] = query<{ pageno: number }>(db, "SELECT pageno FROM dbstat WHERE name = 'samples' AND pagetype = 'leaf' ORDER BY pageno LIMIT 1");
  damagePage(db, pageno);
  const damaged = new RegExp(`^leakwatch: ${db} is damaged \\(SQLite: database disk image is malformed\\): check it with: sqlite3 ${db} "PRAGMA integrity_check"; save what still reads with: sqlite3 ${db} \\.recover \\| sqlite3 recovered\\.db \\(or export the sessions that still read\\)\n$`);
  for (const args of [['show', '1'], ['export', '1'], ['report', '1', '-o', path.join(dir, 'damaged.html')], ['regions', '1'], ['analyze', '1'], ['query', '1']]) {
    const result = await runCli([...args, '--db', db]);
    assert.equal(result.code, 2, `${args[0]}: ${result.stderr}`);
    assert.match(result.stderr, damaged, args[0]);
  }
  // Page 3: the AUTOINCREMENT counters, which a new session writes.
  const other = await recordedDatabase();
  damagePage(other, 3);
  const watch = await runCli(['run', '--every', '100ms', '--duration', '1s', '--db', other, '--', 'sleep', '30']);
  assert.equal(watch.code, 3, watch.stderr);
  noInternalError(watch);
  assert.match(watch.stderr, new RegExp(`^leakwatch: nothing was stored: ${other} is damaged \\(SQLite: database disk image is malformed\\): check it with: sqlite3 ${other} "PRAGMA integrity_check"`));
});

test('read-only: readers work in a directory they may not write and on an immutable file; writers say in one line why they cannot write', { skip: !isRoot && 'needs root to switch users and set chattr +i' }, async () => {
  const place = path.join(dir, 'read-only');
  mkdirSync(place, { mode: 0o755 });
  const db = await recordedDatabase(place);
  chmodSync(db, 0o644);
  const samples = query<{ n: number }>(db, 'SELECT count(*) AS n FROM samples')[0].n;
  const out = path.join(dir, 'reports');
  mkdirSync(out);
  chmodSync(out, 0o1777);
  let reports = 0;
  const readsAll = async (uid?: number) => {
    for (const args of [['sessions', '--json'], ['show', '1'], ['analyze', '1'], ['report', '1', '-o', path.join(out, `r${++reports}.html`)]]) {
      const result = await runCli([...args, '--db', db], { uid });
      assert.equal(result.code, 0, `${args[0]} as ${uid ?? 'root'}: ${result.stderr}`);
    }
    const exported = await runCli(['export', '1', '--db', db, '--format', 'csv'], { uid });
    assert.equal(exported.stdout.trimEnd().split('\n').length, 1 + samples, 'every sample read');
  };
  const writers = [['run', '--every', '100ms', '--duration', '1s', '--db', db, '--', 'true'], ['prune', '--keep', '0', '--db', db]];
  const refused = async (why: RegExp, uid?: number) => {
    for (const args of writers) {
      const result = await runCli(args, { uid });
      assert.equal(result.code, 2, `${args[0]}: ${result.stderr}`);
      oneLine(result.stderr);
      assert.match(result.stderr, why);
    }
  };
  // Another user in root's directory: neither the file nor the directory (for the -shm) is writable.
  await readsAll(NOBODY);
  await refused(new RegExp(`^leakwatch: cannot write to ${db}: it is not writable by this user \\(uid ${NOBODY}, mode 0644\\)\n$`), NOBODY);
  // An immutable file: even root may not write it.
  assert.equal(spawnSync('chattr', ['+i', db]).status, 0);
  immutable.push(db);
  await readsAll();
  await refused(new RegExp(`^leakwatch: cannot write to ${db}: it is immutable \\(chattr -i ${db} lifts that\\)\n$`));
  assert.equal(spawnSync('chattr', ['-i', db]).status, 0);
  // An immutable directory: no -shm can be created beside the file, for root either.
  rmSync(`${db}-shm`, { force: true });
  assert.equal(spawnSync('chattr', ['+i', place]).status, 0);
  immutable.push(place);
  await readsAll();
  await refused(new RegExp(`^leakwatch: cannot write to ${db}: its directory ${place} is immutable \\(chattr -i ${place} lifts that\\), and SQLite needs to create ${path.basename(db)}-wal and -shm there\n$`));
  assert.equal(spawnSync('chattr', ['-i', place]).status, 0);
  assert.deepEqual(query(db, 'PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
  assert.equal(query<{ n: number }>(db, 'SELECT count(*) AS n FROM samples')[0].n, samples, 'nothing was written');
});
