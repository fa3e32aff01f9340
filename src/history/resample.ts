/** Cutting and resampling a session's series for `query` and `export`. Pure. */

export type Aggregate = 'max' | 'avg' | 'last';

export interface Table {
  /** Seconds since the session started. */
  t: number[];
  columns: Record<string, number[]>;
}

/** The rows with from ≤ t ≤ to. */
export function timeRange(table: Table, from: number, to: number): Table {
  const keep = table.t.flatMap((t, i) => (t >= from && t <= to ? [i] : []));
  return {
    t: keep.map((i) => table.t[i]),
    columns: Object.fromEntries(Object.entries(table.columns).map(([name, values]) => [name, keep.map((i) => values[i])])),
  };
}

/**
 * One row per `every` seconds (buckets aligned on the session start; empty buckets dropped), each column reduced
 * by `aggregate`; the row's time is the bucket's start.
 * @example resample({ t: [0, 1, 2, 3], columns: { a: [1, 5, 2, 2] } }, 2, 'max') // { t: [0, 2], columns: { a: [5, 2] } }
 */
export function resample(table: Table, every: number, aggregate: Aggregate): Table {
  const t: number[] = [];
  const columns: Record<string, number[]> = Object.fromEntries(Object.keys(table.columns).map((name) => [name, []]));
  let i = 0;
  while (i < table.t.length) {
    const bucket = Math.floor(table.t[i] / every);
    let j = i;
    while (j < table.t.length && Math.floor(table.t[j] / every) === bucket) j++;
    t.push(bucket * every);
    for (const [name, values] of Object.entries(table.columns)) {
      const slice = values.slice(i, j);
      const value = aggregate === 'max' ? slice.reduce((a, b) => Math.max(a, b)) : aggregate === 'last' ? slice[slice.length - 1] : slice.reduce((a, b) => a + b, 0) / slice.length;
      columns[name].push(Math.round(value));
    }
    i = j;
  }
  return { t, columns };
}

/** CSV with a header row; values are numbers, so no quoting is needed. */
export function toCsv(table: Table): string {
  const names = Object.keys(table.columns);
  const lines = [['seconds', ...names].join(',')];
  table.t.forEach((t, i) => lines.push([t, ...names.map((n) => table.columns[n][i])].join(',')));
  return `${lines.join('\n')}\n`;
}
