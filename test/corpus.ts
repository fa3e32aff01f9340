/**
 * The labelled evaluation corpus: synthetic memory series (committed bytes of one memory type over time) with ground
 * truth, seeded and deterministic. No public labelled data set of memory leaks exists, so the cases that fool naive
 * slope tests are built here on purpose (warm-up, GC sawtooth, one step, caches at their cap, noise and spikes,
 * restarts) next to real leaks of several shapes (linear, slow under noise, late onset, staircase, leaked threads,
 * a rising GC floor, warm-up then leak).
 *
 * Every family has 14 scenarios, two per run length (10 min, 30 min, 1 h, 2 h, 6 h, 12 h, 24 h; slow-under-noise:
 * 6–24 h only). Samples come every second (every 2 s for 24 h, so a series never exceeds 43,200 points), with the
 * jitter of a real sampler (each tick up to 0.2 s late) and, in ~30% of the series, a few gaps of missed samples.
 * Values are whole 4 KiB pages.
 *
 * Ground truth of a leak is always "detectable by the rules": its rate is at least 2× the absolute minimum that
 * matters (1 MiB/h; 5 MiB/h for the linear family) and 2.5× the relative one (0.2%/h of the level), and its total
 * growth is several times the noise. The no-leak shapes reach their final level (plateau, cap, floor) before the last
 * third of the run (the warm-ups: within half a noise standard deviation by 60% of the run, and rising less than
 * 0.1%/h of the level from 2/3 of it).
 *
 * Build: `npx tsc -p tsconfig.json`; used by bench/eval.ts and checked by test/corpus.test.ts.
 */
import type { Series } from '../src/analysis/types.js';
import { formatBytes } from '../src/vocabulary.js';

export interface Scenario {
  family: string;
  name: string;
  leak: boolean;
  /** True long-run growth rate (bytes per hour); 0 for no-leak scenarios. */
  rateBytesPerHour: number;
  /** When the growth starts (seconds since start; 0 = from the start); null for no-leak scenarios. */
  onsetSeconds: number | null;
  durationSeconds: number;
  /** A managed (garbage-collected) heap: judge the post-GC floor. */
  managed: boolean;
  series: Series;
}

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const HOUR = 3600;
export const PAGE = 4 * KiB;
export const MAX_POINTS = 43_200;
/** A leaked (never joined) thread's stack: one 8 MiB mapping. */
export const THREAD_STACK = 8 * MiB;

export const NO_LEAK_FAMILIES = [
  'flat-noise',
  'warmup-plateau',
  'gc-sawtooth',
  'allocator-sawtooth',
  'step-then-flat',
  'cache-to-cap',
  'large-noise-flat',
  'restart',
  'rare-release',
] as const;
export const LEAK_FAMILIES = [
  'linear',
  'slow-under-noise',
  'mid-run-onset',
  'staircase',
  'thread-stacks',
  'sawtooth-leak',
  'warmup-then-leak',
  'restarting-leak',
] as const;
export const FAMILIES: readonly string[] = [...NO_LEAK_FAMILIES, ...LEAK_FAMILIES];

/** Run lengths in seconds: 10 min … 24 h. */
export const DURATIONS = [600, 1800, HOUR, 2 * HOUR, 6 * HOUR, 12 * HOUR, 24 * HOUR];
const LONG_DURATIONS = [6 * HOUR, 12 * HOUR, 24 * HOUR];
const PER_FAMILY = 14;

// ---------------------------------------------------------------------------------------------------------------
// Random numbers

export type Rng = () => number;

/** mulberry32: a small, fast 32-bit seeded PRNG. Uniform in [0, 1). */
export function mulberry32(seed: number): Rng {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal deviate (Box–Muller). */
export function gaussian(rng: Rng): number {
  let u = rng();
  while (u === 0) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

const uniform = (rng: Rng, lo: number, hi: number) => lo + (hi - lo) * rng();
const logUniform = (rng: Rng, lo: number, hi: number) => Math.exp(uniform(rng, Math.log(lo), Math.log(hi)));
const integer = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const exponential = (rng: Rng, mean: number) => -mean * Math.log(1 - rng());

/** One independent stream per (seed, family, index), so adding a family or a scenario leaves the others unchanged. */
function streamSeed(seed: number, family: string, index: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (const ch of `${family}#${index}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Building blocks

/** Sample interval: 1 s up to 12 h, 2 s for 24 h (at most MAX_POINTS points). */
export function sampleInterval(durationSeconds: number): number {
  return Math.max(1, Math.ceil(durationSeconds / MAX_POINTS));
}

/**
 * Tick times of a sampler: every dt, each tick up to 0.2·dt late (ms resolution); in ~30% of the series 1–3 gaps of
 * missed samples (10–120 ticks, at most 2% of the run each), none within 5% of the run of a `keep` time.
 */
function timeGrid(rng: Rng, duration: number, keep: number[] = []): number[] {
  const dt = sampleInterval(duration);
  const n = Math.floor(duration / dt);
  const gaps: Array<[number, number]> = [];
  if (rng() < 0.3) {
    for (let g = integer(rng, 1, 3); g > 0; g--) {
      const start = uniform(rng, 0.05, 0.95) * duration;
      const end = start + Math.min(uniform(rng, 10, 120) * dt, 0.02 * duration);
      if (!keep.some((k) => k > start - 0.05 * duration && k < end + 0.05 * duration)) gaps.push([start, end]);
    }
  }
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const ti = i === 0 ? 0 : Math.round((i + 0.2 * rng()) * dt * 1000) / 1000;
    if (!gaps.some(([a, b]) => ti >= a && ti < b)) t.push(ti);
  }
  return t;
}

/** Gaussian noise with standard deviation sd; AR(1) with correlation time tau (seconds) when tau > 0. */
function noise(rng: Rng, t: number[], sd: number, tau = 0): Float64Array {
  const out = new Float64Array(t.length);
  let x = sd * gaussian(rng);
  for (let i = 0; i < t.length; i++) {
    if (i > 0) {
      if (tau > 0) {
        const phi = Math.exp(-(t[i] - t[i - 1]) / tau);
        x = phi * x + Math.sqrt(1 - phi * phi) * sd * gaussian(rng);
      } else {
        x = sd * gaussian(rng);
      }
    }
    out[i] = x;
  }
  return out;
}

/** Whole pages, at least one. */
function pages(v: number[]): number[] {
  return v.map((x) => Math.max(PAGE, Math.round(x / PAGE) * PAGE));
}

interface Cycle {
  start: number;
  length: number;
  amplitude: number;
  floorOffset: number;
}

/** GC / allocator cycles covering [0, duration): each period ±20%, amplitude ±15%, its own post-GC floor offset. */
function cycles(rng: Rng, duration: number, period: number, amplitude: number, floorSd: number): Cycle[] {
  const out: Cycle[] = [];
  let start = -rng() * period; // the run starts somewhere inside a cycle
  while (start < duration) {
    const length = period * uniform(rng, 0.8, 1.2);
    out.push({ start, length, amplitude: amplitude * uniform(rng, 0.85, 1.15), floorOffset: floorSd * gaussian(rng) });
    start += length;
  }
  return out;
}

/** Sawtooth above the floor: rises linearly through each cycle, drops back at its end. `t` must be ascending. */
function sawtooth(t: number[], cs: Cycle[]): Float64Array {
  const out = new Float64Array(t.length);
  let c = 0;
  for (let i = 0; i < t.length; i++) {
    while (c < cs.length - 1 && t[i] >= cs[c].start + cs[c].length) c++;
    const cycle = cs[c];
    out[i] = cycle.floorOffset + (cycle.amplitude * (t[i] - cycle.start)) / cycle.length;
  }
  return out;
}

/** Correlation time for AR(1) noise: half of the series get one (≤ 60 s and ≤ 1/300 of the run), half white noise. */
function maybeTau(rng: Rng, duration: number): number {
  return rng() < 0.5 ? 0 : Math.min(uniform(rng, 5, 60), duration / 300);
}

/**
 * Time constant of a warm-up (amp·(1 − e^(−t/τ))) over a stretch of `span` seconds, drawn from [lo, hi]·span but
 * small enough that it has settled: within sd/2 of its plateau by 60% of the stretch, and rising less than 0.1%/h of
 * the level (half the smallest rate that matters) at 2/3 of it.
 */
function settledTau(rng: Rng, span: number, lo: number, hi: number, amp: number, sd: number, level: number): number {
  let max = Math.min(hi * span, (0.6 * span) / Math.log((2 * amp) / sd));
  while ((amp / max) * Math.exp(-(2 / 3) * (span / max)) > (0.001 * level) / HOUR) max *= 0.97;
  return uniform(rng, Math.min(lo * span, max), max);
}

const pct = (x: number) => `${+(x * 100).toPrecision(2)}%`;
const bytes = (x: number) => formatBytes(x).replace(' ', '');
export function formatDuration(seconds: number): string {
  return seconds >= HOUR ? `${+(seconds / HOUR).toFixed(2)}h` : seconds >= 60 ? `${+(seconds / 60).toFixed(1)}min` : `${+seconds.toFixed(1)}s`;
}

interface Generated {
  desc: string;
  leak: boolean;
  rateBytesPerHour: number;
  onsetSeconds: number | null;
  managed: boolean;
  t: number[];
  v: number[];
  /** Where a restart (a new process) begins, as the collector knows it from process identity. */
  lives?: number[];
}
type Generator = (rng: Rng, duration: number) => Generated;

const noLeak = (desc: string, t: number[], v: number[], managed = false): Generated => ({
  desc,
  leak: false,
  rateBytesPerHour: 0,
  onsetSeconds: null,
  managed,
  t,
  v,
});

/** Level range for a leak with relative rate `rho` per hour: ≥ minRate/rho (absolute rate), ≤ maxFinal at the end. */
function leakLevel(rng: Rng, rho: number, growthFactor: number, minRate: number, lo = 20 * MiB, hi = 2 * GiB, maxFinal = 16 * GiB) {
  const min = Math.max(lo, minRate / rho);
  const max = Math.max(min, Math.min(hi, maxFinal / (1 + growthFactor)));
  return logUniform(rng, min, max);
}

// ---------------------------------------------------------------------------------------------------------------
// Families

/** A sawtooth over a flat floor (no leak): GC cycles (managed) or allocator trims. */
function flatSawtooth(
  rng: Rng,
  D: number,
  ranges: { floor: [number, number]; amp: [number, number]; floorSd: [number, number]; managed: boolean },
): Generated {
  const floor = logUniform(rng, ...ranges.floor);
  const ampFrac = uniform(rng, ...ranges.amp);
  const period = logUniform(rng, 30, Math.min(600, D / 10));
  const floorSdFrac = logUniform(rng, ...ranges.floorSd);
  const cs = cycles(rng, D, period, ampFrac * floor, floorSdFrac * floor);
  const t = timeGrid(rng, D);
  const saw = sawtooth(t, cs);
  const e = noise(rng, t, 0.0005 * floor);
  const v = t.map((_, i) => floor + saw[i] + e[i]);
  return noLeak(`floor=${bytes(floor)} amp=${pct(ampFrac)} period=${period.toFixed(0)}s`, t, pages(v), ranges.managed);
}

const generators: Record<string, Generator> = {
  // No leak -------------------------------------------------------------------------------------------------------

  'flat-noise': (rng, D) => {
    const level = logUniform(rng, 20 * MiB, 2 * GiB);
    const sdFrac = logUniform(rng, 0.001, 0.02);
    const tau = maybeTau(rng, D);
    const t = timeGrid(rng, D);
    const e = noise(rng, t, sdFrac * level, tau);
    return noLeak(`L=${bytes(level)} sd=${pct(sdFrac)}${tau ? ` ar=${tau.toFixed(0)}s` : ''}`, t, pages(t.map((_, i) => level + e[i])));
  },

  'warmup-plateau': (rng, D) => {
    const start = logUniform(rng, 20 * MiB, 1 * GiB);
    const amp = start * uniform(rng, 0.1, 2);
    const sdFrac = logUniform(rng, 0.002, 0.01);
    const sd = sdFrac * (start + amp);
    const tau = settledTau(rng, D, 0.02, 0.2, amp, sd, start + amp);
    const t = timeGrid(rng, D);
    const e = noise(rng, t, sd, maybeTau(rng, D));
    const v = t.map((ti, i) => start + amp * (1 - Math.exp(-ti / tau)) + e[i]);
    return noLeak(`${bytes(start)}→${bytes(start + amp)} tau=${pct(tau / D)}ofRun sd=${pct(sdFrac)}`, t, pages(v));
  },

  'gc-sawtooth': (rng, D) => flatSawtooth(rng, D, { floor: [50 * MiB, 2 * GiB], amp: [0.1, 0.5], floorSd: [0.001, 0.005], managed: true }),

  'allocator-sawtooth': (rng, D) => flatSawtooth(rng, D, { floor: [20 * MiB, 2 * GiB], amp: [0.02, 0.1], floorSd: [0.0005, 0.003], managed: false }),

  'step-then-flat': (rng, D) => {
    const level = logUniform(rng, 20 * MiB, 2 * GiB);
    const stepFrac = uniform(rng, 0.05, 0.5);
    const at = D * uniform(rng, 0.05, 0.6);
    const ramp = uniform(rng, 0, Math.min(60, 0.01 * D)); // a step takes a few seconds at most
    const sdFrac = logUniform(rng, 0.001, 0.01);
    const t = timeGrid(rng, D);
    const e = noise(rng, t, sdFrac * level, maybeTau(rng, D));
    const v = t.map((ti, i) => level + stepFrac * level * Math.min(1, Math.max(0, (ti - at) / Math.max(ramp, 1e-9))) + e[i]);
    return noLeak(`L=${bytes(level)} step=+${pct(stepFrac)}@${pct(at / D)} sd=${pct(sdFrac)}`, t, pages(v));
  },

  'cache-to-cap': (rng, D) => {
    const start = logUniform(rng, 20 * MiB, 1 * GiB);
    const cap = start * uniform(rng, 0.2, 2);
    const full = D * uniform(rng, 0.2, 0.6);
    const sdFrac = logUniform(rng, 0.001, 0.01);
    const t = timeGrid(rng, D);
    const e = noise(rng, t, sdFrac * start, maybeTau(rng, D));
    const v = t.map((ti, i) => start + cap * Math.min(1, ti / full) + e[i]);
    return noLeak(`${bytes(start)}→${bytes(start + cap)} full@${pct(full / D)} sd=${pct(sdFrac)}`, t, pages(v));
  },

  'large-noise-flat': (rng, D) => {
    const level = logUniform(rng, 20 * MiB, 2 * GiB);
    const sdFrac = uniform(rng, 0.05, 0.1);
    const meanGap = uniform(rng, 300, 1800);
    const dt = sampleInterval(D);
    const spikes: Array<{ at: number; length: number; height: number }> = [];
    for (let at = exponential(rng, meanGap); at < D; at += exponential(rng, meanGap)) {
      spikes.push({ at, length: uniform(rng, 1, 30) * dt, height: level * uniform(rng, 0.2, 1) });
    }
    const t = timeGrid(rng, D);
    const e = noise(rng, t, sdFrac * level, maybeTau(rng, D));
    let s = 0;
    const v = t.map((ti, i) => {
      while (s < spikes.length && spikes[s].at + spikes[s].length <= ti) s++;
      const spike = s < spikes.length && ti >= spikes[s].at ? spikes[s].height : 0;
      return level + e[i] + spike;
    });
    return noLeak(`L=${bytes(level)} sd=${pct(sdFrac)} spikes=${spikes.length}`, t, pages(v));
  },

  restart: (rng, D) => {
    const start = logUniform(rng, 20 * MiB, 1 * GiB);
    const amp = start * uniform(rng, 0.2, 1.5);
    const sdFrac = logUniform(rng, 0.002, 0.01);
    const sd = sdFrac * (start + amp);
    const at = D * uniform(rng, 0.4, 0.7);
    // Both warm-ups settled (see settledTau) within their stretch: before the restart and after it.
    const tau = settledTau(rng, Math.min(at, D - at), 0.02, 0.3, amp, sd, start + amp);
    const restartLevel = start * uniform(rng, 0.98, 1.02);
    const t = timeGrid(rng, D, [at]);
    const e = noise(rng, t, sd, maybeTau(rng, D));
    const v = t.map((ti, i) =>
      (ti < at ? start + amp * (1 - Math.exp(-ti / tau)) : restartLevel + amp * (1 - Math.exp(-(ti - at) / tau))) + e[i],
    );
    return { ...noLeak(`${bytes(start)}→${bytes(start + amp)} restart@${pct(at / D)} tau=${pct(tau / D)}ofRun`, t, pages(v)), lives: [t.findIndex((ti) => ti >= at)] };
  },

  'rare-release': (rng, D) => {
    // Few, long cycles (2–7 in the run): a cache flushed now and then, a rare full GC; too few for a post-GC floor.
    const floor = logUniform(rng, 20 * MiB, 1 * GiB);
    const ampFrac = uniform(rng, 0.3, 1.5);
    const period = D / uniform(rng, 2.2, 7);
    const cs = cycles(rng, D, period, ampFrac * floor, 0.002 * floor).map((c) => ({ ...c, amplitude: ampFrac * floor * uniform(rng, 0.95, 1.05) }));
    const t = timeGrid(rng, D);
    const saw = sawtooth(t, cs);
    const e = noise(rng, t, 0.002 * floor, maybeTau(rng, D));
    return noLeak(`floor=${bytes(floor)} amp=${pct(ampFrac)} period=${pct(period / D)}ofRun`, t, pages(t.map((_, i) => floor + saw[i] + e[i])));
  },

  // Leaks ---------------------------------------------------------------------------------------------------------

  linear: (rng, D) => {
    const hours = D / HOUR;
    const rho = logUniform(rng, 0.01, Math.min(2, 20 / hours)); // 1–200 %/h, at most 21× the start by the end
    const start = leakLevel(rng, rho, rho * hours, 5 * MiB);
    const rate = rho * start;
    const sd = Math.min(logUniform(rng, 0.001, 0.005) * start, (rate * hours) / 10); // growth ≥ 10 sd
    const t = timeGrid(rng, D);
    const e = noise(rng, t, sd);
    const v = t.map((ti, i) => start + (rate * ti) / HOUR + e[i]);
    return {
      desc: `L=${bytes(start)} rate=${pct(rho)}/h (${bytes(rate)}/h) sd=${pct(sd / start)}`,
      leak: true,
      rateBytesPerHour: rate,
      onsetSeconds: 0,
      managed: false,
      t,
      v: pages(v),
    };
  },

  'slow-under-noise': (rng, D) => {
    const hours = D / HOUR;
    const k = uniform(rng, 4, 6); // total growth in noise standard deviations
    // Relative rate rho = sdFrac·k/hours, ≥ 0.55%/h of the final level; the noise sd is ≥ 1 h of growth (hours/k ≥ 1).
    const rhoMin = 0.0055 / (1 - 0.0055 * hours);
    const sdFrac = logUniform(rng, Math.max(0.006, (rhoMin * hours) / k), Math.max(0.04, (1.02 * rhoMin * hours) / k));
    const rho = (sdFrac * k) / hours;
    const level = leakLevel(rng, rho, rho * hours, 2 * MiB);
    const rate = rho * level;
    const tau = maybeTau(rng, D);
    const t = timeGrid(rng, D);
    const e = noise(rng, t, sdFrac * level, tau);
    const v = t.map((ti, i) => level + (rate * ti) / HOUR + e[i]);
    return {
      desc: `L=${bytes(level)} rate=${pct(rho)}/h (${bytes(rate)}/h) sd=${pct(sdFrac)} growth=${k.toFixed(1)}sd${tau ? ` ar=${tau.toFixed(0)}s` : ''}`,
      leak: true,
      rateBytesPerHour: rate,
      onsetSeconds: 0,
      managed: false,
      t,
      v: pages(v),
    };
  },

  'mid-run-onset': (rng, D) => {
    const onset = D * uniform(rng, 0.2, 0.6);
    const hours = (D - onset) / HOUR;
    const rho = logUniform(rng, 0.02, Math.min(1, 10 / hours));
    const level = leakLevel(rng, rho, rho * hours, 5 * MiB);
    const rate = rho * level;
    const sd = Math.min(logUniform(rng, 0.001, 0.01) * level, (rate * hours) / 10);
    const t = timeGrid(rng, D);
    const e = noise(rng, t, sd, maybeTau(rng, D));
    const v = t.map((ti, i) => level + (rate * Math.max(0, ti - onset)) / HOUR + e[i]);
    return {
      desc: `L=${bytes(level)} onset@${pct(onset / D)} rate=${pct(rho)}/h (${bytes(rate)}/h) sd=${pct(sd / level)}`,
      leak: true,
      rateBytesPerHour: rate,
      onsetSeconds: onset,
      managed: false,
      t,
      v: pages(v),
    };
  },

  staircase: (rng, D) => {
    // A third start late (20–40% of the run). Steps at onset + (j + ½)·interval: the equivalent straight line
    // starts at the onset.
    const onset = rng() < 1 / 3 ? D * uniform(rng, 0.2, 0.4) : 0;
    const steps = integer(rng, 5, 12);
    const interval = (D - onset) / steps;
    const intervalHours = interval / HOUR;
    // Step s (fraction of the start level) so the rate is ≥ 0.5%/h of the final level: s ≥ 0.005·I/(1 − 0.005·I·k).
    const sMin = (0.0055 * intervalHours) / (1 - 0.0055 * intervalHours * steps);
    const sFrac = uniform(rng, Math.max(0.01, sMin), Math.max(0.15, 1.5 * sMin));
    const start = logUniform(rng, Math.max(20 * MiB, (2 * MiB * intervalHours) / sFrac), 2 * GiB);
    const step = sFrac * start;
    const sd = Math.min(logUniform(rng, 0.001, 0.005) * start, step / 3);
    const t = timeGrid(rng, D);
    const e = noise(rng, t, sd, maybeTau(rng, D));
    const v = t.map((ti, i) => {
      const taken = ti < onset ? 0 : Math.min(steps, Math.max(0, Math.floor((ti - onset) / interval + 0.5)));
      return start + taken * step + e[i];
    });
    return {
      desc: `L=${bytes(start)} ${steps}×${bytes(step)} every ${formatDuration(interval)}${onset ? ` from ${pct(onset / D)}` : ''} sd=${pct(sd / start)}`,
      leak: true,
      rateBytesPerHour: step / intervalHours,
      onsetSeconds: onset,
      managed: false,
      t,
      v: pages(v),
    };
  },

  'thread-stacks': (rng, D) => {
    // Stack type: the main stack plus one 8 MiB mapping per live thread. Leaked threads are never joined.
    const onset = rng() < 1 / 3 ? D * uniform(rng, 0.2, 0.4) : 0;
    const window = D - onset;
    const minLeaked = Math.max(5, Math.ceil(window / (4 * HOUR))); // ≥ 2 MiB/h
    const leaked = integer(rng, minLeaked, Math.max(minLeaked, 20));
    const interval = window / leaked;
    const intervalHours = interval / HOUR;
    // Rate ≥ 0.5%/h of the final level: (1/I)/(threads + leaked) ≥ 0.005.
    const maxThreads = Math.max(1, Math.floor(1 / (0.0055 * intervalHours) - leaked));
    const threads = integer(rng, 1, Math.min(60, maxThreads));
    const base = 132 * KiB + threads * THREAD_STACK;
    const events: Array<{ at: number; delta: number }> = [];
    for (let j = 0; j < leaked; j++) events.push({ at: onset + (j + 0.5 + uniform(rng, -0.25, 0.25)) * interval, delta: THREAD_STACK });
    const excursions = integer(rng, 0, 4); // short-lived threads that are joined
    for (let j = 0; j < excursions; j++) {
      const at = uniform(rng, 0, D);
      events.push({ at, delta: THREAD_STACK }, { at: at + logUniform(rng, 5, Math.min(300, D / 20)), delta: -THREAD_STACK });
    }
    events.sort((a, b) => a.at - b.at);
    const t = timeGrid(rng, D);
    let live = base;
    let ev = 0;
    const v = t.map((ti) => {
      while (ev < events.length && events[ev].at <= ti) live += events[ev++].delta;
      return live;
    });
    return {
      desc: `${threads} threads + ${leaked} leaked every ~${formatDuration(interval)}${onset ? ` from ${pct(onset / D)}` : ''}, ${excursions} short-lived`,
      leak: true,
      rateBytesPerHour: THREAD_STACK / intervalHours,
      onsetSeconds: onset,
      managed: false,
      t,
      v: pages(v),
    };
  },

  'sawtooth-leak': (rng, D) => {
    const hours = D / HOUR;
    const ampFrac = uniform(rng, 0.1, 0.5);
    const period = logUniform(rng, 30, Math.min(600, D / 10));
    const floorSdFrac = logUniform(rng, 0.001, 0.005);
    // What the post-GC floor looks like from outside: its own scatter, the sample noise, and the allocation between
    // the GC and the next sample (uniform over one sample interval's worth of the sawtooth's rise).
    const seenFloorSdFrac = Math.hypot(floorSdFrac, 0.0005, (ampFrac * sampleInterval(D)) / period / Math.sqrt(12));
    // 1–50 %/h, and at least enough for the floor to show it: a rise of 8 of the floor's standard deviations over the
    // run, and a slope through the cycles' floors with a standard error ≤ 4% (σ·√(12/cycles)/rise ≤ 0.04).
    const minRise = seenFloorSdFrac * Math.max(8, 25 * Math.sqrt((12 * period) / D));
    const rho = Math.max(logUniform(rng, 0.01, Math.min(0.5, 10 / hours)), minRise / hours);
    const floor = leakLevel(rng, rho, rho * hours, 5 * MiB, 50 * MiB, 1 * GiB);
    const rate = rho * floor;
    const cs = cycles(rng, D, period, ampFrac * floor, floorSdFrac * floor);
    const t = timeGrid(rng, D);
    const saw = sawtooth(t, cs);
    const e = noise(rng, t, 0.0005 * floor);
    const v = t.map((ti, i) => floor + (rate * ti) / HOUR + saw[i] + e[i]);
    return {
      desc: `floor=${bytes(floor)} +${pct(rho)}/h (${bytes(rate)}/h) amp=${pct(ampFrac)} period=${period.toFixed(0)}s`,
      leak: true,
      rateBytesPerHour: rate,
      onsetSeconds: 0,
      managed: true,
      t,
      v: pages(v),
    };
  },

  'warmup-then-leak': (rng, D) => {
    // Warm-up that ends exactly at `end` (ease-out polynomial, zero slope there), then linear growth from `end`.
    const end = D * uniform(rng, 0.1, 0.4);
    const power = uniform(rng, 2, 4);
    const ampFrac = uniform(rng, 0.2, 1.5);
    const hours = (D - end) / HOUR;
    const rho = logUniform(rng, 0.02, Math.min(0.5, 10 / hours)); // of the plateau
    const plateau = leakLevel(rng, rho, rho * hours, 5 * MiB, 20 * MiB * (1 + ampFrac), 1 * GiB * (1 + ampFrac));
    const start = plateau / (1 + ampFrac);
    const rate = rho * plateau;
    const sd = Math.min(logUniform(rng, 0.001, 0.005) * plateau, (rate * hours) / 10);
    const t = timeGrid(rng, D);
    const e = noise(rng, t, sd, maybeTau(rng, D));
    const v = t.map((ti, i) =>
      (ti < end ? start + (plateau - start) * (1 - Math.pow(1 - ti / end, power)) : plateau + (rate * (ti - end)) / HOUR) + e[i],
    );
    return {
      desc: `${bytes(start)}→${bytes(plateau)} by ${pct(end / D)}, then ${pct(rho)}/h (${bytes(rate)}/h) sd=${pct(sd / plateau)}`,
      leak: true,
      rateBytesPerHour: rate,
      onsetSeconds: end,
      managed: false,
      t,
      v: pages(v),
    };
  },

  'restarting-leak': (rng, D) => {
    // A leak that restarts the program (an OOM kill, a watchdog) 1–3 times: every life leaks from the same start.
    const restarts = 1 + Math.floor(rng() * 3);
    const lifeHours = D / (restarts + 1) / HOUR;
    const rho = logUniform(rng, 0.05, Math.min(2, 10 / lifeHours));
    const start = leakLevel(rng, rho, rho * lifeHours, 5 * MiB);
    const rate = rho * start;
    const sd = Math.min(logUniform(rng, 0.001, 0.005) * start, (rate * lifeHours) / 10);
    const ats = Array.from({ length: restarts }, (_, k) => (D * (k + 1)) / (restarts + 1) * uniform(rng, 0.9, 1.1));
    const t = timeGrid(rng, D, ats);
    const e = noise(rng, t, sd);
    const lifeStart = (ti: number) => ats.reduce((last, at) => (ti >= at ? at : last), 0);
    const v = t.map((ti, i) => start + (rate * (ti - lifeStart(ti))) / HOUR + e[i]);
    return {
      desc: `L=${bytes(start)} rate=${pct(rho)}/h (${bytes(rate)}/h) restarts=${restarts} sd=${pct(sd / start)}`,
      leak: true,
      rateBytesPerHour: rate,
      onsetSeconds: 0,
      managed: false,
      t,
      v: pages(v),
      lives: ats.map((at) => t.findIndex((ti) => ti >= at)),
    };
  },
};

/** The whole corpus for a seed: every family, PER_FAMILY scenarios each, deterministic. */
export function generateCorpus(seed = 1): Scenario[] {
  const out: Scenario[] = [];
  for (const family of FAMILIES) {
    const generate = generators[family];
    const durations = family === 'slow-under-noise' ? LONG_DURATIONS : DURATIONS;
    for (let i = 0; i < PER_FAMILY; i++) {
      const duration = durations[i % durations.length];
      const g = generate(mulberry32(streamSeed(seed, family, i)), duration);
      out.push({
        family,
        name: `${family}-${String(i + 1).padStart(2, '0')} ${formatDuration(duration)} ${g.desc}`,
        leak: g.leak,
        rateBytesPerHour: g.rateBytesPerHour,
        onsetSeconds: g.onsetSeconds,
        durationSeconds: duration,
        managed: g.managed,
        series: { t: g.t, v: g.v, ...(g.lives && { lives: g.lives }) },
      });
    }
  }
  return out;
}
