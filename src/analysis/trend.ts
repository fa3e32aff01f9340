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
import { afterRestarts, bendFit, bucketMedians, sawtoothFloor, stepFit } from './shape.js';
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
// A post-GC floor is judged from this many cycles on (each cycle's minimum is one clean point).
const MIN_CYCLES = 8;
// A bend must cut the squared error of a straight line by this much to move the onset off the start.
const HINGE_GAIN = 0.7;
// A warm-up settling into steady growth needs less: the steady part's own trend test follows.
const BEND_GAIN = 0.9;
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
  const floor = cycles && cycles.t.length >= MIN_CYCLES ? cycles : undefined;
  const basis = floor ? `its post-GC floor (${floor.t.length} cycles)` : options.managed ? 'the lowest value of each time bucket' : undefined;
  const judged = floor ?? restarted;
  // At least 3 samples per bucket, so a median removes a one-sample spike; short series are judged point by point.
  // A managed heap without visible GC cycles may still collect within a bucket: there, take each bucket's floor.
  const buckets = judged.t.length < 3 * MIN_POINTS ? judged.t.length : Math.min(BUCKETS, Math.floor(judged.t.length / 3));
  const { t: x, v: y } = bucketMedians(judged, buckets, options.managed && !floor ? 'min' : 'median');
  if (x.length < (floor ? MIN_CYCLES : MIN_POINTS)) return insufficient(`has too little data to judge: ${x.length} points (${MIN_POINTS} needed)`);

  const level = median(y);
  const minRate = Math.max(options.minRateBytesPerHour, options.minRelativeRatePerHour * level) / HOUR;

  // Onset: where a "flat, then growing" fit beats a straight line clearly.
  // Where the slope changes: growth starting or speeding up there is the onset; a fast start (warm-up) that
  // settles into steady growth makes the steady part the leak, from the bend on.
  const lineSse = leastSquares(x, y).sse;
  const bend = bendFit(x, y);
  const bendIndex = x.indexOf(bend.at);
  const afterBend = x.length - bendIndex >= MIN_CYCLES ? trendOf(x.slice(bendIndex), y.slice(bendIndex)) : undefined;
  const accelerates = bend.after > bend.before && bend.sse < HINGE_GAIN * lineSse;
  const settles = bend.before > bend.after && bend.sse < BEND_GAIN * lineSse && afterBend !== undefined && afterBend.p < LEAK_P;
  const onsetIndex = accelerates || settles ? bendIndex : 0;
  const sx = x.slice(onsetIndex);
  const sy = y.slice(onsetIndex);
  const { slope, p } = trendOf(sx, sy);
  const ci: [number, number] = [perHour(slope.lo), perHour(slope.hi)];
  // Without a hinge the growth runs from the start of what was judged (the last restart, if any).
  const onset = onsetIndex > 0 ? x[onsetIndex] : judged.t[0];
  const growth = Math.max(0, slope.slope * (x[x.length - 1] - onset));
  const base = {
    slopeBytesPerHour: perHour(slope.slope),
    ci,
    pValue: p,
    onsetSeconds: slope.slope > 0 && p < SUSPECT_P ? onset : null,
    growthBytes: growth,
  };
  const on = basis ? ` (judged on ${basis})` : '';
  // Growth that would matter if it went on: only then are the shape rules worth asking.
  const material = slope.slope >= minRate && growth >= options.minGrowthBytes;
  /** How sure we are that the rate is below what matters: the share of its CI under the minimum rate. */
  const sureBelow = (lo: number, hi: number) => (hi <= lo ? (hi < minRate ? 1 : 0) : Math.min(1, Math.max(0, (minRate - lo) / (hi - lo))));

  // Shape: a single step up, flat before and after.
  const step = stepFit(y);
  if (step.at >= 3 && y.length - step.at >= 3 && step.sse < STEP_GAIN * lineSse) {
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

  // Shape: growth that stopped. The last third grows at under half the overall rate, confidently so or without a
  // trend of its own (a noisy plateau; a leak under noise keeps its rate there too); or "growing, then flat" fits
  // clearly better than a line and what follows the bend has no trend of its own.
  const third = x.findIndex((xi) => xi >= x[0] + (2 / 3) * (x[x.length - 1] - x[0]));
  if (material && third > 0 && x.length - third >= MIN_CYCLES) {
    const recent = theilSen(x.slice(third), y.slice(third), Z99);
    const recentP = trendOf(x.slice(third), y.slice(third)).p;
    const firstThird = x.findIndex((xi) => xi > x[0] + (1 / 3) * (x[x.length - 1] - x[0]));
    // A fast warm-up: the last third grows at under a quarter of the first third's pace, without strong evidence.
    const decelerated = firstThird >= 3 && recent.slope < 0.25 * theilSen(x.slice(0, firstThird), y.slice(0, firstThird)).slope && recentP >= LEAK_P;
    const recentIsFlat = recent.slope < 0.5 * slope.slope && (recent.hi < 0.5 * slope.slope || recentP >= SUSPECT_P);
    const flatAfterBend = bend.before > bend.after && bend.sse < HINGE_GAIN * lineSse && afterBend !== undefined && afterBend.p >= SUSPECT_P;
    if (recentIsFlat || decelerated || flatAfterBend) {
      return {
        ...base,
        verdict: 'no-leak',
        onsetSeconds: null,
        confidence: sureBelow(recent.lo, recent.hi),
        reason: `grew, then levelled off: ${rate(recent.slope)} in the last third of the run against ${rate(slope.slope)} overall${on}`,
      };
    }
  }
  const verdict = material && p < LEAK_P && slope.lo > 0 ? 'leak' : material && p < SUSPECT_P ? 'suspected' : 'no-leak';
  const since = onsetIndex > 0 ? ` since ${formatElapsed(Math.round(onset) * 1000)}` : '';
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
