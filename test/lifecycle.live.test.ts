/**
 * The process lifecycle through the real CLI on real processes: schedules longer than a Node timer, `run`'s whole
 * process group, a command that ends before its first sample, an exec() of the target, a fork storm under
 * --children (leakwatch's own memory stays flat), SIGUSR1 and SIGQUIT, and kernel threads.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { runCli } from './helpers/cli.js';
import { buildCTarget, startAllocTarget } from './helpers/targets.js';
import { lastJsonLine, query, sleep, startCli as startInBackground, until } from './helpers/live.js';

const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-lifecycle-'));
const started: ChildProcess[] = [];
after(() => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});
let dbCount = 0;
const newDbPath = () => path.join(dir, `l${++dbCount}.db`);

/** A count from the database, 0 while it does not exist yet or is being created. */
function count(dbPath: string, sql: string): number {
  try {
    return query<{ n: number }>(dbPath, sql)[0].n;
  } catch {
    return 0;
  }
}

/** The CLI in the background, its stdin open for the command, killed after the tests if still running. */
function startCli(args: string[]) {
  const running = startInBackground(args, { stdin: 'pipe' });
  started.push(running.child);
  return running;
}

/** The processes of a process group that still run (zombies do not count: this machine's init may not reap them). */
function liveGroupMembers(pgid: number): string[] {
  const members: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') members.push(`${entry} ${stat.slice(stat.indexOf('('), stat.lastIndexOf(')') + 1)}`);
  }
  return members;
}

/** The TCP ports a process listens on: its socket inodes matched against /proc/PID/net/tcp{,6} in state LISTEN. */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (link.startsWith('socket:[')) inodes.add(link.slice('socket:['.length, -1));
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[3] === '0A' && inodes.has(fields[9])) ports.push(Number.parseInt(fields[1].split(':')[1], 16));
    }
  }
  return ports;
}

const rssBytes = (pid: number) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
const MiB = 1024 * 1024;

test('--every longer than --duration is a usage error, said before the command starts', async () => {
  const target = await startAllocTarget();
  try {
    const result = await runCli(['watch', String(target.pid), '--every', '25d', '--duration', '2s', '--db', newDbPath()]);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stderr, 'leakwatch: --every 25d is longer than --duration 2s: only the first sample would be taken; give a shorter --every or a longer --duration\n');
    const marker = path.join(dir, 'must-not-start');
    const run = await runCli(['run', '--every', '1m', '--duration', '59s', '--db', newDbPath(), '--', 'touch', marker]);
    assert.equal(run.code, 2, run.stderr);
    assert.equal(existsSync(marker), false, 'the command was not started');
  } finally {
    await target.stop();
  }
});

test('--every 25d takes the first sample at once, then waits: no tick storm, no TimeoutOverflowWarning', async () => {
  const target = await startAllocTarget();
  try {
    const db = newDbPath();
    const watching = startCli(['watch', String(target.pid), '--every', '25d', '--duration', '30d', '--db', db, '--json']);
    await until('the first sample', () => count(db, 'SELECT count(*) AS n FROM samples') >= 1);
    // Before the fix, a 25-day interval fired every ~2 ms: hundreds of samples in this wait.
    await sleep(2000);
    assert.equal(count(db, 'SELECT count(*) AS n FROM samples'), 1);
    watching.child.kill('SIGINT');
    const result = await watching.done;
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual([lastJsonLine(result).samples, lastJsonLine(result).endReason], [1, 'interrupted']);
    assert.doesNotMatch(result.stderr, /TimeoutOverflowWarning|does not fit into a 32-bit/);
    assert.deepEqual(query(db, 'SELECT interval_ms, end_reason FROM sessions'), [{ interval_ms: 25 * 86_400_000, end_reason: 'interrupted' }]);
  } finally {
    await target.stop();
  }
});

test('--duration 30d does not end at once: Ctrl-C ends it as interrupted, with every sample', async () => {
  const target = await startAllocTarget();
  try {
    const db = newDbPath();
    const watching = startCli(['watch', String(target.pid), '--every', '200ms', '--duration', '30d', '--db', db, '--json']);
    // Before the fix the watch had ended "by duration" after its first sample.
    await until('5 samples', () => count(db, 'SELECT count(*) AS n FROM samples') >= 5);
    watching.child.kill('SIGINT');
    const result = await watching.done;
    assert.equal(result.code, 0, result.stderr);
    const json = lastJsonLine(result);
    assert.equal(json.endReason, 'interrupted');
    assert.ok(json.samples >= 5, `samples ${json.samples}`);
    assert.equal(count(db, 'SELECT count(*) AS n FROM samples'), json.samples, 'every sample reported is stored');
    assert.doesNotMatch(result.stderr, /TimeoutOverflowWarning/);
  } finally {
    await target.stop();
  }
});

test("run ends its command's whole process group: on --duration, on Ctrl-C, and with SIGKILL after the grace period", async () => {
  // --duration: SIGTERM to the group; the shell's background job (leakwatch's grandchild) ends too.
  const db = newDbPath();
  const result = await runCli(['run', '--every', '200ms', '--duration', '2s', '--db', db, '--json', '--', 'sh', '-c', 'sleep 31 & sleep 32; wait']);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual([lastJsonLine(result).endReason, lastJsonLine(result).exitCode], ['duration', 128 + 15]);
  const [{ target_pid: pgid }] = query<{ target_pid: number }>(db, 'SELECT target_pid FROM sessions');
  assert.deepEqual(query<{ command: string }>(db, 'SELECT command FROM processes WHERE parent_pid = ? ORDER BY command', pgid).map((p) => p.command), ['sleep 31', 'sleep 32']);
  assert.deepEqual(liveGroupMembers(pgid), [], 'nothing of the group runs on');

  // Ctrl-C: SIGINT to the group, as the terminal would have sent it; the background job ignores SIGINT (a shell
  // starts it so) and gets SIGTERM once the shell has ended.
  const interruptedDb = newDbPath();
  const interrupted = startCli(['run', '--every', '200ms', '--db', interruptedDb, '--json', '--', 'sh', '-c', 'sleep 33 & sleep 34; wait']);
  await until('the shell and both sleeps sampled', () => count(interruptedDb, 'SELECT count(*) AS n FROM processes') >= 3);
  const [{ target_pid: interruptedPgid }] = query<{ target_pid: number }>(interruptedDb, 'SELECT target_pid FROM sessions');
  interrupted.child.kill('SIGINT');
  const interruptedResult = await interrupted.done;
  assert.equal(interruptedResult.code, 0, interruptedResult.stderr);
  assert.deepEqual([lastJsonLine(interruptedResult).endReason, lastJsonLine(interruptedResult).exitCode], ['interrupted', 128 + 2]);
  assert.deepEqual(liveGroupMembers(interruptedPgid), []);

  // A group that ignores SIGINT and SIGTERM is killed after the 5 s grace period.
  const stubbornDb = newDbPath();
  const stubborn = startCli(['run', '--every', '200ms', '--db', stubbornDb, '--json', '--', 'sh', '-c', 'trap "" INT TERM; sleep 35 & sleep 36; wait']);
  await until('the shell and both sleeps sampled', () => count(stubbornDb, 'SELECT count(*) AS n FROM processes') >= 3);
  const [{ target_pid: stubbornPgid }] = query<{ target_pid: number }>(stubbornDb, 'SELECT target_pid FROM sessions');
  const signalledAt = Date.now();
  stubborn.child.kill('SIGTERM');
  const stubbornResult = await stubborn.done;
  assert.equal(stubbornResult.code, 0, stubbornResult.stderr);
  assert.deepEqual([lastJsonLine(stubbornResult).endReason, lastJsonLine(stubbornResult).exitCode], ['signal', 128 + 9]);
  assert.ok(Date.now() - signalledAt >= 4500, 'the grace period was given');
  assert.deepEqual(liveGroupMembers(stubbornPgid), []);
});

test('a command that exits before the first sample still gets a session, ended by target-exited, with its exit code', async () => {
  const db = newDbPath();
  // Before the fix: exit 2, "process N has exited (a zombie its parent has not reaped)", and no session.
  const quick = await runCli(['run', '--db', db, '--json', '--', 'true']);
  assert.equal(quick.code, 0, quick.stderr);
  const json = lastJsonLine(quick);
  assert.deepEqual([json.endReason, json.exitCode], ['target-exited', 0]);
  // It is gone (a zombie) by the first read, so 0 samples; a slow start could let one sample in.
  assert.ok(json.samples <= 1, `samples ${json.samples}`);
  assert.match(quick.stderr, new RegExp(`^session ${json.session}: ${json.samples} samples?, ended by target-exited \\(target exit code 0\\)`, 'm'));

  const seven = await runCli(['run', '--db', db, '--', 'sh', '-c', 'exit 7']);
  assert.equal(seven.code, 0, seven.stderr);
  assert.match(seven.stdout, /^session 2: [01] samples?, ended by target-exited \(target exit code 7\)/);
  const sessions = query<{ id: number; end_reason: string; exit_code: number; target_start_time: string; samples: number }>(db,
    'SELECT id, end_reason, exit_code, target_start_time, (SELECT count(*) FROM samples s WHERE s.session_id = sessions.id) AS samples FROM sessions ORDER BY id');
  assert.deepEqual(sessions.map((s) => [s.end_reason, s.exit_code]), [['target-exited', 0], ['target-exited', 7]]);
  for (const s of sessions) assert.ok(Number.isFinite(Date.parse(s.target_start_time)), s.target_start_time);
  assert.equal(sessions[0].samples, json.samples, 'the reported count is the stored one');
  // Readers take a session of no samples.
  for (const args of [['sessions'], ['show', '2'], ['analyze', '2']]) {
    const reader = await runCli([...args, '--db', db]);
    assert.equal(reader.code, 0, `${args.join(' ')}: ${reader.stderr}`);
  }
});

test("an exec() of the target is said once, its process row takes the new command, and sampling goes on", async () => {
  const db = newDbPath();
  // The shell waits for a line on its stdin (leakwatch's, passed through), then becomes `sleep 30` under its pid.
  const running = startCli(['run', '--no-children', '--every', '100ms', '--db', db, '--json', '--', 'sh', '-c', 'read line; exec sleep 30']);
  const samples = () => count(db, 'SELECT count(*) AS n FROM samples');
  await until('3 samples of the shell', () => samples() >= 3);
  running.child.stdin!.write('go\n');
  await until('the exec is said', () => running.output.stderr.includes("exec'd"));
  const atExec = samples();
  await until('3 samples of the new program', () => samples() >= atExec + 3);
  running.child.kill('SIGTERM');
  const result = await running.done;
  assert.equal(result.code, 0, result.stderr);
  const [session] = query<{ target_pid: number; command: string }>(db, 'SELECT target_pid, command FROM sessions');
  assert.deepEqual(result.stderr.split('\n').filter((line) => line.includes("exec'd")), [`leakwatch: pid ${session.target_pid} exec'd sleep 30`]);
  assert.equal(session.command, 'sh -c read line; exec sleep 30', 'the session keeps the command run started');
  const processes = query<{ id: number; pid: number; command: string }>(db, 'SELECT id, pid, command FROM processes');
  assert.deepEqual(processes.map((p) => [p.pid, p.command]), [[session.target_pid, 'sleep 30']]);
  // The new program's memory, not zeros: the samples after the exec have an image and a stack.
  const last = query<{ image: number; stack: number }>(db, 'SELECT image_committed AS image, stack_committed AS stack FROM samples ORDER BY seq DESC LIMIT 3');
  for (const row of last) assert.ok(row.image > 0 && row.stack > 0, JSON.stringify(row));
  assert.equal(lastJsonLine(result).samples, samples());

  // The exec is stored as a row of its own: the first tick of the new program, and its command.
  const execs = query<{ seq: number; command: string; process_id: number }>(db, 'SELECT process_id, seq, command FROM process_execs');
  assert.deepEqual(execs.map(({ process_id, command }) => ({ process_id, command })), [{ process_id: processes[0].id, command: 'sleep 30' }]);
  assert.ok(execs[0].seq >= 3, `the exec came after 3 samples of the shell (seq ${execs[0].seq})`);
  // Readers show it: show's line and JSON, the report's facts and a mark on its charts; an export keeps it.
  const show = await runCli(['show', '1', '--db', db]);
  assert.match(show.stdout, /^the program exec'd another program once \(at \d+:\d\d:\d\d(\.\d{3})?\); each life is judged on its own$/m, show.stdout);
  const shown = JSON.parse((await runCli(['show', '1', '--db', db, '--json'])).stdout) as { execs: number[]; restarts: number[] };
  assert.equal(shown.execs.length, 1);
  assert.deepEqual(shown.restarts, []);
  const seconds = query<{ s: number }>(db, `SELECT elapsed_ms / 1000.0 AS s FROM samples WHERE seq = ${execs[0].seq}`)[0].s;
  assert.ok(Math.abs(shown.execs[0] - seconds) < 1e-6, `${shown.execs[0]} s vs the exec's tick at ${seconds} s`);
  // The analysis splits the series at the exec: every finding judges two lives.
  const analysed = JSON.parse((await runCli(['analyze', '1', '--db', db, '--json'])).stdout) as { findings: { type: string; lives: { startSeconds: number }[] }[] };
  for (const finding of analysed.findings) assert.equal(finding.lives.length, 2, `${finding.type}: ${JSON.stringify(finding.lives)}`);
  const html = path.join(dir, 'exec.html');
  assert.equal((await runCli(['report', '1', '--db', db, '-o', html])).code, 0);
  const page = readFileSync(html, 'utf8');
  assert.match(page, /<th>Execs<\/th><td>1, at /);
  assert.ok(page.includes('"label":"exec"'), 'an exec mark on the charts');
  const exported = path.join(dir, 'exec.json');
  assert.equal((await runCli(['export', '1', '--db', db, '--format', 'json', '-o', exported])).code, 0);
  const copy = newDbPath();
  assert.equal((await runCli(['import', exported, '--db', copy])).code, 0);
  assert.deepEqual(query<{ seq: number; command: string }>(copy, 'SELECT seq, command FROM process_execs'), [{ seq: execs[0].seq, command: 'sleep 30' }]);
});

test("--children on a fork storm: leakwatch's own memory stays flat while thousands of processes come and go", async () => {
  const db = newDbPath();
  // 20 forks every 100 ms of its own (200 processes a second), each living 250 ms: ~50 alive at any time.
  const running = startCli(['run', '--every', '200ms', '--duration', '10m', '--db', db, '--quiet', '--json', '--', buildCTarget('forkstorm'), '20', '250']);
  const leakwatch = running.child.pid!;
  const seen = () => count(db, 'SELECT count(*) AS n FROM processes');
  /** The least RSS over a second: a garbage collection's peak does not count as growth. */
  const settledRss = async () => {
    let least = Infinity;
    for (let i = 0; i < 10; i++, await sleep(100)) least = Math.min(least, rssBytes(leakwatch));
    return least;
  };
  // The first ~3000 processes warm leakwatch up (V8 and malloc find their sizes: +20-30 MB, measured); from there
  // on, its memory must not follow the count. Before the fix it grew ~50 KB for every process ever seen.
  const WARM = 3000;
  const MORE = 3000;
  await until(`${WARM} processes seen`, () => seen() >= WARM, 120_000);
  const before = { rss: await settledRss(), seen: seen() };
  await until(`${MORE} more processes seen`, () => seen() >= before.seen + MORE, 120_000);
  const afterRss = await settledRss();
  const seenAfter = seen();
  running.child.kill('SIGINT');
  const result = await running.done;
  assert.equal(result.code, 0, result.stderr);
  const growth = afterRss - before.rss;
  console.log(`leakwatch RSS ${(before.rss / MiB).toFixed(1)} MiB at ${before.seen} processes seen, ${(afterRss / MiB).toFixed(1)} MiB at ${seenAfter}: ${(growth / MiB).toFixed(1)} MiB`);
  // Under ~5 KB a process: runs with the fix measured -1.4 to +5.6 MiB, before it +138 MiB.
  assert.ok(growth < 16 * MiB, `leakwatch grew ${(growth / MiB).toFixed(1)} MiB over ${seenAfter - before.seen} processes`);
});

test('SIGUSR1 opens no inspector inside a watch; SIGQUIT closes the session like SIGTERM', async () => {
  const target = await startAllocTarget();
  try {
    const db = newDbPath();
    const watching = startCli(['watch', String(target.pid), '--every', '100ms', '--db', db, '--json']);
    const samples = () => count(db, 'SELECT count(*) AS n FROM samples');
    await until('2 samples', () => samples() >= 2);
    watching.child.kill('SIGUSR1');
    const atSignal = samples();
    await until('5 more samples', () => samples() >= atSignal + 5);
    // Node's inspector says "Debugger listening on ws://127.0.0.1:9229/…" and holds a listening TCP socket.
    assert.doesNotMatch(watching.output.stderr, /Debugger listening/);
    assert.deepEqual(listeningPorts(watching.child.pid!), [], 'no port is listened on');

    watching.child.kill('SIGQUIT');
    const result = await watching.done;
    assert.equal(result.code, 0, result.stderr);
    const json = lastJsonLine(result);
    assert.equal(json.endReason, 'signal');
    assert.deepEqual(query(db, 'SELECT end_reason FROM sessions'), [{ end_reason: 'signal' }]);
    assert.equal(samples(), json.samples, 'every sample reported is stored');
  } finally {
    await target.stop();
  }
});

const kthreadd = (() => {
  try {
    return /^2 \(kthreadd\) /.test(readFileSync('/proc/2/stat', 'utf8'));
  } catch {
    return false;
  }
})();

test('a kernel thread is named as such: one line, exit 2', { skip: !kthreadd && 'pid 2 is not kthreadd here (a pid namespace)' }, async () => {
  const db = newDbPath();
  for (const args of [['snapshot', '2'], ['watch', '2', '--db', db]]) {
    const result = await runCli(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.equal(result.stderr, 'leakwatch: pid 2 is a kernel thread (kthreadd): it has no user memory to watch\n');
  }
  assert.equal(count(db, 'SELECT count(*) AS n FROM sessions'), 0, 'no session');
});
