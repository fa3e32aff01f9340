/**
 * The pieces of the process lifecycle that need no live process: timers of any length (on a fake clock) and the
 * /proc/PID/stat fields that tell a kernel thread and an exec().
 */
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { parseStat, PF_KTHREAD } from '../src/collector/linux/procfs.js';
import { MAX_TIMER_MS, setLongTimeout } from '../src/watch/timer.js';

const DAY_MS = 86_400_000;

test('setLongTimeout waits out 30 days in pieces a Node timer can take, and fires once', (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  t.after(() => mock.timers.reset());
  const firedAt: number[] = [];
  setLongTimeout(() => firedAt.push(Date.now()), 30 * DAY_MS);
  mock.timers.tick(MAX_TIMER_MS); // the first piece: 24.8 days
  mock.timers.tick(30 * DAY_MS - MAX_TIMER_MS - 1);
  assert.deepEqual(firedAt, [], 'not a millisecond early');
  mock.timers.tick(1);
  assert.deepEqual(firedAt, [30 * DAY_MS]);
  mock.timers.tick(365 * DAY_MS);
  assert.deepEqual(firedAt, [30 * DAY_MS], 'once');
});

test('setLongTimeout: a short delay is one timer; clear() stops a long one in any of its pieces', (t) => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  t.after(() => mock.timers.reset());
  const fired: string[] = [];
  setLongTimeout(() => fired.push('1s'), 1000);
  setLongTimeout(() => fired.push('0'), 0);
  const year = setLongTimeout(() => fired.push('year'), 365 * DAY_MS);
  const cleared = setLongTimeout(() => fired.push('cleared'), 60 * DAY_MS);
  mock.timers.tick(1000);
  assert.deepEqual(fired, ['0', '1s']);
  mock.timers.tick(MAX_TIMER_MS + 5 * DAY_MS); // into the second piece
  cleared.clear();
  // Day by day: the fake clock schedules a timer set during a tick from the tick's end.
  for (let day = 0; day < 400; day++) mock.timers.tick(DAY_MS);
  assert.deepEqual(fired, ['0', '1s', 'year']);
  year.clear(); // after it fired: nothing to do
});

test('setLongTimeout on real timers: no TimeoutOverflowWarning for a delay past 2^31 − 1 ms', async () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on('warning', onWarning);
  try {
    const timer = setLongTimeout(() => assert.fail('must not fire'), 25 * DAY_MS);
    // Node says a too-long delay on the next tick, and would fire it after 1 ms.
    await new Promise((resolve) => setTimeout(resolve, 20));
    timer.clear();
  } finally {
    process.off('warning', onWarning);
  }
  assert.deepEqual(warnings.filter((w) => w.name === 'TimeoutOverflowWarning'), []);
});

test('parseStat reads the process group, the kernel-thread flag and the layout that exec() sets', () => {
  // A user process (fields 26-28: start of code, end of code, start of stack), kthreadd, and a process we may not
  // look into (the kernel writes 1 1 0 there).
  const tail = (codeStart: string, codeEnd: string, stack: string) => `20 0 1 0 23 1000 10 18446744073709551615 ${codeStart} ${codeEnd} ${stack} 0 0 0 0 0`;
  const user = parseStat(`4242 (sh) S 1 4240 4240 0 -1 4194560 100 0 0 0 1 2 0 0 ${tail('94171422597120', '94171422683517', '140725769531472')}`);
  assert.equal(user.pgrp, 4240);
  assert.equal(user.flags & PF_KTHREAD, 0);
  assert.equal(user.layout, '94171422597120:94171422683517:140725769531472');
  const kthreadd = parseStat(`2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 ${tail('0', '0', '0')}`);
  assert.notEqual(kthreadd.flags & PF_KTHREAD, 0);
  assert.equal(kthreadd.layout, undefined);
  assert.equal(parseStat(`4242 (su) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 ${tail('1', '1', '0')}`).layout, undefined);
  // An older, shorter line (as in other fixtures) has no layout.
  assert.equal(parseStat('4242 (a) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 3 0 987654 1000 10').layout, undefined);
});
