/** Bad input and unreadable processes: one line on stderr, exit code 2, never a stack trace. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli, type CliResult } from './helpers/cli.js';
import { startAllocTarget } from './helpers/targets.js';

const NOBODY = 65534;

function assertOneLineError(result: CliResult, pattern: RegExp) {
  assert.equal(result.code, 2, `exit code; stderr: ${result.stderr}`);
  assert.equal(result.stdout, '');
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line expected: ${result.stderr}`);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(result.stderr, /\n\s+at /);
}

test('a pid that is not a number', async () => {
  assertOneLineError(await runCli(['snapshot', 'abc']), /^leakwatch: pid must be a positive integer, got 'abc'$/);
  assertOneLineError(await runCli(['snapshot', '-5']), /unknown option|pid must be/);
  assertOneLineError(await runCli(['snapshot', '0']), /pid must be a positive integer/);
});

test('a missing pid and an unknown column are usage errors', async () => {
  assertOneLineError(await runCli(['snapshot']), /missing required argument 'pid'/);
  assertOneLineError(await runCli(['snapshot', '1', '--sort', 'colour']), /unknown --sort column 'colour'/);
});

test('no such process', async () => {
  // pid_max is at most 2^22, so this pid cannot exist.
  assertOneLineError(await runCli(['snapshot', String(2 ** 22)]), /^leakwatch: no process with pid 4194304$/);
});

test('a process that has exited (a zombie) is reported as exited', async () => {
  const target = await startAllocTarget();
  try {
    const { pid } = await target.send('zombie');
    assertOneLineError(await runCli(['snapshot', String(pid)]), new RegExp(`process ${pid} has exited`));
  } finally {
    await target.stop();
  }
});

test('another user\'s process: permission denied, says whose it is', { skip: process.getuid?.() !== 0 && 'needs root to switch users' }, async () => {
  const target = await startAllocTarget(); // runs as root
  try {
    const result = await runCli(['snapshot', String(target.pid)], { uid: NOBODY });
    assertOneLineError(result, /permission denied reading \/proc\/\d+\/smaps: the process belongs to uid 0, not to you \(uid 65534\)/);
  } finally {
    await target.stop();
  }
});

test('a non-dumpable process of the same user: permission denied, says why', { skip: process.getuid?.() !== 0 && 'needs root to switch users' }, async () => {
  const target = await startAllocTarget({ uid: NOBODY });
  try {
    await target.send('nodump');
    const result = await runCli(['snapshot', String(target.pid)], { uid: NOBODY });
    assertOneLineError(result, /permission denied reading \/proc\/\d+\/smaps: the process is not dumpable/);
  } finally {
    await target.stop();
  }
});

