/** What the outputs say, on inputs with a known answer: short data, comparisons, region changes, CSV cells. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { comparisonHeadline, type RowComparison } from '../src/analysis/compare.js';
import { analyzeSession } from '../src/analysis/session.js';
import { analyzeTrend, DEFAULT_OPTIONS } from '../src/analysis/trend.js';
import type { Finding } from '../src/analysis/types.js';
import type { StoredRegion } from '../src/db/region-deltas.js';
import { csvCell, csvLine } from '../src/report/csv.js';
import { regionChanges } from '../src/session/regions.js';
import { ANALYZED_ROWS, formatElapsed, MEMORY_TYPES, type MemoryType, type Row, type Verdict } from '../src/vocabulary.js';

const MiB = 1024 * 1024;

test('a short-data verdict says what the run had and what it needs, never the same number for both', () => {
  // 60 samples 0.5 s apart: 29.5 s, which rounds to the 30 s needed.
  const t = Array.from({ length: 60 }, (_, i) => i * 0.5);
  const trend = analyzeTrend({ t, v: t.map(() => 10 * MiB) }, { ...DEFAULT_OPTIONS, managed: false });
  assert.equal(trend.verdict, 'insufficient-data');
  assert.equal(trend.reason, 'has too little data to judge: samples over 29.5 s, at least 30 s needed');
  const few = analyzeTrend({ t: [0, 10, 20, 40], v: [1, 2, 3, 4] }, { ...DEFAULT_OPTIONS, managed: false });
  assert.equal(few.reason, 'has too little data to judge: 4 samples, at least 30 needed');
});

test('the time to the limit reads the same in the table and in the sentence', () => {
  const hours = 2;
  const t = Array.from({ length: hours * 3600 }, (_, i) => i);
  const committed = Object.fromEntries(MEMORY_TYPES.map((type) => [type, new Float64Array(t.length)])) as Record<MemoryType, Float64Array>;
  // 100 MiB/h from 50 MiB, with a 3 GiB limit: about 29.5 hours left, over a day: the days are written out too.
  t.forEach((s, i) => (committed.heap[i] = 50 * MiB + (100 * MiB * s) / 3600));
  const [heap] = analyzeSession({ t, committed, limit: { bytes: 3 * 1024 * MiB, source: 'cgroup memory limit' }, lives: [] }, ['heap'], () => []);
  assert.equal(heap.verdict, 'leak');
  const table = formatElapsed(heap.timeToLimitSeconds! * 1000);
  assert.match(table, /^1d \d+:\d\d:\d\d$/);
  assert.ok(heap.explanation.includes(`in ${table}.`), `${heap.explanation} / ${table}`);
});

function finding(type: Row, verdict: Verdict, rate = 0): Finding {
  return { type, verdict, slopeBytesPerHour: rate, ci: [rate - MiB, rate + MiB], onsetSeconds: null, growthBytes: 0, timeToLimitSeconds: null, confidence: 1, explanation: '', topRegions: [], lives: [] };
}

test('the comparison headline says when a side could not be judged, and names regressions', () => {
  const rows = (a: Verdict, b: Verdict, change: RowComparison['change']): RowComparison[] =>
    ANALYZED_ROWS.map((type) => ({ type, a: finding(type, a), b: finding(type, b), change: type === 'heap' ? change : 'same' }));
  assert.equal(comparisonHeadline(rows('insufficient-data', 'leak', 'unknown')), 'Cannot compare: session A has too little data to judge');
  assert.equal(comparisonHeadline(rows('insufficient-data', 'insufficient-data', 'unknown')), 'Cannot compare: session A and B have too little data to judge');
  assert.equal(comparisonHeadline(rows('no-leak', 'leak', 'regression')), 'B leaks more than A: Heap');
  assert.equal(comparisonHeadline(rows('no-leak', 'no-leak', 'same')), 'Nothing grows significantly faster in B');
});

const region = (start: string, end: string, committed: number, details = ''): StoredRegion =>
  ({ start, end, type: 'private', protection: 'rw-p', size: Number(BigInt(`0x${end}`) - BigInt(`0x${start}`)), committed, details });

test('a mapping that grew is one grown change, even when the kernel moved its start; others are added, removed, shrunk', () => {
  const before = [region('1000', '2000', 4096), region('10000', '12000', 8192, 'lib.so'), region('20000', '30000', 65536), region('40000', '41000', 4096)];
  const after = [
    region('1000', '2000', 4096), // unchanged: not listed
    region('f000', '14000', 20480, 'lib.so'), // merged with a new neighbour below: grown, not added + removed
    region('20000', '28000', 32768), // shrank
    region('50000', '51000', 4096), // new
  ];
  const changes = regionChanges(before, after).map((c) => [c.change, c.start, c.committedDelta]);
  assert.deepEqual(changes, [
    ['grown', 'f000', 20480 - 8192],
    ['shrunk', '20000', 32768 - 65536],
    ['removed', '40000', -4096],
    ['added', '50000', 4096],
  ]);
  // Two old regions merged into one count once each: the change is against their sum.
  const merged = regionChanges([region('1000', '2000', 4096), region('2000', '3000', 4096)], [region('1000', '4000', 12288)]);
  assert.deepEqual(merged.map((c) => [c.change, c.committedDelta]), [['grown', 4096]]);
});

test('CSV cells cannot run as formulas, and quote what RFC 4180 says', () => {
  assert.equal(csvCell('=HYPERLINK("http://x","y")'), `"'=HYPERLINK(""http://x"",""y"")"`);
  assert.equal(csvCell('@SUM(A1)'), `"'@SUM(A1)"`);
  assert.equal(csvCell('+1'), `"'+1"`);
  assert.equal(csvCell('-1'), `"'-1"`, 'a string that looks like a negative number is still a string');
  assert.equal(csvCell('\tx'), `"'\tx"`);
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('line\nbreak'), '"line\nbreak"');
  assert.equal(csvCell('plain'), 'plain');
  assert.equal(csvCell(-5), '-5', 'numbers are data');
  assert.equal(csvCell(null), '');
  assert.equal(csvLine(['a', 1, null, '=1+1']), `a,1,,"'=1+1"\n`);
});
