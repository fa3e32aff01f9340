/**
 * Is this memory series leaking? A pure function from a series to a verdict with its evidence.
 *
 * 1. See through what is not growth: restarts (keep the part after the last one), GC / allocator sawtooth (judge
 *    the floor of each cycle), noise and spikes (medians of ≤ 200 time buckets).
 * 2. Trend: Mann–Kendall test, its variance inflated for autocorrelation (smooth curves are not evidence);
 *    Theil–Sen slope with its 95% confidence interval, measured from the onset.
 * 3. Onset: a hinge fit (flat, then growing) when it explains the data clearly better than a straight line.
 * 4. Shape: growth that has levelled off (warm-up, a cache at its cap) or one step followed by a flat line is not
 *    a leak, however significant.
 * 5. Practical size: growth below max(minRateBytesPerHour, minRelativeRatePerHour × level), or less than
 *    minGrowthBytes in all, does not matter.
 */
import { afterRestarts, bucketMedians, hingeFit, sawtoothFloor, stepFit } from './shape.js';
import { autocorrelationFactor, mannKendall } from './mann-kendall.js';
import { lag1Autocorrelation, leastSquares, median, Z99 } from './stats.js';
import { theilSen, type SlopeEstimate } from './theil-sen.js';
import type { AnalysisOptions, Series, Trend } from './types.js';
import { formatBytes, formatElapsed } from '../units.js';

export const DEFAULT_OPTIONS: AnalysisOptions = {
  managed: false,
  // Below 1 MiB/h a process needs 40+ days to lose 1 GiB: not what a soak test is after.
  minRateBytesPerHour: 1024 * 1024,
  // …and below 0.2%/h of its size it needs 3 weeks to grow by half.
  minRelativeRatePerHour: 0.002,
  // A short run needs real growth too: 1 MiB is what the minimum rate amounts to in an hour.
  minGrowthBytes: 1024 * 1024,
};

// Evidence needed: a one-sided p below LEAK_P is a leak, below SUSPECT_P a suspicion.
const LEAK_P = 0.001;
const SUSPECT_P = 0.05;
const BUCKETS = 200;
// Fewer points than this leave the shape checks (plateau, step) blind, and a warm-up would look like a leak.
const MIN_POINTS = 30;
const MIN_DURATION_SECONDS = 30;
// A hinge must cut the squared error of a straight line by this much to move the onset off the start.
const HINGE_GAIN = 0.7;
// One step explains the data when it leaves at most this share of a straight line's squared error.
const STEP_GAIN = 0.5;

const HOUR = 3600;

function insufficient(reason: string): Trend {
  return { verdict: 'insufficient-data', slopeBytesPerHour: 0, ci: [0, 0], onsetSeconds: null, growthBytes: 0, confidence: 0, pValue: 1, reason };
}

/** Slope with autocorrelation-aware CI and trend p-value for one stretch of buckets. */
function trendOf(x: number[], y: number[]): { slope: SlopeEstimate; p: number } {
  const line = leastSquares(x, y);
  const r1 = lag1Autocorrelation(y.map((v, i) => v - line.intercept - line.slope * x[i]));
  const factor = autocorrelationFactor(r1);
  return { slope: theilSen(x, y, undefined, factor), p: mannKendall(y, factor).pIncreasing };
}

const perHour = (bytesPerSecond: number) => bytesPerSecond * HOUR;
const rate = (bytesPerSecond: number) => `${formatBytes(perHour(bytesPerSecond))}/h`;
const pText = (p: number) => (p < 1e-4 ? 'p < 0.0001' : `p = ${p.toPrecision(2)}`);

export function analyzeTrend(input: Series, options: AnalysisOptions): Trend {
  if (input.t.length < MIN_POINTS) return insufficient(`has too little data to judge: ${input.t.length} samples (${MIN_POINTS} needed)`);
  const runSeconds = input.t[input.t.length - 1] - input.t[0];
  if (runSeconds < MIN_DURATION_SECONDS) return insufficient(`has too little data to judge: ${Math.round(runSeconds)} s (${MIN_DURATION_SECONDS} s needed)`);

  const restarted = afterRestarts(input);
  // Too few cycles to judge a floor: judge the values themselves (medians drop the short spikes between cycles).
  const cycles = sawtoothFloor(restarted);
  const floor = cycles && cycles.t.length >= MIN_POINTS ? cycles : undefined;
  const basis = floor ? `its post-GC floor (${floor.t.length} cycles)` : options.managed ? 'the lowest value of each time bucket' : undefined;
  // A managed heap without visible GC cycles may still collect within a bucket: take each bucket's floor.
  const judged = floor ?? restarted;
  // At least 3 samples per bucket, so a median removes a one-sample spike; short series are judged point by point.
  const buckets = judged.t.length < 3 * MIN_POINTS ? judged.t.length : Math.min(BUCKETS, Math.floor(judged.t.length / 3));
  const { t: x, v: y } = bucketMedians(judged, buckets, options.managed && !floor ? 'min' : 'median');
  if (x.length < MIN_POINTS) return insufficient(`has too little data to judge: ${x.length} ${floor ? 'GC cycles' : 'points'} (${MIN_POINTS} needed)`);

  const level = median(y);
  const minRate = Math.max(options.minRateBytesPerHour, options.minRelativeRatePerHour * level) / HOUR;

  // Onset: where a "flat, then growing" fit beats a straight line clearly.
  const hinge = hingeFit(x, y);
  const lineSse = leastSquares(x, y).sse;
  const onsetIndex = hinge.sse < HINGE_GAIN * lineSse ? Math.max(0, x.indexOf(hinge.onset)) : 0;
  const sx = x.slice(onsetIndex);
  const sy = y.slice(onsetIndex);
  const { slope, p } = trendOf(sx, sy);
  const ci: [number, number] = [perHour(slope.lo), perHour(slope.hi)];
  const onset = onsetIndex > 0 ? x[onsetIndex] : input.t[0];
  const growth = Math.max(0, slope.slope * (x[x.length - 1] - onset));
  const base = {
    slopeBytesPerHour: perHour(slope.slope),
    ci,
    pValue: p,
    onsetSeconds: slope.slope > 0 && p < SUSPECT_P ? onset : null,
    growthBytes: growth,
  };
  const on = basis ? ` (judged on ${basis})` : '';
  /** How sure we are that the rate is below what matters: the share of its CI under the minimum rate. */
  const sureBelow = (lo: number, hi: number) => (hi <= lo ? (hi < minRate ? 1 : 0) : Math.min(1, Math.max(0, (minRate - lo) / (hi - lo))));

  // Shape: a single step up, flat before and after.
  const step = stepFit(y);
  if (step.at > 0 && step.sse < STEP_GAIN * lineSse) {
    const after = trendOf(x.slice(step.at), y.slice(step.at));
    const before = trendOf(x.slice(0, step.at), y.slice(0, step.at));
    const flat = (t: { slope: SlopeEstimate; p: number }) => t.p >= SUSPECT_P || t.slope.slope < minRate;
    if (flat(after) && flat(before)) {
      const size = median(y.slice(step.at)) - median(y.slice(0, step.at));
      return {
        ...base,
        verdict: 'no-leak',
        onsetSeconds: null,
        confidence: sureBelow(after.slope.lo, after.slope.hi),
        reason: `stepped ${size >= 0 ? 'up' : 'down'} once by ${formatBytes(Math.abs(size))} at ${formatElapsed(x[step.at] * 1000)}, flat before and after${on}`,
      };
    }
  }

  // Shape: growth that stopped. The recent third's slope must be confidently below half the overall rate.
  const third = x.findIndex((xi) => xi >= x[0] + (2 / 3) * (x[x.length - 1] - x[0]));
  if (slope.slope > 0 && third > 0 && x.length - third >= MIN_POINTS / 3) {
    const recent = theilSen(x.slice(third), y.slice(third), Z99);
    if (recent.hi < 0.5 * slope.slope) {
      return {
        ...base,
        verdict: 'no-leak',
        onsetSeconds: null,
        confidence: sureBelow(recent.lo, recent.hi),
        reason: `grew, then levelled off: ${rate(recent.slope)} in the last third of the run against ${rate(slope.slope)} overall${on}`,
      };
    }
  }
  const material = slope.slope >= minRate && growth >= options.minGrowthBytes;
  const verdict = material && p < LEAK_P && slope.lo > 0 ? 'leak' : material && p < SUSPECT_P ? 'suspected' : 'no-leak';
  const since = onsetIndex > 0 ? ` since ${formatElapsed(onset * 1000)}` : '';
  const ciText = `95% CI ${formatBytes(ci[0])}–${formatBytes(ci[1])}/h`;
  const reason =
    verdict === 'no-leak'
      ? material
        ? `changed ${rate(slope.slope)} (${ciText}), not a clear trend (${pText(p)})${on}`
        : slope.slope >= minRate
          ? `grew only ${formatBytes(growth)} in all (${rate(slope.slope)}), less than the ${formatBytes(options.minGrowthBytes)} that matters${on}`
          : `is flat: ${rate(slope.slope)} (${ciText}), below the ${rate(minRate)} that matters${on}`
      : `grew ${rate(slope.slope)} (${ciText})${since}, ${verdict === 'leak' ? 'steadily, no plateau' : 'but the evidence is weak'} (${pText(p)})${on}`;
  return {
    ...base,
    verdict,
    confidence: verdict === 'no-leak' ? Math.max(sureBelow(slope.lo, slope.hi), p >= SUSPECT_P ? p : 0) : 1 - p,
    reason,
  };
}
