/** The rows of `query` and `export` as CSV or JSON, piece by piece: any number of rows in bounded memory. */
import type { TimedRow } from '../analysis/resample.js';
import { csvLine } from './csv.js';

const isoTime = (startedAtMs: number, seconds: number) => new Date(startedAtMs + seconds * 1000).toISOString();

/** CSV with a header row: the wall-clock time (ISO 8601, UTC), seconds since the start, then the named columns. */
export function* csvRows(names: readonly string[], rows: Iterable<TimedRow>, startedAtMs: number): Generator<string> {
  yield csvLine(['time', 'seconds', ...names]);
  for (const row of rows) yield csvLine([isoTime(startedAtMs, row.seconds), row.seconds, ...row.values]);
}

/** A JSON array of one object per row (`time`, `seconds`, then the named columns), piece by piece. */
export function* jsonRows(names: readonly string[], rows: Iterable<TimedRow>, startedAtMs: number): Generator<string> {
  let separator = '[';
  for (const row of rows) {
    yield `${separator}${JSON.stringify({ time: isoTime(startedAtMs, row.seconds), seconds: row.seconds, ...Object.fromEntries(names.map((n, i) => [n, row.values[i]])) })}`;
    separator = ',';
  }
  yield separator === '[' ? '[]\n' : ']\n';
}
