/** Resampling a series for `query --every`, one row (or one bucket) at a time. Pure. */

export type Aggregate = 'max' | 'avg' | 'last';

/** One row of a series: seconds since the session started, then one value per column. */
export interface TimedRow {
  seconds: number;
  values: number[];
}

/**
 * One row per `every` seconds (buckets aligned on the session start; empty buckets dropped), each column reduced
 * by `aggregate`; the row's time is the bucket's start. Takes `rows` in time order as they come: holds one bucket.
 * @example [...resample([{ seconds: 0, values: [1] }, { seconds: 1, values: [5] }, { seconds: 2, values: [2] }], 2, 'max')]
 *   // [{ seconds: 0, values: [5] }, { seconds: 2, values: [2] }]
 */
export function* resample(rows: Iterable<TimedRow>, every: number, aggregate: Aggregate): Generator<TimedRow> {
  let bucket = NaN;
  let reduced: number[] = [];
  let count = 0;
  const bucketRow = (): TimedRow => ({ seconds: bucket * every, values: reduced.map((v) => Math.round(aggregate === 'avg' ? v / count : v)) });
  for (const row of rows) {
    const rowBucket = Math.floor(row.seconds / every);
    if (rowBucket !== bucket) {
      if (count > 0) yield bucketRow();
      bucket = rowBucket;
      reduced = row.values.slice();
      count = 1;
      continue;
    }
    count++;
    row.values.forEach((v, i) => (reduced[i] = aggregate === 'max' ? Math.max(reduced[i], v) : aggregate === 'last' ? v : reduced[i] + v));
  }
  if (count > 0) yield bucketRow();
}
