/** VMMap's files, parsed from hand-made fixtures written to the formats as documented and observed (NOTES §5). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseVmmapCsv, parseVmmapMmp } from '../src/history/vmmap.js';
import { repoRoot } from './helpers/targets.js';

const fixture = (name: string) => readFileSync(path.join(repoRoot(), 'test', 'fixtures', name), 'utf8');
const KiB = 1024;

test('VMMap CSV: the summary block, KB with thousands separators, empty cells left out, Total and Unusable skipped', () => {
  const totals = parseVmmapCsv(fixture('vmmap-1.csv'));
  assert.deepEqual(Object.keys(totals).sort(), ['free', 'heap', 'image', 'managedHeap', 'mappedFile', 'pageTable', 'private', 'shareable', 'stack']);
  assert.deepEqual(totals.heap, { size: 65_536 * KiB, committed: 32_768 * KiB, private: 32_000 * KiB, totalWs: 30_000 * KiB, privateWs: 30_000 * KiB, blocks: 8, largest: 16_384 * KiB });
  assert.equal(totals.private!.committed, 200_000 * KiB, 'VMMap calls it Private Data');
  assert.equal(totals.image!.lockedWs, undefined, 'an empty cell is unknown, not zero');
  assert.equal(totals.pageTable!.blocks, undefined);
  assert.equal(totals.free!.size, 137_438_953_472 * KiB);
});

test('VMMap CSV: malformed input names its line', () => {
  assert.throws(() => parseVmmapCsv(fixture('vmmap-bad.csv')), /^Error: line 2: '12x34' is not an amount in KB$/);
  assert.throws(() => parseVmmapCsv('hello'), /no VMMap summary block/);
  assert.throws(() => parseVmmapCsv('"Type","Size"\n"Heap","1","2"\n'), /line 2: 3 fields, the header has 2/);
});

test('VMMap .mmp: regions summed per UseType per snapshot; unknown use types left out', () => {
  const snapshots = parseVmmapMmp(fixture('vmmap.mmp'));
  assert.equal(snapshots.length, 2);
  assert.equal(snapshots[0].timestamp, '2026-11-01T10:00:00Z');
  const first = snapshots[0].totals;
  assert.deepEqual(Object.keys(first).sort(), ['heap', 'image', 'stack']);
  assert.deepEqual(first.heap, { size: 1048576, committed: 524288, private: 524288, totalWs: 262144, privateWs: 262144, blocks: 2, largest: 1048576 });
  assert.equal(first.image!.totalWs, 8192 + 200000);
  assert.equal(snapshots[1].totals.heap!.committed, 1572864);
  assert.throws(() => parseVmmapMmp('<root/>'), /no <Snapshot> element/);
});
