/**
 * Largest-Triangle-Three-Buckets downsampling (Steinarsson 2013): keeps the points that shape a line chart (peaks
 * and troughs survive) while cutting a 43,200-point series to a few thousand for the browser. Display only: the
 * statistics always use every sample. O(n).
 * @example lttb([0, 1, 2, 3], [0, 5, 0, 0], 3) // keeps the first, the peak at x=1, and the last point
 */
export function lttb(x: ArrayLike<number>, y: ArrayLike<number>, threshold: number): { x: number[]; y: number[] } {
  const n = x.length;
  if (threshold >= n || threshold < 3) return { x: Array.from(x), y: Array.from(y) };
  const outX = [x[0]];
  const outY = [y[0]];
  const every = (n - 2) / (threshold - 2);
  let a = 0;
  for (let i = 0; i < threshold - 2; i++) {
    // The average of the next bucket is the third corner of the triangle.
    const nextStart = Math.floor((i + 1) * every) + 1;
    const nextEnd = Math.min(Math.floor((i + 2) * every) + 1, n);
    let avgX = 0;
    let avgY = 0;
    for (let j = nextStart; j < nextEnd; j++) {
      avgX += x[j];
      avgY += y[j];
    }
    const count = Math.max(1, nextEnd - nextStart);
    avgX /= count;
    avgY /= count;
    const start = Math.floor(i * every) + 1;
    const end = Math.floor((i + 1) * every) + 1;
    let best = start;
    let bestArea = -1;
    for (let j = start; j < end; j++) {
      const area = Math.abs((x[a] - avgX) * (y[j] - y[a]) - (x[a] - x[j]) * (avgY - y[a]));
      if (area > bestArea) {
        bestArea = area;
        best = j;
      }
    }
    outX.push(x[best]);
    outY.push(y[best]);
    a = best;
  }
  outX.push(x[n - 1]);
  outY.push(y[n - 1]);
  return { x: outX, y: outY };
}
