/**
 * Axis steps a person reads at a glance, for the HTML charts (which get the numbers in their data) and the PNGs alike:
 * bytes in round amounts of one binary unit, elapsed time in round durations.
 */

import { BYTE_UNITS } from '../vocabulary.js';

/** Ticks an axis may carry at most: the 1-2-5 steps below then give it 4 to 8. */
export const MAX_TICKS = 8;

/** A byte axis as chart.js takes it, with one label per tick from `min` to `max`. */
export interface ByteAxis {
  min: number;
  max: number;
  stepSize: number;
  labels: string[];
}

/**
 * The step of a byte axis over [low, high] with at most `maxTicks` ticks, and the unit (a power of 1024) its labels
 * are written in: the unit `high` is written in, and a step of 1, 2 or 5 × a power of ten of it (10 MiB, 0.5 GiB).
 * One unit per axis, so the labels compare at a glance; 1-2-5 because people count in tens (1/2/4/8 steps give
 * 48 MiB, 80 MiB); neighbouring steps differ by 2.5× at most, so the smallest one that fits leaves 4 to 8 ticks.
 * Bytes come whole: in B the step is at least 1.
 */
export function niceByteStep(low: number, high: number, maxTicks: number): { step: number; unit: number } {
  if (!Number.isFinite(low) || !Number.isFinite(high) || !(maxTicks >= 2)) throw new RangeError(`no byte axis over [${low}, ${high}] in ${maxTicks} ticks`);
  let unit = 0;
  while (unit < BYTE_UNITS.length - 1 && Math.abs(high) >= 1024 ** (unit + 1)) unit++;
  const inUnit = stepIn(unit, low, high, maxTicks);
  // A top that rounds up to 1024 of the unit (1010 MiB → 1200 MiB) is written in the next one (1 GiB).
  return unit < BYTE_UNITS.length - 1 && alignedUp(high, inUnit) >= 1024 ** (unit + 1)
    ? { step: stepIn(unit + 1, low, high, maxTicks), unit: unit + 1 }
    : { step: inUnit, unit };
}

function stepIn(unit: number, low: number, high: number, maxTicks: number): number {
  for (let exponent = unit === 0 ? 0 : -2; ; exponent++) {
    for (const mantissa of [1, 2, 5]) {
      const step = mantissa * 10 ** exponent * 1024 ** unit;
      if (ticksBetween(low, high, step) <= maxTicks) return step;
    }
  }
}

// Slack for float division: 0.3 GiB / 0.1 GiB must count as 3 steps, not 3.0000000000000004.
const SLACK = 1e-9;
const alignedDown = (value: number, step: number) => Math.floor(value / step + SLACK) * step;
const alignedUp = (value: number, step: number) => Math.ceil(value / step - SLACK) * step;
const ticksBetween = (low: number, high: number, step: number) => Math.round((alignedUp(high, step) - alignedDown(low, step)) / step) + 1;

/**
 * The y axis of memory: from `low` (never below zero: bytes are not negative, a trend band's extrapolation may be)
 * to `high`, both rounded out to the step. A flat series starts at zero, where it reads as flat rather than as noise.
 */
export function byteAxis(low: number, high: number, maxTicks = MAX_TICKS): ByteAxis {
  const top = Math.max(0, high);
  const bottom = Math.max(0, low) < top ? Math.max(0, low) : 0;
  const { step, unit } = niceByteStep(bottom, top, maxTicks);
  const first = Math.round(alignedDown(bottom, step) / step);
  const last = Math.max(first + 1, Math.round(alignedUp(top, step) / step));
  const stepInUnit = step / 1024 ** unit;
  const decimals = Math.max(0, -Math.floor(Math.log10(stepInUnit) + SLACK));
  const labels = Array.from({ length: last - first + 1 }, (_, i) => `${Number(((first + i) * stepInUnit).toFixed(decimals))} ${BYTE_UNITS[unit]}`);
  return { min: first * step, max: last * step, stepSize: step, labels };
}

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Round durations in seconds: what a clock reader counts in (no step more than 2.5× the one before). */
const DURATION_STEPS = [
  1, 2, 5, 10, 15, 30,
  MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
  DAY, 2 * DAY, 5 * DAY, 10 * DAY, 20 * DAY, 50 * DAY, 100 * DAY, 200 * DAY, 500 * DAY,
];

/**
 * For each round step, the spans of elapsed time it ticks at most `maxTicks` times: those under `spanUnder`. The page
 * zooms, so it gets this table and looks its step up as `niceDurationStep` does (the first row whose `spanUnder` is
 * above the span); a span past the previous row's has more than `maxTicks` / 2.5 steps, so at least 4 ticks.
 */
export function durationStepTable(maxTicks = MAX_TICKS): { step: number; spanUnder: number }[] {
  return DURATION_STEPS.map((step) => ({ step, spanUnder: step * maxTicks }));
}

/** The step, in seconds, of an elapsed-time axis spanning `spanSeconds` (its ends need not be round). */
export function niceDurationStep(spanSeconds: number, maxTicks = MAX_TICKS): number {
  const table = durationStepTable(maxTicks);
  return (table.find((row) => spanSeconds < row.spanUnder) ?? table[table.length - 1]).step;
}
