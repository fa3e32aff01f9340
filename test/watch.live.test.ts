/**
 * `watch` and `run` through the real CLI against real targets, checked in the real SQLite file: rows, end reasons,
 * signals, kill -9 recovery, process trees, and bad input.
 */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { runCli, type CliResult } from './helpers/cli.js';
import { repoRoot, startAllocTarget } from './helpers/targets.js';
import { lastJsonLine, query, sleep } from './helpers/live.js';

const MiB = 1024 * 1024;
const NOBODY = 65534;
const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-watch-'));
chmodSync(dir, 0o1777); // the tests that run leakwatch as another user write their databases here too
after(() => rmSync(dir, { recursive: true, force: true }));
let dbCount = 0;
const newDbPath = () => path.join(dir, `w${++dbCount}.db`);


/** Starts the CLI in the background (to signal or kill it) and waits until `samples` samples are stored. */
async function startWatch(args: string[], samples: number, options: { uid?: number } = {}) {
  const child = spawn(process.execPath, [path.join(repoRoot(), 'bin', 'leakwatch.js'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid !== undefined && { uid: options.uid, gid: options.uid }),
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const dbPath = args[args.indexOf('--db') + 1];
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if (query<{ n: number }>(dbPath, 'SELECT count(*) AS n FROM samples')[0].n >= samples) break;
    } catch {
      // The database does not exist yet or is being created.
    }
    if (Date.now() > deadline) throw new Error(`no ${samples} samples in time: ${stderr}`);
    await sleep(50);
  }
  const done = once(child, 'close').then(([code]) => ({ code: code as number | null, stdout, stderr }));
  return { child: child as ChildProcess, done, dbPath };
}

test('watch stores a session, one row per tick with every type, and region lists', async () => {
  const target = await startAllocTarget();
  try {
    const db = newDbPath();
    const watching = startWatch(['watch', String(target.pid), '--every', '200ms', '--duration', '3s', '--db', db, '--label', 'nightly-42', '--json'], 3);
    await watching;
    await target.send(`malloc ${48 * MiB}`); // the heap grows while it is watched
    const result = await (await watching).done;
    assert.equal(result.code, 0, result.stderr);
    const json = lastJsonLine(result);
    assert.deepEqual(Object.keys(json), ['session', 'samples', 'endReason', 'restarts', 'exitCode']);
    assert.equal(json.endReason, 'duration');
    assert.ok(json.samples >= 10 && json.samples <= 16, `samples ${json.samples}`);
    const [session] = query<Record<string, unknown>>(db, 'SELECT * FROM sessions');
    assert.equal(session.target_pid, target.pid);
    assert.equal(session.label, 'nightly-42');
    assert.equal(session.mode, 'watch');
    assert.equal(session.interval_ms, 200);
    assert.equal(session.end_reason, 'duration');
    assert.match(String(session.command), /alloc$/);
    assert.ok(Number(session.ended_at) - Number(session.started_at) >= 3000);
    const rows = query<Record<string, number>>(db, 'SELECT * FROM samples ORDER BY seq');
    assert.equal(rows.length, json.samples);
    assert.deepEqual(rows.map((r) => r.seq), rows.map((_, i) => i));
    for (const r of rows) {
      assert.ok(r.image_committed > 0 && r.heap_committed > 0 && r.stack_committed > 0 && r.free_size > 0 && r.page_table_committed > 0);
      assert.ok(r.elapsed_ms >= 0 && r.taken_at >= Number(session.started_at) - 1000);
    }
    assert.ok(rows.at(-1)!.heap_committed - rows[0].heap_committed >= 47 * MiB, 'the heap growth is in the samples');
    // Working-set columns are filled exactly on the ticks that read smaps (the first always does).
    assert.equal(rows[0].with_usage, 1);
    for (const r of rows) assert.equal(r.heap_total_ws !== null, r.with_usage === 1, `tick ${r.seq}`);
    const kinds = query<{ kind: string; n: number }>(db, 'SELECT kind, count(*) AS n FROM regions GROUP BY kind');
    assert.ok(kinds.some((k) => k.kind === 'full' && k.n > 10));
    assert.ok(kinds.some((k) => k.kind === 'changed' || k.kind === 'added'), 'the heap growth shows as a region delta');
  } finally {
    await target.stop();
  }
});

test('watch ends with target-exited when the target exits; run records the exit code', async () => {
  const target = await startAllocTarget();
  const db = newDbPath();
  const watching = await startWatch(['watch', String(target.pid), '--every', '200ms', '--db', db, '--json'], 2);
  await target.send('exit 3').catch(() => {});
  const result = await watching.done;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(lastJsonLine(result).endReason, 'target-exited');

  const run = await runCli(['run', '--every', '200ms', '--db', db, '--json', '--', process.execPath, '-e', 'console.log("hello from the target"); setTimeout(() => process.exit(7), 1200)']);
  assert.equal(run.code, 0, run.stderr);
  // With --json the target's stdout goes to stderr: stdout holds only the JSON result.
  assert.match(run.stderr, /^hello from the target$/m, "the target's output passes through, to stderr");
  assert.deepEqual(JSON.parse(run.stdout), lastJsonLine(run));
  const plain = await runCli(['run', '--every', '200ms', '--db', db, '--', process.execPath, '-e', 'console.log("hello from the target")']);
  assert.match(plain.stdout, /^hello from the target$/m, 'without --json it passes through to stdout');
  const json = lastJsonLine(run);
  assert.equal(json.endReason, 'target-exited');
  const [session] = query<{ exit_code: number; mode: string; command: string }>(db, 'SELECT exit_code, mode, command FROM sessions WHERE id = ?', json.session);
  assert.equal(session.exit_code, 7);
  assert.equal(session.mode, 'run');
  assert.ok(session.command.startsWith(`${process.execPath} -e console.log`), session.command);
});

test('Ctrl-C (SIGINT) finishes the sample, closes the session as interrupted, exits 0', async () => {
  const target = await startAllocTarget();
  try {
    const watching = await startWatch(['watch', String(target.pid), '--every', '100ms', '--db', newDbPath(), '--json'], 3);
    watching.child.kill('SIGINT');
    const result = await watching.done;
    assert.equal(result.code, 0, result.stderr);
    const json = lastJsonLine(result);
    assert.equal(json.endReason, 'interrupted');
    const [{ n }] = query<{ n: number }>(watching.dbPath, 'SELECT count(*) AS n FROM samples');
    assert.equal(n, json.samples, 'every sample reported is stored');
  } finally {
    await target.stop();
  }
});

test('SIGTERM ends a run with reason signal, and the started command is ended too', async () => {
  const watching = await startWatch(['run', '--every', '100ms', '--db', newDbPath(), '--json', '--', 'sleep', '60'], 3);
  watching.child.kill('SIGTERM');
  const result = await watching.done;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(lastJsonLine(result).endReason, 'signal');
  const [session] = query<{ exit_code: number; target_pid: number }>(watching.dbPath, 'SELECT exit_code, target_pid FROM sessions');
  assert.equal(session.exit_code, 128 + 15, 'sleep was ended by SIGTERM');
  assert.throws(() => readFileSync(`/proc/${session.target_pid}/stat`), 'the command no longer runs');
});

test('kill -9 of leakwatch keeps every committed sample; the next command marks the session interrupted', async () => {
  const target = await startAllocTarget();
  try {
    const watching = await startWatch(['watch', String(target.pid), '--every', '100ms', '--db', newDbPath()], 5);
    watching.child.kill('SIGKILL');
    await watching.done;
    const db = watching.dbPath;
    assert.deepEqual(query(db, 'PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
    const [before] = query<{ n: number; last: number }>(db, 'SELECT count(*) AS n, max(taken_at) AS last FROM samples');
    assert.ok(before.n >= 5);
    assert.deepEqual(query(db, 'SELECT end_reason FROM sessions'), [{ end_reason: null }]);
    const next = await runCli(['watch', String(target.pid), '--every', '100ms', '--duration', '300ms', '--db', db]);
    assert.equal(next.code, 0, next.stderr);
    const sessions = query<{ end_reason: string; ended_at: number }>(db, 'SELECT end_reason, ended_at FROM sessions ORDER BY id');
    assert.deepEqual(sessions[0], { end_reason: 'interrupted', ended_at: before.last });
    assert.equal(sessions[1].end_reason, 'duration');
    const [first] = query<{ n: number }>(db, 'SELECT count(*) AS n FROM samples WHERE session_id = 1');
    assert.equal(first.n, before.n, 'no sample of the killed session was lost or changed');
  } finally {
    await target.stop();
  }
});

test('run follows a process tree with --children: each process its own series, exits recorded', async () => {
  const db = newDbPath();
  const result = await runCli(['run', '--every', '200ms', '--db', db, '--json', '--', process.execPath, path.join(repoRoot(), 'test', 'targets', 'forker.mjs'), '3']);
  assert.equal(result.code, 0, result.stderr);
  // With --json the command's own stdout (the tree it started) comes on stderr.
  const tree = JSON.parse(result.stderr.split('\n').find((line) => line.startsWith('{"ready"'))!) as { pid: number; children: number[] };
  const rows = query<{ id: number; pid: number; parent_pid: number | null; first_seq: number; last_seq: number }>(
    db, 'SELECT id, pid, parent_pid, first_seq, last_seq FROM processes ORDER BY id');
  const byPid = new Map(rows.map((r) => [r.pid, r]));
  assert.equal(byPid.get(tree.pid)?.parent_pid, null);
  for (const child of tree.children) assert.equal(byPid.get(child)?.parent_pid, tree.pid, `child ${child}`);
  const [longLived, shortLived] = tree.children.map((pid) => byPid.get(pid)!);
  assert.ok(shortLived.last_seq < longLived.last_seq, 'the short-lived child stopped being sampled when it exited');
  // Each child holds a 16 MiB buffer: its own series shows it.
  const [childSample] = query<{ c: number }>(db, 'SELECT max(heap_committed + private_committed) AS c FROM samples WHERE process_id = ?', longLived.id);
  assert.ok(childSample.c >= 16 * MiB);
  // A tick of three processes is three rows with the same seq.
  const [shared] = query<{ n: number }>(db, 'SELECT count(*) AS n FROM samples WHERE seq = ?', shortLived.first_seq + 1);
  assert.ok(shared.n >= 3);
});

test('--no-children samples only the command itself', async () => {
  const db = newDbPath();
  const result = await runCli(['run', '--no-children', '--every', '200ms', '--db', db, '--', process.execPath, path.join(repoRoot(), 'test', 'targets', 'forker.mjs'), '1']);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(query(db, 'SELECT count(*) AS n FROM processes'), [{ n: 1 }]);
});

test('--cron samples on the cron schedule', async () => {
  const target = await startAllocTarget();
  try {
    const db = newDbPath();
    const result = await runCli(['watch', String(target.pid), '--cron', '* * * * * *', '--duration', '3500ms', '--db', db, '--json']);
    assert.equal(result.code, 0, result.stderr);
    // The first sample right away, then one per second.
    const { samples } = lastJsonLine(result);
    assert.ok(samples >= 3 && samples <= 5, `samples ${samples}`);
    assert.deepEqual(query(db, 'SELECT cron, interval_ms FROM sessions'), [{ cron: '* * * * * *', interval_ms: null }]);
  } finally {
    await target.stop();
  }
});

test('a pid taken over by another process ends the watch with pid-reused', { skip: process.getuid?.() !== 0 && 'needs root to steer pid allocation' }, async () => {
  // Steer the kernel to hand the watched pid to a new process (ns_last_pid), right after the target dies and
  // before the next tick. Rarely a tick falls between the two: then it ends as target-exited, and we try again.
  for (let attempt = 0; attempt < 5; attempt++) {
    const target = await startAllocTarget();
    const watching = await startWatch(['watch', String(target.pid), '--every', '1s', '--db', newDbPath(), '--json'], 1);
    await target.stop();
    writeFileSync('/proc/sys/kernel/ns_last_pid', String(target.pid - 1));
    const impostor = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const result = await watching.done;
      const reason = lastJsonLine(result).endReason;
      if (impostor.pid !== target.pid || reason === 'target-exited') continue;
      assert.equal(result.code, 0, result.stderr);
      assert.equal(reason, 'pid-reused');
      return;
    } finally {
      impostor.kill();
    }
  }
  assert.fail('could not hand the pid to another process in 5 attempts');
});

test('losing read access mid-watch ends the session with reason error, keeping the samples', { skip: process.getuid?.() !== 0 && 'needs root to switch users' }, async () => {
  const target = await startAllocTarget({ uid: NOBODY });
  try {
    const watching = await startWatch(['watch', String(target.pid), '--every', '100ms', '--db', newDbPath(), '--json'], 3, { uid: NOBODY });
    await target.send('nodump');
    const result = await watching.done;
    assert.equal(result.code, 3, result.stderr);
    assert.equal(lastJsonLine(result).endReason, 'error');
    assert.match(result.stderr, /permission denied/);
    const [session] = query<{ end_reason: string; error: string }>(watching.dbPath, 'SELECT end_reason, error FROM sessions');
    assert.equal(session.end_reason, 'error');
    assert.match(session.error, /not dumpable/);
  } finally {
    await target.stop();
  }
});

function assertUsageError(result: CliResult, pattern: RegExp) {
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
  assert.match(result.stderr, pattern);
}

test('bad options are one-line usage errors, checked before anything starts', async () => {
  assertUsageError(await runCli(['watch', '1', '--every', 'fast', '--db', newDbPath()]), /--every needs a duration/);
  assertUsageError(await runCli(['watch', '1', '--duration', '12 hours', '--db', newDbPath()]), /--duration needs a duration/);
  assertUsageError(await runCli(['watch', '1', '--cron', 'often', '--db', newDbPath()]), /--cron needs a cron expression/);
  assertUsageError(await runCli(['watch', '1', '--cron', '* * * * * *', '--every', '1s']), /cannot be used with/);
  assertUsageError(await runCli(['watch', String(2 ** 22), '--db', newDbPath()]), /no process with pid/);
  assertUsageError(await runCli(['run', '--db', newDbPath(), '--', 'no-such-command-xyz']), /command not found: no-such-command-xyz/);
  const marker = path.join(dir, 'must-not-start');
  assertUsageError(await runCli(['run', '--every', 'x', '--', 'touch', marker]), /--every/);
  assert.throws(() => statSync(marker), 'the command was not started');
});

test('database errors: not ours (left untouched), newer schema, missing directory', async () => {
  const target = await startAllocTarget();
  try {
    const text = path.join(dir, 'notes.txt');
    writeFileSync(text, 'my precious notes\n');
    const before = statSync(text);
    assertUsageError(await runCli(['watch', String(target.pid), '--db', text]), /is not a leakwatch database \(not an SQLite file\)/);
    assert.equal(readFileSync(text, 'utf8'), 'my precious notes\n');
    assert.equal(statSync(text).mtimeMs, before.mtimeMs);

    const other = path.join(dir, 'other.db');
    const otherDb = new Database(other);
    otherDb.exec('CREATE TABLE customers (name TEXT)');
    otherDb.close();
    const otherBytes = readFileSync(other);
    assertUsageError(await runCli(['watch', String(target.pid), '--db', other]), /is an SQLite database but not a leakwatch one/);
    assert.deepEqual(readFileSync(other), otherBytes);
    assert.throws(() => statSync(`${other}-wal`), 'no WAL file was created next to it');

    const newer = newDbPath();
    const first = await runCli(['watch', String(target.pid), '--duration', '200ms', '--db', newer]);
    assert.equal(first.code, 0, first.stderr);
    const db = new Database(newer);
    db.pragma('user_version = 99');
    db.close();
    assertUsageError(await runCli(['watch', String(target.pid), '--db', newer]), /written by a newer leakwatch \(schema 99/);

    assertUsageError(await runCli(['watch', String(target.pid), '--db', path.join(dir, 'nope', 'x.db')]), /directory .*nope does not exist/);
  } finally {
    await target.stop();
  }
});

test('demo runs the bundled leaking program under run and finds its leaks', async () => {
  const db = newDbPath();
  const result = await runCli(['demo', '--db', db], { timeoutMs: 120_000 });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /session 1: \d+ samples, ended by duration/);
  // It leaks JS objects (V8 heap) and native buffers (malloc): both are found; its stacks are not leaking.
  assert.match(result.stdout, /^Heap +LEAK /m);
  assert.match(result.stdout, /^Managed Heap +LEAK /m);
  assert.match(result.stdout, /^Stack +no leak /m);
  const report = /^The report with charts: (.*) \(open it in a browser\)$/m.exec(result.stdout);
  assert.ok(report, result.stdout);
  assert.equal(report[1], path.join(dir, 'leakwatch-demo-report.html'), 'the report goes next to the database');
  assert.match(readFileSync(report[1], 'utf8'), /<title>leakwatch session 1<\/title>/);
  assert.deepEqual(query(db, 'SELECT label, mode, end_reason FROM sessions'), [{ label: 'demo', mode: 'run', end_reason: 'duration' }]);
});

test('on a terminal one status line is redrawn in place, with the time left; off a terminal only the start line', async () => {
  const target = await startAllocTarget();
  try {
    const db = newDbPath();
    // `script` gives the CLI a pseudo-terminal; the command is ours, not user input.
    const cli = `${process.execPath} ${path.join(repoRoot(), 'bin', 'leakwatch.js')} watch ${target.pid} --every 300ms --duration 1500ms --db ${db}`;
    const tty = spawn('script', ['-qec', cli, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    tty.stdout!.setEncoding('utf8').on('data', (c: string) => (output += c));
    const [code] = await once(tty, 'close');
    assert.equal(code, 0, output);
    const redraws = output.split('\r\x1b[K').length - 1;
    assert.ok(redraws >= 4, `status redrawn ${redraws} times: ${JSON.stringify(output)}`);
    assert.match(output, /\d+:\d\d:\d\d \(0:00:0[0-2] left\) {2}\d+ samples {2}Private .* Heap .* Stack /);
    const plain = await runCli(['watch', String(target.pid), '--every', '300ms', '--duration', '1s', '--db', db]);
    // The default --progress (5 minutes) is longer than this watch: no progress line, no status line.
    assert.match(plain.stderr, /^session 2 → .*: watching pid \d+ .* every 300ms for 1s\nleakwatch: warning: --duration 1s is too short[^\n]*\n$/);
    assert.match(plain.stdout, /^session 2: \d+ samples, ended by duration/);
  } finally {
    await target.stop();
  }
});

test('several watches starting at once on a new database all get their session (migrations take turns)', async () => {
  const target = await startAllocTarget();
  try {
    const db = newDbPath();
    const results = await Promise.all([1, 2, 3, 4].map(() => runCli(['watch', String(target.pid), '--duration', '500ms', '--every', '100ms', '--db', db, '--json'])));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(results.map((r) => lastJsonLine(r).session).sort(), [1, 2, 3, 4]);
  } finally {
    await target.stop();
  }
});
