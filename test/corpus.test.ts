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

interface Fit {
  /** bytes per second */
  slope: number;
  /** Standard error of the slope, allowing for AR(1)-autocorrelated residuals. */
  slopeSe: number;
  residualSd: number;
}

/** Ordinary least squares of v on t over [from, to). */
function ols(t: number[], v: number[], from = 0, to = t.length): Fit {
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
  const residuals: number[] = [];
  for (let i = from; i < to; i++) residuals.push(v[i] - mv - slope * (t[i] - mt));
  const residualSd = Math.sqrt(residuals.reduce((a, r) => a + r * r, 0) / (n - 2));
  return { slope, slopeSe: (residualSd / Math.sqrt(stt)) * Math.sqrt(n / effectiveN(residuals)), residualSd };
}

/** Samples' worth of independent information in x given its lag-1 autocorrelation (AR(1) noise). */
function effectiveN(x: number[]): number {
  const mean = x.reduce((a, b) => a + b, 0) / x.length;
  let c0 = 0;
  let c1 = 0;
  for (let i = 0; i < x.length; i++) {
    c0 += (x[i] - mean) ** 2;
    if (i > 0) c1 += (x[i] - mean) * (x[i - 1] - mean);
  }
  const r = c0 > 0 ? Math.max(0, c1 / c0) : 0;
  return Math.min(x.length, Math.max(2, (x.length * (1 - r)) / (1 + r)));
}

/** |estimate − truth| within `share` of the truth, or 3 standard errors when the data cannot pin it down better. */
function assertRate(fit: Fit, truth: number, share: number, what: string) {
  const se = fit.slopeSe * HOUR;
  assert.ok(3 * se <= 0.2 * truth, `${what}: the data cannot show the rate (se ${se.toExponential(2)}/h)`);
  const estimate = fit.slope * HOUR;
  assert.ok(Math.abs(estimate - truth) <= Math.max(share * truth, 3 * se), `${what}: OLS ${estimate.toExponential(3)}/h (se ${se.toExponential(2)})`);
}

/** Post-GC floors: the first sample after each drop of more than 1% of the level (not across a gap in sampling). */
function floors(s: Scenario): { t: number[]; v: number[] } {
  const { t, v } = s.series;
  const drop = 0.01 * median(v);
  const dt = sampleInterval(s.durationSeconds);
  const out = { t: [] as number[], v: [] as number[] };
  for (let i = 1; i < v.length; i++) {
    if (v[i] < v[i - 1] - drop && t[i] - t[i - 1] < 1.5 * dt) {
      out.t.push(t[i]);
      out.v.push(v[i]);
    }
  }
  return out;
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

test('slow-under-noise: noise sd ≥ one hour of growth, total growth 4–6 (3.5–6.5 measured) noise sds, rate right within 20% (or 3 se)', () => {
  for (const s of ofFamily('slow-under-noise')) {
    const fit = ols(s.series.t, s.series.v);
    const rate = fit.slope * HOUR;
    assert.ok(Math.abs(rate - s.rateBytesPerHour) <= Math.max(0.2 * s.rateBytesPerHour, 3 * fit.slopeSe * HOUR), `${s.name}: OLS ${rate}`);
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
    assertRate(ols(t, v, firstIndexAtOrAfter(t, onset)), s.rateBytesPerHour, 0.05, `${s.name} after onset`);
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

test('staircase and thread-stacks: ≥ 5 equal steps, the rate is step / interval (OLS within 12%; threads 20%)', () => {
  for (const s of [...ofFamily('staircase'), ...ofFamily('thread-stacks')]) {
    const { t, v } = s.series;
    const onset = s.onsetSeconds!;
    const from = firstIndexAtOrAfter(t, onset);
    // Steps leave residuals a noise model does not describe: a plain tolerance (leaked threads come at jittered times).
    const fit = ols(t, v, from);
    const tolerance = s.family === 'staircase' ? 0.12 : 0.2;
    assert.ok(Math.abs(fit.slope * HOUR - s.rateBytesPerHour) <= tolerance * s.rateBytesPerHour, `${s.name}: OLS ${fit.slope * HOUR}`);
    if (s.family === 'thread-stacks') {
      // Exact steps of one thread stack, at least 5 more at the end than at the start.
      for (let i = 1; i < v.length; i++) assert.equal((v[i] - v[0]) % THREAD_STACK, 0, s.name);
      assert.ok(v[v.length - 1] - v[0] >= 5 * THREAD_STACK, s.name);
    } else {
      // The name says how many steps; together they make the stated rate over the stretch from onset to end.
      const steps = Number(/ (\d+)×/.exec(s.name)?.[1]);
      assert.ok(steps >= 5, `${s.name}: ${steps} steps`);
      // Steps at onset + (j − ½)·interval, j = 1…steps: those up to the last sample, against the first ones' level.
      const interval = (s.durationSeconds - onset) / steps;
      const taken = Math.min(steps, Math.floor((t[t.length - 1] - onset) / interval + 0.5));
      const step = (s.rateBytesPerHour * interval) / HOUR;
      const before = v.slice(from).filter((_, i) => t[from + i] < onset + 0.5 * interval);
      const growth = v[v.length - 1] - median(before);
      assert.ok(before.length >= 5, s.name);
      assert.ok(Math.abs(growth - taken * step) <= step / 2, `${s.name}: grew ${growth}, expected ${taken} × ${step}`);
    }
  }
});

test('sawtooth-leak: the post-GC floor rises at the stated rate; gc- and allocator-sawtooth floors are flat', () => {
  for (const s of [...ofFamily('sawtooth-leak'), ...ofFamily('gc-sawtooth'), ...ofFamily('allocator-sawtooth')]) {
    const floor = floors(s);
    assert.ok(floor.t.length >= 6, `${s.name}: ${floor.t.length} GC cycles`);
    const fit = ols(floor.t, floor.v);
    if (s.leak) {
      assertRate(fit, s.rateBytesPerHour, 0.1, `${s.name} floor`);
    } else {
      const rise = fit.slope * s.durationSeconds;
      assert.ok(Math.abs(rise) <= Math.max(0.01 * median(s.series.v), 3 * fit.slopeSe * s.durationSeconds), `${s.name}: floor rose ${rise}`);
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
      // …and slower than half of what matters (0.2%/h of the level), or within 4 standard errors of flat.
      const slope = Math.abs(fit.slope * HOUR);
      assert.ok(slope <= Math.max(0.001 * median(v), 4 * fit.slopeSe * HOUR), `${s.name}: ${slope}/h (se ${fit.slopeSe * HOUR})`);
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
    const sd = robustSd(v.slice(a));
    const clipped = v.slice(a).map((x) => Math.min(x, first + 3 * sd)); // spikes clipped
    const se = 1.25 * sd * Math.sqrt(1 / effectiveN(clipped.slice(0, b - a)) + 1 / effectiveN(clipped.slice(b - a)));
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
