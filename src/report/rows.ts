/** The rows of `query` and `export` as CSV or JSON, piece by piece: any number of rows in bounded memory. */
import type { TimedRow } from '../analysis/resample.js';
import { csvLine } from './csv.js';

const pad = (value: number, digits: number) => String(value).padStart(digits, '0');

/**
 * The ISO 8601 time (UTC) of a row, as `new Date(startedAtMs + seconds * 1000).toISOString()` writes it. Rows come
 * in time order, many to a minute: the text up to the minute is made once per minute, the seconds by hand (a Date
 * and its text per row were most of a long export's time).
 */
function isoTimes(startedAtMs: number): (seconds: number) => string {
  let minute = NaN;
  let upToMinute = '';
  return (seconds) => {
    const ms = Math.trunc(startedAtMs + seconds * 1000);
    const rowMinute = Math.floor(ms / 60_000);
    if (rowMinute !== minute) {
      minute = rowMinute;
      // "2026-12-02T04:00:00.000Z" without its "00.000Z".
      upToMinute = new Date(minute * 60_000).toISOString().slice(0, -7);
    }
    const inMinute = ms - minute * 60_000;
    return `${upToMinute}${pad(Math.floor(inMinute / 1000), 2)}.${pad(inMinute % 1000, 3)}Z`;
  };
}

/** CSV with a header row: the wall-clock time (ISO 8601, UTC), seconds since the start, then the named columns. */
export function* csvRows(names: readonly string[], rows: Iterable<TimedRow>, startedAtMs: number): Generator<string> {
  yield csvLine(['time', 'seconds', ...names]);
  const isoTime = isoTimes(startedAtMs);
  // A time and numbers: nothing a cell would quote or defuse (csvCell writes a number as String does, as join does).
  for (const row of rows) yield `${[isoTime(row.seconds), row.seconds, ...row.values].join(',')}\n`;
}

/** A JSON array of one object per row (`time`, `seconds`, then the named columns), piece by piece. */
export function* jsonRows(names: readonly string[], rows: Iterable<TimedRow>, startedAtMs: number): Generator<string> {
  const isoTime = isoTimes(startedAtMs);
  let separator = '[';
  for (const row of rows) {
    yield `${separator}${JSON.stringify({ time: isoTime(row.seconds), seconds: row.seconds, ...Object.fromEntries(names.map((n, i) => [n, row.values[i]])) })}`;
    separator = ',';
  }
  yield separator === '[' ? '[]\n' : ']\n';
}
