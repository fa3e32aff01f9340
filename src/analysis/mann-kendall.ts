/**
 * Mann–Kendall trend test: S = Σ_{i<j} sign(y_j − y_i), whose variance under "no trend" is known (with a correction
 * for ties, which memory series have plenty of). The variance can be inflated by a factor for autocorrelated
 * samples (effective sample size), so a smooth but trendless series is not mistaken for a trend.
 */
import { normalCdf } from './stats.js';

/** Var(S) under the null hypothesis, corrected for tied values. */
export function mannKendallVariance(y: readonly number[]): number {
  const n = y.length;
  const ties = new Map<number, number>();
  for (const v of y) ties.set(v, (ties.get(v) ?? 0) + 1);
  let tieTerm = 0;
  for (const t of ties.values()) if (t > 1) tieTerm += t * (t - 1) * (2 * t + 5);
  return (n * (n - 1) * (2 * n + 5) - tieTerm) / 18;
}

export interface MannKendall {
  s: number;
  z: number;
  /** One-sided p-value for an increasing trend. */
  pIncreasing: number;
}

/**
 * @param varianceFactor ≥ 1: n / n_effective for autocorrelated samples.
 * @example mannKendall([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).pIncreasing < 0.001 // true
 */
export function mannKendall(y: readonly number[], varianceFactor = 1): MannKendall {
  const n = y.length;
  let s = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) s += Math.sign(y[j] - y[i]);
  const variance = mannKendallVariance(y) * varianceFactor;
  const z = variance <= 0 ? 0 : s > 0 ? (s - 1) / Math.sqrt(variance) : s < 0 ? (s + 1) / Math.sqrt(variance) : 0;
  return { s, z, pIncreasing: 1 - normalCdf(z) };
}

/**
 * n / n_effective for an AR(1)-like series with lag-1 autocorrelation r: (1 + r) / (1 − r), at least 1. Capped at
 * MAX_FACTOR: residuals of steady but stepwise growth (brk, thread stacks) are correlated by their structure, not
 * by noise, and an unbounded factor would hide the clearest leaks.
 */
export function autocorrelationFactor(r1: number): number {
  if (!(r1 > 0)) return 1;
  return Math.min((1 + r1) / (1 - r1), MAX_FACTOR);
}

const MAX_FACTOR = 10;
