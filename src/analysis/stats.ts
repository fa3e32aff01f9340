/** Small statistics used by the trend analysis. Pure functions over plain arrays. */

/** Median of a non-empty array (does not modify it). O(n log n). */
export function median(values: ArrayLike<number>): number {
  if (values.length === 0) throw new Error('median of an empty array');
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Standard normal cumulative distribution Φ(z), by the Abramowitz–Stegun 7.1.26 approximation of erf
 * (absolute error < 1.5e-7, enough for p-values).
 */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** z for two-sided 95% and 99% intervals. */
export const Z95 = 1.959964;
export const Z99 = 2.575829;

/**
 * Lag-1 autocorrelation of a series (after removing its mean). 0 for fewer than 3 values or no variance.
 * @example lag1Autocorrelation([1, -1, 1, -1]) // -0.75
 */
export function lag1Autocorrelation(values: readonly number[]): number {
  const n = values.length;
  if (n < 3) return 0;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  let numerator = 0;
  let denominator = 0;
  for (let i = 0; i < n; i++) {
    const d = values[i] - mean;
    denominator += d * d;
    if (i > 0) numerator += d * (values[i - 1] - mean);
  }
  return denominator === 0 ? 0 : numerator / denominator;
}

/** Ordinary least squares y = a + b·x; returns the residual sum of squares too. */
export function leastSquares(x: readonly number[], y: readonly number[]): { intercept: number; slope: number; sse: number } {
  const n = x.length;
  let sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (let i = 0; i < n; i++) {
    sx += x[i];
    sy += y[i];
    sxx += x[i] * x[i];
    sxy += x[i] * y[i];
  }
  const denominator = n * sxx - sx * sx;
  const slope = denominator === 0 ? 0 : (n * sxy - sx * sy) / denominator;
  const intercept = (sy - slope * sx) / n;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (y[i] - intercept - slope * x[i]) ** 2;
  return { intercept, slope, sse };
}
