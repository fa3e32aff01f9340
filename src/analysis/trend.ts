/**
 * Is this memory series leaking? A pure function from a series to a verdict with its evidence.
 *
 * 0. Restarts, known from process identity (`Series.lives`): each life is judged on its own, and the lives together.
 * 1. See through what is not growth: GC / allocator sawtooth (judge the floor of each cycle; with too few cycles
 *    for that, memory released to the same floor with peaks that do not rise is not a leak), noise and spikes
 *    (medians of ≤ 200 time buckets).
 * 2. Trend: Mann–Kendall test, its variance inflated for autocorrelation (smooth curves are not evidence);
 *    Theil–Sen slope with its 95% confidence interval, measured from the onset.
 * 3. Onset: a hinge fit (flat, then growing) when it explains the data clearly better than a straight line.
 * 4. Shape: growth that has levelled off (warm-up, a cache at its cap) or one step followed by a flat line is not
 *    a leak, however significant.
 * 5. Practical size: growth below max(minRateBytesPerHour, minRelativeRatePerHour × level), or less than
 *    minGrowthBytes in all, does not matter.
 */
import { bendFit, bucketMedians, noiseScale, releaseCycles, sawtoothFloor, stepFit } from './shape.js';
import { autocorrelationFactor, mannKendall } from './mann-kendall.js';
import { lag1Autocorrelation, leastSquares, median, Z99 } from './stats.js';
import { type SlopeEstimate, theilSen } from './theil-sen.js';
import type { AnalysisOptions, LifeTrend, Series, Trend } from './types.js';
import { formatBytes, formatElapsed, formatRate, formatRateInterval, type Verdict } from '../vocabulary.js';

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

/**
 * The shortest recording the analysis can judge at a sampling interval: MIN_POINTS samples spanning at least
 * MIN_DURATION_SECONDS. `watch` and `run` warn at the start when --duration is shorter.
 */
export const shortestJudgedMs = (intervalMs: number) => Math.max(MIN_DURATION_SECONDS * 1000, (MIN_POINTS - 1) * intervalMs);
/** The same in words. */
export const JUDGING_NEEDS = `${MIN_POINTS} samples over ${MIN_DURATION_SECONDS} s or more`;
// A post-GC floor is judged from this many cycles on (each cycle's minimum is one clean point).
const MIN_CYCLES = 8;
// A bend must cut the squared error of a straight line by this much to move the onset off the start.
const HINGE_GAIN = 0.7;
// A warm-up settling into steady growth needs less: the steady part's own trend test follows.
const BEND_GAIN = 0.9;
// One step explains the data when it leaves at most this share of a straight line's squared error.
const STEP_GAIN = 0.5;

const HOUR = 3600;

// Released to the same floor: later peaks and floors stay within this share of the range (or 3 noise sd) of the
// first ones. A leak under a sawtooth this coarse lifts its floor by more within a few cycles, or shows in the
// post-GC floor once there are MIN_CYCLES cycles.
const RELEASE_TOLERANCE = 0.1;

function insufficient(reason: string): Trend {
  return { verdict: 'insufficient-data', slopeBytesPerHour: 0, ci: [0, 0], onsetSeconds: null, growthBytes: 0, confidence: 0, pValue: 1, reason, lives: [] };
}

/** Slope with autocorrelation-aware CI and trend p-value for one stretch of buckets. */
function trendOf(x: number[], y: number[]): { slope: SlopeEstimate; p: number } {
  const line = leastSquares(x, y);
  const r1 = lag1Autocorrelation(y.map((v, i) => v - line.intercept - line.slope * x[i]));
  const factor = autocorrelationFactor(r1);
  return { slope: theilSen(x, y, undefined, factor), p: mannKendall(y, factor).pIncreasing };
}

const perHour = (bytesPerSecond: number) => bytesPerSecond * HOUR;
const rate = (bytesPerSecond: number) => formatRate(perHour(bytesPerSecond));
const pText = (p: number) => (p < 1e-4 ? 'p < 0.0001' : `p = ${p.toPrecision(2)}`);

export function analyzeTrend(input: Series, options: AnalysisOptions): Trend {
  return input.lives?.length ? analyzeLives(input, input.lives, options) : analyzeLife(input, options);
}

const SEVERITY: Record<Verdict, number> = { 'insufficient-data': 0, 'no-leak': 1, suspected: 2, leak: 3 };

/**
 * P-value of k independent one-sided tests together (Fisher's method): X = −2 Σ ln pᵢ is χ² with 2k degrees of
 * freedom, whose upper tail for even degrees is e^(−X/2) Σ_{j<k} (X/2)^j / j!.
 */
export function fisherCombined(pValues: readonly number[]): number {
  const half = pValues.reduce((sum, p) => sum - Math.log(Math.max(p, Number.MIN_VALUE)), 0);
  let term = 1;
  let sum = 1;
  for (let j = 1; j < pValues.length; j++) sum += (term *= half / j);
  return Math.min(1, Math.exp(-half) * sum);
}

/**
 * A program that restarted: each life judged alone (a restart's drop is not a recovery, and a new life's warm-up
 * is not growth of the old one). The verdict is the strongest of the lives that could be judged, the longest (then
 * the latest) life deciding ties; and the lives together: growth in every life, each too weak alone, is a leak when
 * the evidence of all lives combined (Fisher) is as strong as one leak's.
 */
function analyzeLives(input: Series, starts: readonly number[], options: AnalysisOptions): Trend {
  const bounds = [0, ...starts.filter((i) => i > 0 && i < input.t.length), input.t.length];
  const lives: { trend: Trend; life: LifeTrend; duration: number }[] = [];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const t = input.t.slice(bounds[k], bounds[k + 1]);
    const trend = analyzeLife({ t, v: input.v.slice(bounds[k], bounds[k + 1]) }, options);
    const [startSeconds, endSeconds] = [t[0], t[t.length - 1]];
    lives.push({ trend, duration: endSeconds - startSeconds, life: { startSeconds, endSeconds, verdict: trend.verdict, slopeBytesPerHour: trend.slopeBytesPerHour, reason: trend.reason } });
  }
  const judged = lives.filter((l) => l.trend.verdict !== 'insufficient-data');
  const all = lives.map((l) => l.life);
  if (judged.length === 0) return { ...insufficient(`has too little data to judge in each of its ${lives.length} lives (the program restarted or exec'd ${lives.length - 1} time${lives.length === 2 ? '' : 's'})`), lives: all };
  const decisive = judged.reduce((best, l) =>
    SEVERITY[l.trend.verdict] > SEVERITY[best.trend.verdict] || (SEVERITY[l.trend.verdict] === SEVERITY[best.trend.verdict] && l.duration >= best.duration) ? l : best);
  const which = `in life ${lives.indexOf(decisive) + 1} of ${lives.length} (from ${formatElapsed(Math.round(decisive.life.startSeconds) * 1000)})`;
  const growing = judged.filter((l) => l.trend.verdict === 'suspected' || l.trend.verdict === 'leak');
  const together = judged.length >= 2 && growing.length === judged.length ? fisherCombined(judged.map((l) => l.trend.pValue)) : 1;
  if (decisive.trend.verdict === 'suspected' && together < LEAK_P) {
    return {
      ...decisive.trend,
      verdict: 'leak',
      confidence: 1 - together,
      pValue: together,
      reason: `grew in every one of its ${judged.length} judged lives (${pText(together)} together); ${which}: ${decisive.trend.reason}`,
      lives: all,
    };
  }
  // The program leaks since the first life that shows it.
  const onsets = judged.filter((l) => l.trend.verdict === decisive.trend.verdict && l.trend.onsetSeconds !== null).map((l) => l.trend.onsetSeconds!);
  const onsetSeconds = onsets.length > 0 ? onsets.reduce((a, b) => Math.min(a, b)) : decisive.trend.onsetSeconds;
  return { ...decisive.trend, onsetSeconds, reason: `${which}: ${decisive.trend.reason}`, lives: all };
}

/** Seconds rounded down to a tenth: what a run had never reads as what it needs (29.96 s is not "30 s"). */
const seconds = (value: number) => `${Math.floor(value * 10) / 10} s`;

/** One process's (or one unchanged set of processes') series. */
function analyzeLife(input: Series, options: AnalysisOptions): Trend {
  if (input.t.length < MIN_POINTS) return insufficient(`has too little data to judge: ${input.t.length} samples, at least ${MIN_POINTS} needed`);
  const runSeconds = input.t[input.t.length - 1] - input.t[0];
  if (runSeconds < MIN_DURATION_SECONDS) return insufficient(`has too little data to judge: samples over ${seconds(runSeconds)}, at least ${MIN_DURATION_SECONDS} s needed`);

  const cycles = sawtoothFloor(input);
  const floor = cycles && cycles.t.length >= MIN_CYCLES ? cycles : undefined;
  if (!floor) {
    const released = releasedToSameFloor(input);
    if (released) return released;
  }
  // Too few cycles to judge a floor: judge the values themselves (medians drop the short spikes between cycles).
  const basis = floor ? `its post-GC floor (${floor.t.length} cycles)` : options.managed ? 'the lowest value of each time bucket' : undefined;
  const judged = floor ?? input;
  // At least 3 samples per bucket, so a median removes a one-sample spike; short series are judged point by point.
  // A managed heap without visible GC cycles may still collect within a bucket: there, take each bucket's floor.
  const buckets = judged.t.length < 3 * MIN_POINTS ? judged.t.length : Math.min(BUCKETS, Math.floor(judged.t.length / 3));
  const { t: x, v: y } = bucketMedians(judged, buckets, options.managed && !floor ? 'min' : 'median');
  if (x.length < (floor ? MIN_CYCLES : MIN_POINTS)) return insufficient(floor
    ? `has too little data to judge: ${x.length} GC cycles, at least ${MIN_CYCLES} needed`
    : `has too little data to judge: ${x.length} distinct times, at least ${MIN_POINTS} needed`);

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
  // Without a hinge the growth runs from the start of what was judged.
  const onset = onsetIndex > 0 ? x[onsetIndex] : judged.t[0];
  const growth = Math.max(0, slope.slope * (x[x.length - 1] - onset));
  const base = {
    slopeBytesPerHour: perHour(slope.slope),
    ci,
    pValue: p,
    onsetSeconds: slope.slope > 0 && p < SUSPECT_P ? onset : null,
    growthBytes: growth,
    lives: [],
  };
  const on = basis ? ` (judged on ${basis})` : '';
  // Growth that would matter if it went on: only then are the shape rules worth asking.
  // A floor seen by sampling is only known to within one sample's climb (where in the refill the first sample after
  // a collection lands): floor growth smaller than that is the sampler's phase, not memory.
  const minGrowth = floor ? Math.max(options.minGrowthBytes, typicalClimb(input.v)) : options.minGrowthBytes;
  const material = slope.slope >= minRate && growth >= minGrowth;
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
  const ciText = `95% CI ${formatRateInterval(ci)}`;
  const reason =
    verdict === 'no-leak'
      ? material
        ? `changed ${rate(slope.slope)} (${ciText}), not a clear trend (${pText(p)})${on}`
        : slope.slope >= minRate
          ? `grew only ${formatBytes(growth)} in all (${rate(slope.slope)}), less than the ${formatBytes(minGrowth)} that matters${floor && minGrowth > options.minGrowthBytes ? ' (one sample\'s climb: how exactly a sampled floor is known)' : ''}${on}`
          : `is flat: ${rate(slope.slope)} (${ciText}), below the ${rate(minRate)} that matters${on}`
      : `grew ${rate(slope.slope)} (${ciText})${since}, ${verdict === 'leak' ? 'steadily, no plateau' : 'but the evidence is weak'} (${pText(p)})${on}`;
  return {
    ...base,
    verdict,
    confidence: verdict === 'no-leak' ? Math.max(sureBelow(slope.lo, slope.hi), p >= SUSPECT_P ? p : 0) : 1 - p,
    reason,
  };
}

/** The median rise from one sample to the next, over the samples that rose. */
function typicalClimb(v: readonly number[]): number {
  const rises: number[] = [];
  for (let i = 1; i < v.length; i++) if (v[i] > v[i - 1]) rises.push(v[i] - v[i - 1]);
  return rises.length > 0 ? median(rises) : 0;
}

/**
 * Memory that climbs and is released to the same floor again and again, its peaks not rising: not a leak, however
 * few and long the cycles (a cache flushed every hour, a GC that runs rarely). Undefined when that is not the shape.
 */
function releasedToSameFloor(input: Series): Trend | undefined {
  const cycles = releaseCycles(input);
  if (!cycles) return undefined;
  const tolerance = Math.max(RELEASE_TOLERANCE * cycles.range, 3 * noiseScale(input.v));
  // Peaks, reached by whatever load runs, vary more than the floor everything is released to.
  const peakRise = (cycles.peaks.slice(1).reduce((high, p) => Math.max(high, p), -Infinity) - cycles.peaks[0]) / 2;
  const floorRise = cycles.floors.reduce((high, f) => Math.max(high, f), -Infinity) - cycles.floors[0];
  if (peakRise > tolerance || floorRise > tolerance) return undefined;
  const line = leastSquares(input.t, input.v);
  return {
    verdict: 'no-leak',
    slopeBytesPerHour: perHour(line.slope),
    ci: [perHour(line.slope), perHour(line.slope)],
    onsetSeconds: null,
    growthBytes: 0,
    // How far inside the tolerance the peaks and floors stay.
    confidence: 1 - Math.max(0, peakRise, floorRise) / tolerance,
    pValue: 1,
    reason: `climbs and is released to the same floor again and again (${cycles.releases} releases of up to ${formatBytes(cycles.range)}), its peaks not rising`,
    lives: [],
  };
}
