/**
 * Reshaping a memory series before the trend test: time buckets, the post-GC floor of a sawtooth, releases; and the
 * two shape models the verdict compares against a straight line: a hinge (flat, then growing from an onset) and a
 * single step (one level, then another).
 */
import type { Series } from './types.js';
import { kthSmallest, leastSquares, median } from './stats.js';

/**
 * Medians (or minima) of up to `buckets` equal-width time buckets (empty ones dropped): reduces a 12-hour, 1 Hz
 * series to a few hundred points, makes neighbouring samples less dependent, and ignores short spikes. O(n log n).
 */
export function bucketMedians(series: Series, buckets: number, value: 'median' | 'min' = 'median'): Series {
  const n = series.t.length;
  if (n <= buckets) return { t: [...series.t], v: [...series.v] };
  const start = series.t[0];
  const width = (series.t[n - 1] - start) / buckets || 1;
  const t: number[] = [];
  const v: number[] = [];
  let i = 0;
  for (let b = 0; b < buckets && i < n; b++) {
    const end = b === buckets - 1 ? Infinity : start + (b + 1) * width;
    const times: number[] = [];
    const values: number[] = [];
    while (i < n && series.t[i] < end) {
      times.push(series.t[i]);
      values.push(series.v[i]);
      i++;
    }
    if (values.length > 0) {
      t.push(median(times));
      v.push(value === 'median' ? median(values) : values.reduce((low, x) => Math.min(low, x)));
    }
  }
  return { t, v };
}

/**
 * Sample-to-sample noise: the median absolute deviation of the first differences from their median, scaled to a
 * standard deviation of one sample. Centring on the median difference keeps a steady climb (a sawtooth's ramp,
 * a leak) from counting as noise: its differences are all alike.
 */
export function noiseScale(v: readonly number[]): number {
  if (v.length < 3) return 0;
  const diffs = new Float64Array(v.length - 1);
  for (let i = 1; i < v.length; i++) diffs[i - 1] = v[i] - v[i - 1];
  const typical = median(diffs);
  for (let i = 0; i < diffs.length; i++) diffs[i] = Math.abs(diffs[i] - typical);
  return (1.4826 * median(diffs)) / Math.SQRT2;
}

/** Indices i where v[i] dropped from v[i − 1] by more than `threshold`. */
function dropsOver(v: readonly number[], threshold: number): number[] {
  const drops: number[] = [];
  for (let i = 1; i < v.length; i++) if (v[i - 1] - v[i] > threshold) drops.push(i);
  return drops;
}

/** Robust range (2nd to 98th percentile) of the values. */
function robustRange(v: readonly number[]): number {
  return kthSmallest(v, Math.floor(v.length * 0.98)) - kthSmallest(v, Math.floor(v.length * 0.02));
}

// A GC or allocator sawtooth needs this many cycles before its floor says anything.
const MIN_SAWTOOTH_CYCLES = 5;

/**
 * The post-GC floor: split the series at sharp drops (each a collection or a trim) and keep the minimum of each
 * cycle. Returns undefined when there are fewer than MIN_SAWTOOTH_CYCLES drops (no sawtooth to see through).
 * A drop is sharp when it exceeds 5% of the series' range and 6 sample-noise standard deviations.
 */
export function sawtoothFloor(series: Series): Series | undefined {
  const threshold = Math.max(0.05 * robustRange(series.v), 6 * noiseScale(series.v));
  if (!(threshold > 0)) return undefined;
  const drops = dropsOver(series.v, threshold);
  if (drops.length < MIN_SAWTOOTH_CYCLES) return undefined;
  const t: number[] = [];
  const v: number[] = [];
  const bounds = [0, ...drops, series.v.length];
  for (let c = 0; c + 1 < bounds.length; c++) {
    let lowest = bounds[c];
    for (let i = bounds[c]; i < bounds[c + 1]; i++) if (series.v[i] < series.v[lowest]) lowest = i;
    t.push(series.t[lowest]);
    v.push(series.v[lowest]);
  }
  return { t, v };
}

export interface ReleaseCycles {
  /** How many times the memory was released (a drop of more than half the range). */
  releases: number;
  /** The highest value of each stretch between releases, in order. */
  peaks: number[];
  /** The lowest value right after each release (the floor it was released to), in order. */
  floors: number[];
  range: number;
}

/**
 * Memory that climbs and is released again: drops of more than half the series' range (and 8 noise standard
 * deviations), at least two of them. Inside one process such a drop is a release (a collection, a cache flush, a
 * trim), not a restart: restarts are known from process identity. Undefined when there are fewer than two.
 */
export function releaseCycles(series: Series): ReleaseCycles | undefined {
  let floor = Infinity;
  let top = -Infinity;
  for (const v of series.v) {
    floor = Math.min(floor, v);
    top = Math.max(top, v);
  }
  const range = top - floor;
  const drops = dropsOver(series.v, Math.max(0.5 * range, 8 * noiseScale(series.v)));
  if (drops.length < 2) return undefined;
  const bounds = [0, ...drops, series.v.length];
  const peaks: number[] = [];
  const floors: number[] = [];
  for (let c = 0; c + 1 < bounds.length; c++) {
    let high = -Infinity;
    let low = Infinity;
    for (let i = bounds[c]; i < bounds[c + 1]; i++) {
      high = Math.max(high, series.v[i]);
      low = Math.min(low, series.v[i]);
    }
    peaks.push(high);
    if (c > 0) floors.push(low);
  }
  return { releases: drops.length, peaks, floors, range };
}

export interface BendFit {
  /** Where the slope changes. */
  at: number;
  /** Slopes before and after the bend (per unit of x). */
  before: number;
  after: number;
  sse: number;
}

/**
 * Least-squares fit of two straight lines joined at a bend x0: y = a + b·x + c·max(0, x − x0), over candidate bends
 * at the data points between 5% and 75% of the time range (later bends leave too little to judge: a few spikes at
 * the end would do). Flat-then-growing is a leak's onset; growing-then-flat a warm-up or a cache at its cap;
 * fast-then-slower a warm-up settling into a leak. O(n²) for n points (a few hundred after bucketing).
 */
export function bendFit(x: readonly number[], y: readonly number[]): BendFit {
  const span = x[x.length - 1] - x[0];
  const line = leastSquares(x, y);
  let best: BendFit = { at: x[0], before: line.slope, after: line.slope, sse: line.sse };
  for (const x0 of x) {
    if (x0 < x[0] + 0.05 * span || x0 > x[0] + 0.75 * span) continue;
    const fit = twoRegressors(x, x.map((xi) => Math.max(0, xi - x0)), y);
    if (fit && fit.sse < best.sse) best = { at: x0, before: fit.b1, after: fit.b1 + fit.b2, sse: fit.sse };
  }
  return best;
}

/** Least squares y = a + b1·u + b2·w by the normal equations (centred); undefined when they are singular. */
function twoRegressors(u: readonly number[], w: readonly number[], y: readonly number[]) {
  const n = y.length;
  const mean = (v: readonly number[]) => v.reduce((sum, x) => sum + x, 0) / n;
  const mu = mean(u), mw = mean(w), my = mean(y);
  let suu = 0, sww = 0, suw = 0, suy = 0, swy = 0;
  for (let i = 0; i < n; i++) {
    const du = u[i] - mu, dw = w[i] - mw, dy = y[i] - my;
    suu += du * du; sww += dw * dw; suw += du * dw; suy += du * dy; swy += dw * dy;
  }
  const det = suu * sww - suw * suw;
  if (!(Math.abs(det) > 1e-12 * suu * sww)) return undefined;
  const b1 = (suy * sww - swy * suw) / det;
  const b2 = (swy * suu - suy * suw) / det;
  const a = my - b1 * mu - b2 * mw;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (y[i] - a - b1 * u[i] - b2 * w[i]) ** 2;
  return { b1, b2, sse };
}

export interface StepFit {
  /** Index of the first point of the second level. */
  at: number;
  sse: number;
}

/** Best split into two constant levels (least squares), with at least 10% of the points on each side. O(n). */
export function stepFit(y: readonly number[]): StepFit {
  const n = y.length;
  const prefix = [0];
  const prefixSquares = [0];
  for (const v of y) {
    prefix.push(prefix[prefix.length - 1] + v);
    prefixSquares.push(prefixSquares[prefixSquares.length - 1] + v * v);
  }
  const sse = (a: number, b: number) => prefixSquares[b] - prefixSquares[a] - (prefix[b] - prefix[a]) ** 2 / (b - a);
  let best: StepFit = { at: 0, sse: sse(0, n) };
  for (let k = Math.max(1, Math.floor(n * 0.1)); k <= n - Math.max(1, Math.floor(n * 0.1)); k++) {
    const total = sse(0, k) + sse(k, n);
    if (total < best.sse) best = { at: k, sse: total };
  }
  return best;
}
