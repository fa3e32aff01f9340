/** Resampling and printing the rows of `query` and `export`, one row (or one bucket) at a time. Pure. */

export type Aggregate = 'max' | 'avg' | 'last';

/** One row of a series: seconds since the session started, then one value per column. */
export interface Row {
  seconds: number;
  values: number[];
}

/**
 * One row per `every` seconds (buckets aligned on the session start; empty buckets dropped), each column reduced
 * by `aggregate`; the row's time is the bucket's start. Takes `rows` in time order as they come: holds one bucket.
 * @example [...resample([{ seconds: 0, values: [1] }, { seconds: 1, values: [5] }, { seconds: 2, values: [2] }], 2, 'max')]
 *   // [{ seconds: 0, values: [5] }, { seconds: 2, values: [2] }]
 */
export function* resample(rows: Iterable<Row>, every: number, aggregate: Aggregate): Generator<Row> {
  let bucket = NaN;
  let reduced: number[] = [];
  let count = 0;
  const bucketRow = (): Row => ({ seconds: bucket * every, values: reduced.map((v) => Math.round(aggregate === 'avg' ? v / count : v)) });
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

/** CSV with a header row, line by line; values are numbers, so no quoting is needed. */
export function* csvLines(names: readonly string[], rows: Iterable<Row>): Generator<string> {
  yield `${['seconds', ...names].join(',')}\n`;
  for (const row of rows) yield `${[row.seconds, ...row.values].join(',')}\n`;
}

/** A JSON array of one object per row, `seconds` then the named columns, piece by piece. */
export function* jsonLines(names: readonly string[], rows: Iterable<Row>): Generator<string> {
  let separator = '[';
  for (const row of rows) {
    yield `${separator}${JSON.stringify({ seconds: row.seconds, ...Object.fromEntries(names.map((n, i) => [n, row.values[i]])) })}`;
    separator = ',';
  }
  yield separator === '[' ? '[]\n' : ']\n';
}
