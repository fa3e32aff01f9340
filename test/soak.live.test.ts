/**
 * What an unattended soak needs, through the real CLI on real processes: targets found by name or pid file and
 * followed across restarts (each life judged on its own), the heartbeat off a terminal, and readers that tell the
 * truth about a session whose collector was killed.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { runCli, type CliResult } from './helpers/cli.js';
import { buildCTarget, repoRoot, startAllocTarget, startRestartingLeaker } from './helpers/targets.js';
import { lastJsonLine, query, sleep, until as waitUntil } from './helpers/live.js';

const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-soak-'));
const started: ChildProcess[] = [];
after(() => {
  for (const child of started) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});


/** Waits at most 20 s here: the soak tests' own bound. */
const until = (what: string, done: () => boolean) => waitUntil(what, done, 20_000);

function spawnTracked(file: string, args: string[]): ChildProcess {
  const child = spawn(file, args, { stdio: 'ignore' });
  started.push(child);
  return child;
}

// A program that leaks 2.5 MiB/s and "crashes" after 400 of its ticks (~40 s), restarted by a watchdog: the pid
// file names each new life. Recorded with --pidfile --follow for 90 s: two full lives and part of a third. A life
// needs 30 s to be judged: 40 leaves room for a slow start of the CLI on a busy machine.
const LIFE_TICKS = 400;
interface Finding {
  type: string;
  verdict: string;
  slopeBytesPerHour: number;
  onsetSeconds: number | null;
  explanation: string;
  lives: { startSeconds: number; endSeconds: number; verdict: string }[];
}
interface Restarting {
  db: string;
  watch: CliResult;
  session: number;
  findings: Finding[];
}

/** Records the restarting program; started at once, so the other tests run meanwhile. */
async function recordRestarts(): Promise<Restarting> {
  const pidfile = path.join(dir, 'leaker.pid');
  started.push(await startRestartingLeaker(pidfile, 'heap', LIFE_TICKS));
  const db = path.join(dir, 'restarts.db');
  const watch = await runCli(['watch', '--pidfile', pidfile, '--follow', '--every', '250ms', '--duration', '90s', '--db', db, '--json'], { timeoutMs: 180_000 });
  assert.equal(watch.code, 0, watch.stderr);
  const session = lastJsonLine(watch).session as number;
  const analysis = await runCli(['analyze', String(session), '--db', db, '--json']);
  assert.equal(analysis.code, 0, analysis.stderr);
  return { db, watch, session, findings: JSON.parse(analysis.stdout).findings };
}
const recording = recordRestarts();
// A failure is reported by the tests that await it, not as an unhandled rejection.
recording.catch(() => undefined);

test('--name: one match is watched, several are listed unless --all, a "/" matches the command line', async () => {
  // A name no other process has: a copy of the leaker under a name of this test run.
  const name = `lwsoak${process.pid}`.slice(0, 15);
  const binary = path.join(dir, name);
  copyFileSync(buildCTarget('leaker'), binary);
  const first = spawnTracked(binary, ['plateau']);
  await until('the first target', () => first.pid !== undefined);
  const db = path.join(dir, 'names.db');
  const one = await runCli(['watch', '--name', name, '--duration', '600ms', '--every', '200ms', '--db', db, '--json']);
  assert.equal(one.code, 0, one.stderr);
  assert.equal(query<{ target_pid: number }>(db, `SELECT target_pid FROM sessions WHERE id = ${lastJsonLine(one).session}`)[0].target_pid, first.pid);

  const second = spawnTracked(binary, ['plateau']);
  await until('the second target', () => second.pid !== undefined);
  await sleep(200);
  const ambiguous = await runCli(['watch', '--name', name, '--duration', '1s', '--db', db]);
  assert.equal(ambiguous.code, 2, ambiguous.stderr);
  assert.equal(ambiguous.stderr.trimEnd().split('\n').length, 1);
  assert.match(ambiguous.stderr, new RegExp(`2 processes match '${name}': ${first.pid} \\(.*\\), ${second.pid} \\(.*\\); .* --all`));

  const all = await runCli(['watch', '--name', `${dir}/${name}`, '--all', '--duration', '600ms', '--every', '200ms', '--db', db, '--json']);
  assert.equal(all.code, 0, all.stderr);
  const pids = query<{ pid: number }>(db, `SELECT pid FROM processes WHERE session_id = ${lastJsonLine(all).session} AND parent_pid IS NULL ORDER BY pid`).map((p) => p.pid);
  assert.deepEqual(pids, [first.pid!, second.pid!].sort((a, b) => a - b));

  const missing = await runCli(['watch', '--name', 'no-such-program-xyz', '--duration', '1s', '--db', db]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^leakwatch: no process matches 'no-such-program-xyz' \(add --follow to wait for one\)$/m);
  for (const [args, message] of [
    [['watch', '1', '--follow'], /--follow needs --name or --pidfile/],
    [['watch', '1', '--name', name], /exactly one target/],
    [['watch', '--all', '--pidfile', 'x'], /--all goes with --name/],
    [['run', '--follow', '--', 'true'], /unknown option '--follow'/],
    [['watch', '--pidfile', path.join(dir, 'none.pid'), '--duration', '1s'], /none\.pid names no running process/],
  ] as const) {
    const result = await runCli([...args, '--db', db]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, message);
  }
});

test('off a terminal: a start line, a progress line every --progress, the closing JSON alone on stdout; --quiet silences both', async () => {
  const target = await startAllocTarget();
  try {
    const db = path.join(dir, 'heartbeat.db');
    const result = await runCli(['watch', String(target.pid), '--every', '200ms', '--duration', '2500ms', '--progress', '1s', '--db', db, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stderr.trimEnd().split('\n');
    assert.match(lines[0], new RegExp(`^session 1 → ${db}: watching pid ${target.pid} \\(.*alloc.*\\) every 200ms for 2\\.5s$`));
    assert.match(lines[1], /^leakwatch: warning: --duration 2\.5s is too short for the analysis to judge a leak at --every 200ms; it needs at least 31s \(30 samples over 30 s or more\)\. The samples are recorded anyway\.$/);
    const progress = lines.filter((l) => l.startsWith('leakwatch: session 1: '));
    assert.ok(progress.length >= 2, result.stderr);
    for (const line of progress) {
      assert.match(line, /^leakwatch: session 1: 0:00:0\d \(0:00:0\d left\), \d+ samples; Private [\d.]+ \w*B \([+-][\d.]+ \w*B\), Heap .*, Managed Heap .*, Stack .*$/);
    }
    assert.match(lines.at(-1)!, /^session 1: \d+ samples, ended by duration/);
    assert.equal(result.stdout.trimEnd().split('\n').length, 1);
    assert.equal(lastJsonLine(result).session, 1);

    const quiet = await runCli(['watch', String(target.pid), '--every', '200ms', '--duration', '1500ms', '--progress', '500ms', '--quiet', '--db', db]);
    assert.equal(quiet.code, 0, quiet.stderr);
    // Only the warning that 1.5 s cannot be judged: it is about what the numbers mean, not progress.
    assert.match(quiet.stderr, /^leakwatch: warning: --duration 1\.5s is too short for the analysis to judge a leak at --every 200ms; [^\n]*\n$/);
    assert.match(quiet.stdout, /^session 2: \d+ samples, ended by duration/);
  } finally {
    await target.stop();
  }
});

test('after kill -9 of the collector, every reader says interrupted at once, ending at the last sample, without writing', async () => {
  const target = await startAllocTarget();
  try {
    const db = path.join(dir, 'killed.db');
    const watch = spawn(process.execPath, [path.join(repoRoot(), 'bin', 'leakwatch.js'), 'watch', String(target.pid), '--every', '100ms', '--db', db], { stdio: 'ignore' });
    started.push(watch);
    await until('five samples', () => {
      try {
        return query<{ n: number }>(db, 'SELECT count(*) AS n FROM samples')[0].n >= 5;
      } catch {
        return false; // not created yet
      }
    });
    watch.kill('SIGKILL');
    await once(watch, 'close');
    const [last] = query<{ at: number }>(db, 'SELECT max(taken_at) AS at FROM samples');

    const sessions = JSON.parse((await runCli(['sessions', '--db', db, '--json'])).stdout);
    assert.equal(sessions[0].endReason, 'interrupted');
    assert.equal(sessions[0].endedAt, last.at);
    assert.match((await runCli(['sessions', '--db', db, '--format', 'csv'])).stdout, new RegExp(`,${new Date(last.at).toISOString()},[\\d.]+,interrupted,`));
    assert.doesNotMatch((await runCli(['sessions', '--db', db])).stdout, /running/);
    const show = await runCli(['show', '1', '--db', db, '--json']);
    assert.deepEqual([JSON.parse(show.stdout).session.endReason, JSON.parse(show.stdout).session.endedAt], ['interrupted', last.at]);
    assert.match((await runCli(['show', '1', '--db', db])).stdout, /ended by interrupted/);
    const html = path.join(dir, 'killed.html');
    assert.equal((await runCli(['report', '1', '--db', db, '-o', html])).code, 0);
    assert.match(readFileSync(html, 'utf8'), /\(interrupted\)/);
    // The readers only read: the stored row is still open until the next writer closes it.
    assert.deepEqual(query(db, 'SELECT ended_at, end_reason FROM sessions'), [{ ended_at: null, end_reason: null }]);
  } finally {
    await target.stop();
  }
});

test('--pidfile --follow: one session across restarts, each restart a new target process of that session', async () => {
  const { db, watch } = await recording;
  const summary = lastJsonLine(watch);
  assert.equal(summary.endReason, 'duration');
  assert.ok(summary.restarts >= 1, JSON.stringify(summary));
  const targets = query<{ pid: number; first_seq: number; last_seq: number }>(db, 'SELECT pid, first_seq, last_seq FROM processes WHERE parent_pid IS NULL ORDER BY first_seq');
  assert.equal(targets.length, summary.restarts + 1);
  assert.equal(new Set(targets.map((t) => t.pid)).size, targets.length, 'each life is a new pid');
  for (let i = 1; i < targets.length; i++) assert.ok(targets[i].first_seq > targets[i - 1].last_seq, 'lives do not overlap');
  assert.match(watch.stderr, new RegExp(`^session ${summary.session} → .*: watching pid \\d+ \\(.*leaker heap\\) every 250ms for 1m30s, following restarts of the pid in .*leaker\\.pid$`, 'm'));
});

test('a leak that restarts its program is judged per life: every judged life leaks, at the program\'s rate, from the start', async () => {
  const restarting = await recording;
  const heap = restarting.findings.find((f) => f.type === 'heap')!;
  assert.equal(heap.verdict, 'leak', heap.explanation);
  assert.equal(heap.lives.length, lastJsonLine(restarting.watch).restarts + 1);
  const judged = heap.lives.filter((l) => l.verdict !== 'insufficient-data');
  assert.ok(judged.length >= 1 && judged.every((l) => l.verdict === 'leak'), JSON.stringify(heap.lives));
  // The drop at each restart is not a recovery: the rate is the program's own 2.5 MiB/s, not a sawtooth's average.
  const rate = heap.slopeBytesPerHour / 3600 / 1024 / 1024;
  assert.ok(rate > 2 && rate < 3, `rate ${rate} MiB/s`);
  // Leaking since the first life (the program leaks from its first tick), not only since the life that decided.
  assert.equal(heap.lives[0].verdict, 'leak');
  assert.ok(heap.onsetSeconds !== null && heap.onsetSeconds <= heap.lives[0].endSeconds, `onset ${heap.onsetSeconds}, first life ${JSON.stringify(heap.lives[0])}`);
  assert.match(heap.explanation, /^Heap in life \d of \d \(from \d+:\d\d:\d\d\): grew /);
});

test('sessions counts the restarts; show and the report mark them', async () => {
  const restarting = await recording;
  const { db, session } = restarting;
  const restarts = lastJsonLine(restarting.watch).restarts as number;
  const sessions = await runCli(['sessions', '--db', db, '--json']);
  assert.equal(JSON.parse(sessions.stdout)[0].restarts, restarts);
  const table = await runCli(['sessions', '--db', db]);
  assert.match(table.stdout, /RESTARTS/);
  const show = await runCli(['show', String(session), '--db', db]);
  assert.match(show.stdout, new RegExp(`the program restarted ${restarts === 1 ? 'once' : restarts === 2 ? 'twice' : `${restarts} times`} \\(at \\d+:\\d\\d:\\d\\d`));
  const html = path.join(dir, 'restarts.html');
  const report = await runCli(['report', String(session), '--db', db, '-o', html]);
  assert.equal(report.code, 0, report.stderr);
  assert.match(readFileSync(html, 'utf8'), new RegExp(`<th>Restarts</th><td>${restarts}, at `));
});
