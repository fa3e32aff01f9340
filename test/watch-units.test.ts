import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyDeltas, diffRegions, regionMap, type StoredRegion } from '../src/db/region-deltas.js';
import { SmapsBudget } from '../src/watch/budget.js';
import { parseCron } from '../src/watch/schedule.js';
import { parseDuration } from '../src/vocabulary.js';

test('parseDuration accepts units and combinations, rejects the rest', () => {
  assert.equal(parseDuration('500ms', '--every'), 500);
  assert.equal(parseDuration('1s', '--every'), 1000);
  assert.equal(parseDuration('1h30m', '--duration'), 5_400_000);
  assert.equal(parseDuration('1.5h', '--duration'), 5_400_000);
  assert.equal(parseDuration('2d', '--duration'), 172_800_000);
  for (const bad of ['', '5', 'fast', '1x', '-1s', '0s', 's', '1s ']) {
    assert.throws(() => parseDuration(bad, '--every'), /--every needs a duration/, bad);
  }
});

test('parseCron accepts 5 and 6 fields, rejects garbage', () => {
  assert.deepEqual(parseCron('*/5 * * * * *'), { kind: 'cron', expression: '*/5 * * * * *' });
  assert.equal(parseCron('0 * * * *').kind, 'cron');
  assert.throws(() => parseCron('every second'), /--cron needs a cron expression/);
  assert.throws(() => parseCron('61 * * * * *'), /--cron/);
});

test('SmapsBudget spaces smaps reads so their cost stays under the fraction', () => {
  const budget = new SmapsBudget(0.02);
  assert.equal(budget.allows(1, 0), true, 'first read is always allowed');
  budget.record(1, 0, 5); // 5 ms read → next one 250 ms later
  assert.equal(budget.allows(1, 249), false);
  assert.equal(budget.allows(1, 250), true);
  budget.record(1, 1000, 200); // a huge process: 200 ms read → every 10 s
  assert.equal(budget.allows(1, 10_999), false);
  assert.equal(budget.allows(1, 11_000), true);
  assert.equal(budget.allows(2, 5), true, 'budgets are per process');
  budget.forget(1);
  assert.equal(budget.allows(1, 1001), true);
});

const region = (start: string, size: number, extra: Partial<StoredRegion> = {}): StoredRegion => ({
  start,
  end: (BigInt(`0x${start}`) + BigInt(size)).toString(16),
  type: 'private',
  protection: 'rw-p',
  size,
  committed: size,
  details: '',
  ...extra,
});

test('diffRegions finds added, removed and changed regions, and applyDeltas replays them exactly', () => {
  const before = [region('1000', 4096), region('3000', 8192), region('9000', 4096, { type: 'heap' })];
  const after = [
    region('1000', 4096, { totalWs: 4096 }), // only its working set moved: not a change
    region('3000', 16384), // grew
    region('20000', 4096), // new
  ];
  const deltas = diffRegions(regionMap(before), after);
  assert.deepEqual(
    deltas.map((d) => [d.kind, d.start]),
    [['changed', '3000'], ['added', '20000'], ['removed', '9000']],
  );
  const rebuilt = applyDeltas(regionMap(before), deltas);
  assert.deepEqual([...rebuilt.keys()].sort(), ['1000', '20000', '3000']);
  assert.equal(rebuilt.get('3000')!.size, 16384);
  assert.deepEqual(diffRegions(regionMap(after), after), [], 'no change, no deltas');
});
