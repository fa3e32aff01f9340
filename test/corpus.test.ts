/** The evaluation corpus's generator: deterministic, complete, and its ground truth matches the series it made. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FAMILIES,
  GiB,
  HOUR,
  LEAK_FAMILIES,
  MAX_POINTS,
  MiB,
  NO_LEAK_FAMILIES,
  THREAD_STACK,
  generateCorpus,
  gaussian,
  mulberry32,
  sampleInterval,
  type Scenario,
} from './corpus.js';

const corpus = generateCorpus(1);
const ofFamily = (family: string) => corpus.filter((s) => s.family === family);

/** Ordinary least squares of v on t over [from, to): slope (bytes/s), its standard error, residual standard deviation. */
function ols(t: number[], v: number[], from = 0, to = t.length): { slope: number; slopeSe: number; residualSd: number } {
  const n = to - from;
  let mt = 0;
  let mv = 0;
  for (let i = from; i < to; i++) {
    mt += t[i];
    mv += v[i];
  }
  mt /= n;
  mv /= n;
  let stt = 0;
  let stv = 0;
  for (let i = from; i < to; i++) {
    stt += (t[i] - mt) ** 2;
    stv += (t[i] - mt) * (v[i] - mv);
  }
  const slope = stv / stt;
  let sse = 0;
  for (let i = from; i < to; i++) sse += (v[i] - mv - slope * (t[i] - mt)) ** 2;
  const residualSd = Math.sqrt(sse / (n - 2));
  return { slope, slopeSe: residualSd / Math.sqrt(stt), residualSd };
}

/** Samples' worth of independent information in v[from, to) given its lag-1 autocorrelation (AR(1) noise). */
function effectiveN(v: number[], from: number, to: number): number {
  const n = to - from;
  const mean = v.slice(from, to).reduce((a, b) => a + b, 0) / n;
  let c0 = 0;
  let c1 = 0;
  for (let i = from; i < to; i++) {
    c0 += (v[i] - mean) ** 2;
    if (i > from) c1 += (v[i] - mean) * (v[i - 1] - mean);
  }
  const r = c0 > 0 ? Math.max(0, c1 / c0) : 0;
  return Math.max(2, (n * (1 - r)) / (1 + r));
}

/** Robust standard deviation: 1.4826 × median absolute deviation. */
function robustSd(values: number[]): number {
  const m = median(values);
  return 1.4826 * median(values.map((x) => Math.abs(x - m)));
}

const firstIndexAtOrAfter = (t: number[], time: number) => {
  const i = t.findIndex((x) => x >= time);
  return i < 0 ? t.length : i;
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Minimum of each of `windows` equal time windows, as (mid time, min) points; windows a gap in sampling cut short are left out. */
function windowMinima(s: Scenario, windows: number): { t: number[]; v: number[] } {
  const out = { t: [] as number[], v: [] as number[] };
  const { t, v } = s.series;
  const width = s.durationSeconds / windows;
  const expected = width / sampleInterval(s.durationSeconds);
  for (let w = 0; w < windows; w++) {
    let min = Infinity;
    let count = 0;
    for (let i = 0; i < t.length; i++) {
      if (t[i] >= w * width && t[i] < (w + 1) * width) {
        min = Math.min(min, v[i]);
        count++;
      }
    }
    if (count >= 0.9 * expected) {
      out.t.push((w + 0.5) * width);
      out.v.push(min);
    }
  }
  return out;
}

test('mulberry32 is deterministic and uniform; gaussian is standard normal', () => {
  const a = mulberry32(42);
  const b = mulberry32(42);
  const xs = Array.from({ length: 100_000 }, () => a());
  assert.deepEqual(
    xs.slice(0, 5),
    Array.from({ length: 5 }, () => b()),
  );
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
  assert.notEqual(mulberry32(43)(), mulberry32(42)());
  const g = mulberry32(7);
  const zs = Array.from({ length: 100_000 }, () => gaussian(g));
  const zMean = zs.reduce((s, x) => s + x, 0) / zs.length;
  const zSd = Math.sqrt(zs.reduce((s, x) => s + (x - zMean) ** 2, 0) / zs.length);
  assert.ok(Math.abs(zMean) < 0.02 && Math.abs(zSd - 1) < 0.02, `mean ${zMean} sd ${zSd}`);
});

test('the corpus is deterministic for a seed and differs between seeds', () => {
  const again = generateCorpus(1);
  assert.deepEqual(again, corpus);
  const other = generateCorpus(2);
  assert.equal(other.length, corpus.length);
  assert.notDeepEqual(
    other.map((s) => s.series.v),
    corpus.map((s) => s.series.v),
  );
});

test('every family is present, with several lengths from 10 min to 24 h; names are unique; size is 150–300', () => {
  assert.ok(corpus.length >= 150 && corpus.length <= 300, `${corpus.length} scenarios`);
  assert.deepEqual([...new Set(corpus.map((s) => s.family))].sort(), [...FAMILIES].sort());
  assert.equal(new Set(corpus.map((s) => s.name)).size, corpus.length);
  for (const family of FAMILIES) {
    const lengths = new Set(ofFamily(family).map((s) => s.durationSeconds));
    assert.ok(ofFamily(family).length >= 10, family);
    assert.ok(lengths.size >= 3, `${family}: ${[...lengths]}`);
    if (family !== 'slow-under-noise') assert.ok(lengths.has(600) && lengths.has(24 * HOUR), family);
  }
});

test('series are well formed: ascending times within the run, ≤ 43,200 points, whole pages, realistic levels', () => {
  for (const s of corpus) {
    const { t, v } = s.series;
    assert.equal(t.length, v.length, s.name);
    assert.ok(t.length <= MAX_POINTS, `${s.name}: ${t.length} points`);
    assert.ok(t.length >= 0.9 * (s.durationSeconds / Math.ceil(s.durationSeconds / MAX_POINTS)) - 400, `${s.name}: ${t.length} points`);
    assert.equal(t[0], 0, s.name);
    assert.ok(t[t.length - 1] < s.durationSeconds, s.name);
    for (let i = 1; i < t.length; i++) if (!(t[i] > t[i - 1])) assert.fail(`${s.name}: t[${i}] = ${t[i]} after ${t[i - 1]}`);
    for (const x of v) if (!(Number.isInteger(x / 4096) && x > 0)) assert.fail(`${s.name}: value ${x}`);
    const level = median(v);
    if (s.family === 'thread-stacks') assert.ok(level >= 8 * MiB && level <= 1 * GiB, s.name);
    else assert.ok(level >= 19 * MiB && level <= 16 * GiB, `${s.name}: median ${level}`);
  }
});

test('ground truth is consistent: no-leak has rate 0 and no onset; a leak has a rate that matters and an onset in the run', () => {
  for (const s of corpus) {
    assert.equal(s.leak, (LEAK_FAMILIES as readonly string[]).includes(s.family), s.name);
    assert.equal(!s.leak, (NO_LEAK_FAMILIES as readonly string[]).includes(s.family), s.name);
    assert.equal(s.managed, s.family === 'gc-sawtooth' || s.family === 'sawtooth-leak', s.name);
    if (!s.leak) {
      assert.equal(s.rateBytesPerHour, 0, s.name);
      assert.equal(s.onsetSeconds, null, s.name);
      continue;
    }
    assert.ok(s.onsetSeconds !== null && s.onsetSeconds >= 0 && s.onsetSeconds <= 0.6 * s.durationSeconds, s.name);
    // At least 2× the default minimum (1 MiB/h) and 2.5× the relative one (0.2%/h) of the highest level reached.
    assert.ok(s.rateBytesPerHour >= 2 * MiB, `${s.name}: ${s.rateBytesPerHour}`);
    if (s.family === 'linear') assert.ok(s.rateBytesPerHour >= 5 * MiB, s.name);
    const top = median(s.series.v.slice(-Math.ceil(s.series.v.length / 20))); // level at the end, without noise
    assert.ok(s.rateBytesPerHour / top >= 0.005, `${s.name}: ${((100 * s.rateBytesPerHour) / top).toFixed(2)}%/h of the level`);
  }
});

test('linear leaks grow at their stated rate (OLS within 5%) from t = 0', () => {
  for (const s of ofFamily('linear')) {
    const fit = ols(s.series.t, s.series.v);
    const rate = fit.slope * HOUR;
    assert.ok(Math.abs(rate - s.rateBytesPerHour) <= 0.05 * s.rateBytesPerHour, `${s.name}: OLS ${rate}`);
    assert.equal(s.onsetSeconds, 0);
    const growth = (s.rateBytesPerHour * s.durationSeconds) / HOUR;
    assert.ok(growth >= 8 * fit.residualSd, `${s.name}: growth ${growth} vs noise ${fit.residualSd}`);
  }
});

test('slow-under-noise: noise sd ≥ one hour of growth, total growth 4–6 (≥ 3.5 measured) noise sds, rate right within 20%', () => {
  for (const s of ofFamily('slow-under-noise')) {
    const fit = ols(s.series.t, s.series.v);
    const rate = fit.slope * HOUR;
    assert.ok(Math.abs(rate - s.rateBytesPerHour) <= 0.2 * s.rateBytesPerHour, `${s.name}: OLS ${rate}`);
    assert.ok(fit.residualSd >= 0.95 * s.rateBytesPerHour, `${s.name}: noise ${fit.residualSd} vs ${s.rateBytesPerHour}/h`);
    const growth = (s.rateBytesPerHour * s.durationSeconds) / HOUR;
    assert.ok(growth >= 3.5 * fit.residualSd && growth <= 6.5 * fit.residualSd, `${s.name}: growth/sd ${growth / fit.residualSd}`);
  }
});

test('mid-run-onset and warmup-then-leak: flat (or warming up) before the onset, growth at the stated rate after it', () => {
  for (const s of [...ofFamily('mid-run-onset'), ...ofFamily('warmup-then-leak')]) {
    const { t, v } = s.series;
    const onset = s.onsetSeconds!;
    assert.ok(onset >= 0.1 * s.durationSeconds && onset <= 0.6 * s.durationSeconds, s.name);
    const after = ols(t, v, firstIndexAtOrAfter(t, onset));
    assert.ok(Math.abs(after.slope * HOUR - s.rateBytesPerHour) <= 0.05 * s.rateBytesPerHour, `${s.name}: OLS after onset ${after.slope * HOUR}`);
    if (s.family === 'mid-run-onset') {
      const before = ols(t, v, 0, firstIndexAtOrAfter(t, onset));
      const riseBefore = before.slope * onset;
      assert.ok(Math.abs(riseBefore) <= 2 * before.residualSd, `${s.name}: rose ${riseBefore} before onset (noise ${before.residualSd})`);
    } else {
      // The warm-up rises, and has ended by the onset: the last 10% before it rises by at most 2% of the level.
      const i0 = firstIndexAtOrAfter(t, 0.9 * onset);
      const i1 = firstIndexAtOrAfter(t, onset);
      if (i1 - i0 < 10) continue; // a gap in the samples there
      const late = ols(t, v, i0, i1);
      assert.ok(median(v.slice(i0, i1)) - median(v.slice(0, 20)) > 0.15 * v[0], `${s.name}: no warm-up`);
      const lateRise = late.slope * (t[i1 - 1] - t[i0]);
      assert.ok(lateRise <= 0.02 * v[i1] + 3 * late.residualSd, `${s.name}: warm-up still rising at the onset (${lateRise})`);
    }
  }
});

test('staircase and thread-stacks: ≥ 5 equal steps, the rate is step / interval (OLS within 12%)', () => {
  for (const s of [...ofFamily('staircase'), ...ofFamily('thread-stacks')]) {
    const { t, v } = s.series;
    const onset = s.onsetSeconds!;
    const from = firstIndexAtOrAfter(t, onset);
    const fit = ols(t, v, from);
    assert.ok(Math.abs(fit.slope * HOUR - s.rateBytesPerHour) <= 0.12 * s.rateBytesPerHour, `${s.name}: OLS ${fit.slope * HOUR}`);
    if (s.family === 'thread-stacks') {
      // Exact steps of one thread stack, at least 5 more at the end than at the start.
      for (let i = 1; i < v.length; i++) assert.equal((v[i] - v[0]) % THREAD_STACK, 0, s.name);
      assert.ok(v[v.length - 1] - v[0] >= 5 * THREAD_STACK, s.name);
    } else {
      // The name says how many steps; together they make the stated rate over the stretch from onset to end.
      const steps = Number(/ (\d+)×/.exec(s.name)?.[1]);
      assert.ok(steps >= 5, `${s.name}: ${steps} steps`);
      const edge = Math.ceil(v.length / 50); // the first step comes ≥ 2.5% of the run after onset, the last as long before the end
      const growth = median(v.slice(-edge)) - median(v.slice(from, from + edge));
      const expected = (s.rateBytesPerHour * (s.durationSeconds - onset)) / HOUR;
      assert.ok(Math.abs(growth - expected) <= 0.1 * expected, `${s.name}: grew ${growth}, expected ${expected}`);
    }
  }
});

test('sawtooth-leak: the post-GC floor rises at the stated rate; gc- and allocator-sawtooth floors are flat', () => {
  for (const s of [...ofFamily('sawtooth-leak'), ...ofFamily('gc-sawtooth'), ...ofFamily('allocator-sawtooth')]) {
    const floor = windowMinima(s, 6);
    assert.ok(floor.t.length >= 4, s.name);
    const fit = ols(floor.t, floor.v);
    if (s.leak) {
      // Within 15%, or within 3 standard errors where six minima of a short run cannot pin it down better.
      const tolerance = Math.max(0.15 * s.rateBytesPerHour, 3 * fit.slopeSe * HOUR);
      assert.ok(tolerance <= 0.6 * s.rateBytesPerHour, `${s.name}: floor too noisy to show the rate (se ${fit.slopeSe * HOUR}/h)`);
      assert.ok(Math.abs(fit.slope * HOUR - s.rateBytesPerHour) <= tolerance, `${s.name}: floor OLS ${fit.slope * HOUR}`);
    } else {
      const level = median(s.series.v);
      assert.ok(Math.abs(fit.slope * s.durationSeconds) <= 0.02 * level, `${s.name}: floor rose ${fit.slope * s.durationSeconds}`);
    }
  }
});

test('plateau families are flat in their last third', () => {
  for (const family of ['flat-noise', 'warmup-plateau', 'step-then-flat', 'cache-to-cap']) {
    for (const s of ofFamily(family)) {
      const { t, v } = s.series;
      const from = firstIndexAtOrAfter(t, (2 / 3) * s.durationSeconds);
      const fit = ols(t, v, from);
      const rise = fit.slope * (t[t.length - 1] - t[from]);
      assert.ok(Math.abs(rise) <= 2 * fit.residualSd, `${s.name}: last third rose ${rise} (noise ${fit.residualSd})`);
      // …and, against the level, far below what matters (0.2%/h) unless the stretch is too short to tell.
      if (s.durationSeconds >= 6 * HOUR) assert.ok(Math.abs(fit.slope * HOUR) / median(v) < 0.001, `${s.name}: ${fit.slope * HOUR}/h`);
    }
  }
  for (const s of ofFamily('large-noise-flat')) {
    // Spikes: compare medians of the two halves of the last third.
    // Within 3% of the level, or 4 standard errors of the difference of two medians of (autocorrelated) noise.
    const { t, v } = s.series;
    const a = firstIndexAtOrAfter(t, (2 / 3) * s.durationSeconds);
    const b = firstIndexAtOrAfter(t, (5 / 6) * s.durationSeconds);
    const first = median(v.slice(a, b));
    const second = median(v.slice(b));
    const se = 1.25 * robustSd(v.slice(a)) * Math.sqrt(1 / effectiveN(v, a, b) + 1 / effectiveN(v, b, v.length));
    assert.ok(Math.abs(second - first) <= Math.max(0.03 * first, 4 * se), `${s.name}: ${first} → ${second} (se ${se})`);
  }
  for (const s of ofFamily('restart')) {
    // A drop to near the start level in the middle, and back on the plateau (flat) in the last 10% of the run.
    const { t, v } = s.series;
    const from = firstIndexAtOrAfter(t, 0.9 * s.durationSeconds);
    const fit = ols(t, v, from);
    const rise = fit.slope * (t[t.length - 1] - t[from]);
    assert.ok(Math.abs(rise) <= 2 * fit.residualSd, `${s.name}: end rose ${rise} (noise ${fit.residualSd})`);
    const start = median(v.slice(0, 5));
    const end = median(v.slice(from));
    const middle = v.slice(firstIndexAtOrAfter(t, 0.4 * s.durationSeconds), firstIndexAtOrAfter(t, 0.71 * s.durationSeconds));
    assert.ok(Math.min(...middle) < start + 0.3 * (end - start), `${s.name}: no restart`);
  }
});

test('the corpus is generated quickly', () => {
  const start = performance.now();
  generateCorpus(3);
  const ms = performance.now() - start;
  assert.ok(ms < 10_000, `${ms.toFixed(0)} ms`);
});
