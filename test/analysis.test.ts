/** The analysis math on series with known answers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { autocorrelationFactor, mannKendall, mannKendallVariance } from '../src/analysis/mann-kendall.js';
import { bendFit, bucketMedians, noiseScale, releaseCycles, sawtoothFloor, stepFit } from '../src/analysis/shape.js';
import { lag1Autocorrelation, leastSquares, median, normalCdf } from '../src/analysis/stats.js';
import { theilSen } from '../src/analysis/theil-sen.js';
import { analyzeTrend, DEFAULT_OPTIONS, fisherCombined } from '../src/analysis/trend.js';
import type { Series } from '../src/analysis/types.js';

const MiB = 1024 * 1024;
const close = (actual: number, expected: number, tolerance: number, what = '') =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what} ${actual} not within ${tolerance} of ${expected}`);

function series(n: number, dt: number, f: (t: number, i: number) => number): Series {
  const t = Array.from({ length: n }, (_, i) => i * dt);
  return { t, v: t.map((ti, i) => f(ti, i)) };
}

/** Seeded standard normal noise (mulberry32 + Box–Muller), so every run sees the same series. */
function gaussian(seed: number) {
  let state = seed;
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random());
}

test('median, normalCdf, lag-1 autocorrelation and least squares', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), /empty/);
  close(normalCdf(0), 0.5, 1e-7);
  close(normalCdf(1.959964), 0.975, 1e-6);
  close(normalCdf(-3), 0.0013499, 1e-6);
  close(lag1Autocorrelation([1, -1, 1, -1]), -0.75, 1e-12);
  assert.equal(lag1Autocorrelation([5, 5, 5]), 0);
  const fit = leastSquares([0, 1, 2, 3], [1, 3, 5, 7]);
  assert.deepEqual({ ...fit, sse: Math.round(fit.sse * 1e9) }, { intercept: 1, slope: 2, sse: 0 });
});

test('Theil–Sen finds the slope through an outlier; its CI covers the truth', () => {
  const x = Array.from({ length: 50 }, (_, i) => i);
  const y = x.map((xi) => 3 + 2 * xi);
  y[10] = 1e9; // one wild outlier
  const estimate = theilSen(x, y);
  assert.equal(estimate.slope, 2);
  assert.ok(estimate.lo <= 2 && estimate.hi >= 2);
  const noise = gaussian(7);
  const noisy = x.map((xi) => 2 * xi + 5 * noise());
  const e = theilSen(x, noisy);
  assert.ok(e.lo < 2 && e.hi > 2, `CI ${e.lo}..${e.hi}`);
  assert.ok(e.hi - e.lo < 1);
  assert.throws(() => theilSen([1], [1]), /at least 2/);
});

test('Mann–Kendall: S, tie-corrected variance, one-sided p; the autocorrelation factor', () => {
  const up = mannKendall([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(up.s, 45);
  close(mannKendallVariance([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 125, 1e-9); // n(n−1)(2n+5)/18
  assert.ok(up.pIncreasing < 1e-4);
  assert.equal(mannKendall([5, 4, 3, 2, 1]).s, -10);
  assert.ok(mannKendall([5, 4, 3, 2, 1]).pIncreasing > 0.95);
  assert.equal(mannKendallVariance([7, 7, 7, 7]), 0, 'all tied: no variance');
  close(mannKendall([7, 7, 7, 7]).pIncreasing, 0.5, 1e-6);
  assert.equal(autocorrelationFactor(-0.3), 1);
  close(autocorrelationFactor(0.5), 3, 1e-12);
  assert.equal(autocorrelationFactor(0.999), 10, 'capped');
});

test('bucketMedians reduces to at most the bucket count, keeping medians', () => {
  const s = series(1000, 1, (t) => (t % 10 === 0 ? 1e9 : t)); // a spike every 10 samples
  const b = bucketMedians(s, 100);
  assert.equal(b.t.length, 100);
  assert.ok(b.v.every((v) => v < 1000), 'spikes do not survive a median');
  assert.deepEqual(bucketMedians(series(5, 1, (t) => t), 10).v, [0, 1, 2, 3, 4]);
  assert.deepEqual(bucketMedians(series(10, 1, (t) => t), 2, 'min').v, [0, 5]);
});

test('sawtoothFloor keeps the minimum of each GC cycle; none for a series without drops', () => {
  const saw = series(1200, 1, (t) => 100 + (t % 100)); // 12 cycles, floor 100
  const floor = sawtoothFloor(saw)!;
  assert.equal(floor.v.length, 12);
  assert.ok(floor.v.every((v) => v === 100));
  assert.equal(sawtoothFloor(series(1200, 1, (t) => 100 + t)), undefined);
});

test('bendFit finds where the slope changes, and both slopes; stepFit finds a single step', () => {
  const x = Array.from({ length: 100 }, (_, i) => i);
  const starts = bendFit(x, x.map((xi) => 10 + Math.max(0, xi - 40) * 3));
  assert.equal(starts.at, 40);
  close(starts.before, 0, 1e-9);
  close(starts.after, 3, 1e-9);
  const stops = bendFit(x, x.map((xi) => 10 + Math.min(xi, 30) * 3));
  assert.equal(stops.at, 30);
  close(stops.before, 3, 1e-9);
  close(stops.after, 0, 1e-9);
  assert.equal(stepFit(x.map((xi) => (xi < 70 ? 5 : 9))).at, 70);
});

test('analyzeTrend on the canonical shapes', () => {
  const noise = gaussian(3);
  const level = 200 * MiB;
  const verdictOf = (s: Series, managed = false) => analyzeTrend(s, { ...DEFAULT_OPTIONS, managed });

  const linear = verdictOf(series(3600, 1, (t) => level + (t / 3600) * 40 * MiB + noise() * MiB));
  assert.equal(linear.verdict, 'leak');
  close(linear.slopeBytesPerHour, 40 * MiB, 2 * MiB, 'rate');
  assert.equal(linear.onsetSeconds, 0);
  assert.ok(linear.ci[0] <= 40 * MiB && linear.ci[1] >= 40 * MiB);
  assert.ok(linear.confidence > 0.999);
  assert.match(linear.reason, /^grew 40\.\d MiB\/h \(95% CI .*\), steadily, no plateau/);

  const midRun = verdictOf(series(7200, 1, (t) => level + Math.max(0, t - 3000) / 3600 * 30 * MiB + noise() * MiB));
  assert.equal(midRun.verdict, 'leak');
  close(midRun.onsetSeconds!, 3000, 120, 'onset');
  assert.match(midRun.reason, /since 0:5\d:\d\d/);

  const flat = verdictOf(series(3600, 1, () => level + noise() * 2 * MiB));
  assert.equal(flat.verdict, 'no-leak');
  assert.match(flat.reason, /^is flat/);

  const warmup = verdictOf(series(3600, 1, (t) => level + 100 * MiB * (1 - Math.exp(-t / 300)) + noise() * MiB));
  assert.equal(warmup.verdict, 'no-leak');
  assert.match(warmup.reason, /levelled off/);

  const step = verdictOf(series(3600, 1, (t) => level + (t > 1500 ? 50 * MiB : 0) + noise() * MiB));
  assert.equal(step.verdict, 'no-leak');
  assert.match(step.reason, /^stepped up once by 50\.\d MiB at 0:25:0\d/);

  const gc = verdictOf(series(3600, 1, (t) => level + ((t % 90) / 90) * 80 * MiB), true);
  assert.equal(gc.verdict, 'no-leak');
  assert.match(gc.reason, /post-GC floor \(40 cycles\)/);
  const gcLeak = verdictOf(series(3600, 1, (t) => level + ((t % 90) / 90) * 80 * MiB + (t / 3600) * 20 * MiB), true);
  assert.equal(gcLeak.verdict, 'leak');
  close(gcLeak.slopeBytesPerHour, 20 * MiB, 1 * MiB, 'floor rate');

  const stairs = verdictOf(series(3600, 1, (t) => level + Math.floor(t / 400) * 8 * MiB));
  assert.equal(stairs.verdict, 'leak');
  close(stairs.slopeBytesPerHour, 72 * MiB, 8 * MiB, 'staircase rate');

  const tiny = verdictOf(series(3600, 1, (t) => level + (t / 3600) * 200 * 1024)); // 200 KiB/h: real but irrelevant
  assert.equal(tiny.verdict, 'no-leak');
  assert.match(tiny.reason, /below the .* that matters/);

  assert.equal(verdictOf(series(20, 1, (t) => t * MiB)).verdict, 'insufficient-data', 'too few samples');
  assert.equal(verdictOf(series(40, 0.5, (t) => t * MiB)).verdict, 'insufficient-data', 'too short a time');
});

test('noiseScale: a steady climb is not noise; white noise is', () => {
  assert.equal(noiseScale(Array.from({ length: 100 }, (_, i) => i * MiB)), 0);
  const noise = gaussian(3);
  close(noiseScale(Array.from({ length: 5000 }, () => noise() * MiB)), MiB, 0.1 * MiB, 'sd');
});

test('releaseCycles: drops of more than half the range, with each stretch\'s peak and floor', () => {
  const saw = series(3000, 1, (t) => 100 + (t % 1000) / 10);
  const cycles = releaseCycles(saw)!;
  assert.equal(cycles.releases, 2);
  assert.deepEqual(cycles.peaks.map(Math.round), [200, 200, 200]);
  assert.deepEqual(cycles.floors, [100, 100]);
  assert.equal(releaseCycles(series(3000, 1, (t) => (t > 1500 ? 0 : 100))), undefined, 'one drop is not again and again');
});

test('few long release cycles: the same floor is no leak, a rising floor is', () => {
  const level = 200 * MiB;
  const noise = gaussian(11);
  const verdictOf = (s: Series) => analyzeTrend(s, { ...DEFAULT_OPTIONS, managed: false });
  // Three 20-minute climbs of 100 MiB, each released to the same floor: far too few cycles for a post-GC floor.
  const same = verdictOf(series(3600, 1, (t) => level + ((t % 1200) / 1200) * 100 * MiB + noise() * 0.2 * MiB));
  assert.equal(same.verdict, 'no-leak', same.reason);
  assert.match(same.reason, /^climbs and is released to the same floor again and again \(2 releases/);
  const rising = verdictOf(series(3600, 1, (t) => level + ((t % 1200) / 1200) * 100 * MiB + Math.floor(t / 1200) * 40 * MiB + noise() * 0.2 * MiB));
  assert.notEqual(rising.verdict, 'no-leak', rising.reason);
});

test('restarts: each life judged on its own, a drop at a restart is not a recovery', () => {
  const level = 100 * MiB;
  const noise = gaussian(5);
  const verdictOf = (s: Series) => analyzeTrend(s, { ...DEFAULT_OPTIONS, managed: false });
  // A leak of 60 MiB/h that restarts the program at 1 h: both lives leak.
  const leaking = series(7200, 1, (t) => level + ((t % 3600) / 3600) * 60 * MiB + noise() * MiB);
  const restarted = verdictOf({ ...leaking, lives: [3600] });
  assert.equal(restarted.verdict, 'leak', restarted.reason);
  close(restarted.slopeBytesPerHour, 60 * MiB, 3 * MiB, 'rate of a life');
  assert.equal(restarted.onsetSeconds, 0, 'leaking since the first life');
  assert.deepEqual(restarted.lives.map((l) => [l.startSeconds, l.verdict]), [[0, 'leak'], [3600, 'leak']]);
  assert.match(restarted.reason, /^in life 2 of 2 \(from 1:00:00\): grew/);
  // A warm-up in each life: no leak, though the series climbs twice.
  const warm = series(7200, 1, (t) => level + 80 * MiB * (1 - Math.exp(-(t % 3600) / 200)) + noise() * MiB);
  const warmed = verdictOf({ ...warm, lives: [3600] });
  assert.equal(warmed.verdict, 'no-leak', warmed.reason);
  assert.deepEqual(warmed.lives.map((l) => l.verdict), ['no-leak', 'no-leak']);
  // Lives too short to judge alone.
  const short = verdictOf({ ...series(100, 1, (t) => t * MiB), lives: [25, 50, 75] });
  assert.equal(short.verdict, 'insufficient-data');
  assert.match(short.reason, /each of its 4 lives/);
});

test('fisherCombined: the p-value of independent tests together', () => {
  close(fisherCombined([0.01, 0.01]), 0.001021, 0.000001, 'two 1% tests: e^−9.21 × 10.21');
  close(fisherCombined([0.5]), 0.5, 1e-12, 'one test is itself');
  assert.equal(fisherCombined([1, 1, 1]), 1);
});

test('compareFindings: a regression only when B is significantly faster and growing', async () => {
  const { compareFindings } = await import('../src/analysis/compare.js');
  const finding = (verdict: 'leak' | 'no-leak' | 'insufficient-data', rate: number, lo: number, hi: number) => ({
    type: 'heap' as const, verdict, slopeBytesPerHour: rate, ci: [lo, hi] as [number, number], onsetSeconds: null,
    growthBytes: 0, timeToLimitSeconds: null, confidence: 1, explanation: '', topRegions: [], lives: [],
  });
  const flat = finding('no-leak', 0, -MiB, MiB);
  const leak = finding('leak', 50 * MiB, 45 * MiB, 55 * MiB);
  assert.equal(compareFindings(flat, leak).change, 'regression');
  assert.match(compareFindings(flat, leak).sentence, /^Heap grows faster in B: 50\.0 MiB\/h .* a regression\.$/);
  assert.equal(compareFindings(leak, flat).change, 'improvement');
  assert.equal(compareFindings(leak, finding('leak', 52 * MiB, 47 * MiB, 57 * MiB)).change, 'same');
  assert.equal(compareFindings(finding('insufficient-data', 0, 0, 0), leak).change, 'unknown');
});

test('the sums: Native (Private + Heap) catches a leak split between them that neither shows alone', async () => {
  const { analyzeSession, rowValues } = await import('../src/analysis/session.js');
  const { ANALYZED_ROWS } = await import('../src/vocabulary.js');
  const hours = 6;
  const t = Array.from({ length: hours * 3600 }, (_, i) => i);
  const zeros = new Float64Array(t.length);
  const level = 50 * MiB;
  // 0.7 MiB/h each: under the 1 MiB/h that matters for one type, 1.4 MiB/h together.
  const creeping = Float64Array.from(t, (ti) => level + (ti / 3600) * 0.7 * MiB);
  const committed = { image: zeros, private: creeping, shareable: zeros, mappedFile: zeros, heap: creeping, managedHeap: zeros, stack: zeros, pageTable: zeros, free: zeros };
  assert.deepEqual(rowValues(committed, 'native').slice(0, 2), [2 * level, 2 * level + (1 / 3600) * 1.4 * MiB]);
  const findings = analyzeSession({ t, committed, limit: undefined, lives: [] }, ANALYZED_ROWS, () => []);
  const verdict = (row: string) => findings.find((f) => f.type === row)!;
  assert.equal(verdict('private').verdict, 'no-leak');
  assert.equal(verdict('heap').verdict, 'no-leak');
  assert.equal(verdict('native').verdict, 'leak', verdict('native').explanation);
  close(verdict('native').slopeBytesPerHour, 1.4 * MiB, 0.01 * MiB, 'native rate');
  assert.match(verdict('native').explanation, /^Native \(Private \+ Heap\) grew /);
  assert.equal(verdict('total').verdict, 'leak');
});
