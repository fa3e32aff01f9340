/**
 * Theil–Sen slope: the median of the slopes between all pairs of points, with Sen's (1968) distribution-free
 * confidence interval from the Mann–Kendall variance. Robust to outliers (breakdown point 29%).
 * O(n² log n): callers bucket long series first (n ≤ a few hundred).
 */
import { Z95 } from './stats.js';
import { mannKendallVariance } from './mann-kendall.js';

export interface SlopeEstimate {
  slope: number;
  intercept: number;
  lo: number;
  hi: number;
}

/**
 * @param varianceFactor inflates the Mann–Kendall variance for autocorrelated data (1 = independent samples).
 * @throws when fewer than 2 points.
 * @example theilSen([0, 1, 2, 3], [0, 2, 4, 6]).slope // 2
 */
export function theilSen(x: readonly number[], y: readonly number[], z = Z95, varianceFactor = 1): SlopeEstimate {
  const n = x.length;
  if (n < 2) throw new Error('theilSen needs at least 2 points');
  const slopes: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) if (x[j] !== x[i]) slopes.push((y[j] - y[i]) / (x[j] - x[i]));
  }
  const sorted = Float64Array.from(slopes).sort();
  const count = sorted.length;
  const at = (k: number) => sorted[Math.min(count - 1, Math.max(0, k))];
  const slope = count % 2 === 1 ? sorted[count >> 1] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2;
  const c = z * Math.sqrt(mannKendallVariance(y) * varianceFactor);
  const lo = at(Math.floor((count - c) / 2));
  const hi = at(Math.ceil((count + c) / 2));
  const residuals = y.map((v, i) => v - slope * x[i]);
  const intercept = Float64Array.from(residuals).sort()[residuals.length >> 1];
  return { slope, intercept, lo, hi };
}
