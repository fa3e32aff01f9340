/** Parsers for option values shared by the commands; each throws a one-line LeakwatchError (exit 2). */
import { Option } from 'commander';

import { LeakwatchError } from '../errors.js';
import { TOTAL_COLUMNS, type TotalColumn, parseDuration } from '../vocabulary.js';

/** `--sort committed`, `--sort total-ws`, `--sort totalWs`: any spelling of a column name. */
export function parseSortColumn(text: string): TotalColumn {
  const wanted = text.toLowerCase().replace(/[-_ ]/g, '');
  const column = TOTAL_COLUMNS.find((c) => c.toLowerCase() === wanted);
  if (!column) throw new LeakwatchError(`unknown --sort column '${text}' (one of: ${TOTAL_COLUMNS.join(', ')})`);
  return column;
}

/** A session id: a positive decimal integer. */
export function parseSessionId(text: string): number {
  if (!/^\d+$/.test(text)) throw new LeakwatchError(`session must be a session id (a positive integer), got '${text}'`);
  return Number(text);
}

/**
 * A point in a session: a duration after its start (`10m`, `2h`) or an ISO timestamp. Returns seconds since start.
 */
export function parseTimePoint(text: string, option: string, sessionStartMs: number): number {
  if (/^\d{4}-\d\d-\d\d/.test(text)) {
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) throw new LeakwatchError(`${option} needs a duration after the start (10m, 2h) or an ISO time, got '${text}'`);
    return (ms - sessionStartMs) / 1000;
  }
  return parseDuration(text, option) / 1000;
}

/** `heap,stack`: a comma-separated list of type keys (or sums, where allowed), each one of `allowed`. */
export function parseTypeList<T extends string>(text: string, allowed: readonly T[]): T[] {
  const types = text.split(',').map((t) => t.trim()).filter(Boolean);
  const unknown = types.find((t) => !(allowed as readonly string[]).includes(t));
  if (unknown !== undefined || types.length === 0) throw new LeakwatchError(`unknown type '${unknown ?? text}' (one of: ${allowed.join(', ')})`);
  return types as T[];
}

/** `--metric committed|ws`: what analysis judges. */
export const metricOption = () =>
  new Option('--metric <metric>', 'judge committed memory, or the working set (resident memory, RSS) of the ticks that read it').choices(['committed', 'ws']).default('committed');

/** A pid argument: a positive decimal integer, nothing else. */
export function parsePid(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 2 ** 22) {
    throw new LeakwatchError(`pid must be a positive integer, got '${text}'`);
  }
  return Number(text);
}
