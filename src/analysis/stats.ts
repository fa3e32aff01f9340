/** Small statistics used by the trend analysis. Pure functions over plain arrays. */

/**
 * Median of a non-empty array (does not modify it): the middle value, or the mean of the two middle values. O(n)
 * expected (quickselect on a copy); with a NaN among the values, as a sorted copy orders them (NaN last).
 */
export function median(values: ArrayLike<number>): number {
  if (values.length === 0) throw new Error('median of an empty array');
  const copy = Float64Array.from(values);
  const mid = copy.length >> 1;
  if (copy.some(Number.isNaN)) {
    copy.sort();
    return copy.length % 2 === 1 ? copy[mid] : (copy[mid - 1] + copy[mid]) / 2;
  }
  const upper = select(copy, mid);
  if (copy.length % 2 === 1) return upper;
  // After the selection everything left of mid is ≤ copy[mid]: the lower middle value is their largest.
  let lower = -Infinity;
  for (let i = 0; i < mid; i++) if (copy[i] > lower) lower = copy[i];
  return (lower + upper) / 2;
}

/**
 * The k-th smallest value (0-based), as a sorted copy has it at index k (does not modify `values`). O(n) expected
 * (quickselect on a copy); with a NaN among the values, from the sorted copy (NaN last).
 */
export function kthSmallest(values: ArrayLike<number>, k: number): number {
  const copy = Float64Array.from(values);
  return copy.some(Number.isNaN) ? copy.sort()[k] : select(copy, k);
}

/** Puts the k-th smallest value (0-based) at index k, smaller or equal ones before it, and returns it (Hoare's quickselect). */
function select(a: Float64Array, k: number): number {
  let left = 0;
  let right = a.length - 1;
  while (left < right) {
    const pivot = a[(left + right) >> 1];
    let i = left;
    let j = right;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const swap = a[i];
        a[i] = a[j];
        a[j] = swap;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else break;
  }
  return a[k];
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
