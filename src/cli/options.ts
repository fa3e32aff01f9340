/**
 * The options the commands share, declared once, and the parsers of option values; each parser throws a one-line
 * LeakwatchError (exit 2).
 */
import { Command, Option } from 'commander';
import { LeakwatchError } from '../errors.js';
import { METRICS, parseDuration, TOTAL_COLUMNS, type TotalColumn } from '../vocabulary.js';

/** Where every command keeps its sessions unless told otherwise. */
export const DEFAULT_DB = 'leakwatch.db';

export const dbOption = (access: 'read' | 'write') =>
  new Option('--db <file>', access === 'read' ? 'SQLite database to read (opened read-only)' : 'SQLite database to write (created on first use)').default(DEFAULT_DB);

/** The output formats of a command: `table` (people) first, then machine formats; `--json` is `--format json`. */
export type OutputFormat = 'table' | 'csv' | 'json';

/** Adds `--json`, and `--format` where a command has more than one machine format. */
export function addOutputOptions(command: Command, formats: readonly OutputFormat[]): Command {
  command.option('--json', 'print JSON (stable keys, bytes and seconds)');
  if (formats.length > 2) command.addOption(new Option('--format <format>', 'output format (--json is --format json)').choices(formats).default(formats[0]));
  return command;
}

/** The format asked for: --json wins, then --format, then the command's first. */
export function outputFormat(options: { json?: boolean; format?: string }, formats: readonly OutputFormat[]): OutputFormat {
  if (options.json) return 'json';
  return (options.format as OutputFormat | undefined) ?? formats[0];
}

/** Examples at the end of a command's --help: what people copy first. (commander ends the added text with a line end.) */
export function addExamples(command: Command, examples: string[]): Command {
  return command.addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}`);
}

/** `--metric committed|ws`: what analysis judges. */
export const metricOption = () =>
  new Option('--metric <metric>', 'judge committed memory, or the working set (resident memory, RSS) of the ticks that read it').choices(METRICS).default('committed');

/** `--sort committed`, `--sort total-ws`, `--sort totalWs`: any spelling of a column name. */
export function parseSortColumn(text: string): TotalColumn {
  const wanted = text.toLowerCase().replace(/[-_ ]/g, '');
  const column = TOTAL_COLUMNS.find((c) => c.toLowerCase() === wanted);
  if (!column) throw new LeakwatchError(`unknown --sort column '${text}' (one of: ${TOTAL_COLUMNS.join(', ')})`);
  return column;
}

/** A session id: a positive decimal integer. */
export function parseSessionId(text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new LeakwatchError(`session must be a session id (a positive integer), got '${text}'`);
  return Number(text);
}

/** A count such as --top or --keep: a non-negative decimal integer. */
export const parseCount = (option: string) => (text: string): number => {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new LeakwatchError(`${option} needs a whole number, got '${text}'`);
  return Number(text);
};

/** A pid argument: a positive decimal integer, nothing else. */
export function parsePid(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 2 ** 22) {
    throw new LeakwatchError(`pid must be a positive integer, got '${text}'`);
  }
  return Number(text);
}

/**
 * A point in a session: a duration after its start (`0s`, `10m`, `2h`) or an ISO timestamp. Returns seconds since
 * the start.
 */
export function parseTimePoint(text: string, option: string, sessionStartMs: number): number {
  if (/^\d{4}-\d\d-\d\d/.test(text)) {
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) throw new LeakwatchError(`${option} needs a duration after the start (0s, 10m, 2h) or an ISO time, got '${text}'`);
    return (ms - sessionStartMs) / 1000;
  }
  return parseDuration(text, option, { allowZero: true }) / 1000;
}

/** `heap,stack`: a comma-separated list of type keys (or sums, where allowed), each one of `allowed`. */
export function parseTypeList<T extends string>(text: string, allowed: readonly T[]): T[] {
  const types = text.split(',').map((t) => t.trim()).filter(Boolean);
  const unknown = types.find((t) => !(allowed as readonly string[]).includes(t));
  if (unknown !== undefined || types.length === 0) throw new LeakwatchError(`unknown type '${unknown ?? text}' (one of: ${allowed.join(', ')})`);
  return types as T[];
}

/** `--wine` of snapshot and watch. */
export const WINE_HELP = 'the process is a Windows program under Wine, by its Windows pid: sampled by the Windows collector in Windows Node under Wine, in $WINEPREFIX (set up on first use)';

/** The exporter's default address: loopback only; anything else is the user's explicit choice. */
export const DEFAULT_LISTEN = '127.0.0.1:9464';

/**
 * `9464`, `127.0.0.1:9464`, `0.0.0.0:9464`, `[::1]:9464`: where the exporter listens. A port alone is on loopback;
 * port 0 takes any free one (the address is printed).
 */
export function parseListen(text: string): { host: string; port: number } {
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) throw new LeakwatchError(`--serve/--listen needs [host:]port (e.g. 9464, 127.0.0.1:9464, [::1]:9464), got '${text}'`);
  return { host: (match[1] ?? '127.0.0.1').replace(/^\[|\]$/g, ''), port };
}
