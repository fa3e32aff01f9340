/**
 * The pieces of the process lifecycle that need no live process: timers of any length (on a fake clock).
 */
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
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
