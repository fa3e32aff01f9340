/**
 * The one vocabulary of leakwatch: the stable keys that machine output (JSON, CSV, the database) uses, the words
 * people read for them, the exit codes, and how bytes and durations are written. Every layer may import it; it
 * imports nothing of ours but the error type. Machine output always uses the keys; human output always the labels.
 */
import type { Stats } from 'node:fs';
import { LeakwatchError } from './errors.js';

/** The memory types of VMMap, in its display order. Keys are stable: every command and the database use them. */
export const MEMORY_TYPES = ['image', 'private', 'shareable', 'mappedFile', 'heap', 'managedHeap', 'stack', 'pageTable', 'free'] as const;
export type MemoryType = (typeof MEMORY_TYPES)[number];

/** VMMap's names for the types, for people. */
export const TYPE_LABELS: Record<MemoryType, string> = {
  image: 'Image',
  private: 'Private',
  shareable: 'Shareable',
  mappedFile: 'Mapped File',
  heap: 'Heap',
  managedHeap: 'Managed Heap',
  stack: 'Stack',
  pageTable: 'Page Table',
  free: 'Free',
};

/** The types that are mapped memory (all but Page Table and Free): what the kernel's own totals of mappings add up. */
export const MAPPED_TYPES = MEMORY_TYPES.filter((t): t is Exclude<MemoryType, 'pageTable' | 'free'> => t !== 'pageTable' && t !== 'free');

/** VMMap's column set, all in bytes but Blocks (a count). */
export const TOTAL_COLUMNS = ['size', 'committed', 'private', 'totalWs', 'privateWs', 'shareableWs', 'sharedWs', 'lockedWs', 'blocks', 'largest'] as const;
export type TotalColumn = (typeof TOTAL_COLUMNS)[number];

export const COLUMN_LABELS: Record<TotalColumn, string> = {
  size: 'Size',
  committed: 'Committed',
  private: 'Private',
  totalWs: 'Total WS',
  privateWs: 'Private WS',
  shareableWs: 'Shareable WS',
  sharedWs: 'Shared WS',
  lockedWs: 'Locked WS',
  blocks: 'Blocks',
  largest: 'Largest',
};

/**
 * What analysis judges: one memory type, or a sum of them. `native` is Private + Heap (a native leak wherever the
 * allocator put it: glibc serves big blocks with mmap, other allocators keep all their memory in anonymous
 * mappings); `total` is every mapped type (all analysed types but Page Table).
 */
export type Row = MemoryType | 'native' | 'total';

/**
 * The types whose leaks fail a build by default: what a program allocates (Private, Heap, Managed Heap, Stack).
 * Image, Mapped File and Shareable follow what it loads and maps (files, shared memory), Page Table follows the rest.
 */
export const GATED_TYPES = ['private', 'heap', 'managedHeap', 'stack'] as const satisfies readonly MemoryType[];
/** Every type analysis looks at (Free is address space, not memory). */
export const ANALYZED_TYPES = [...GATED_TYPES, 'image', 'shareable', 'mappedFile', 'pageTable'] as const satisfies readonly MemoryType[];
/** The sums judged besides the types, and what each adds up. */
export const SUMS = {
  native: ['private', 'heap'],
  total: ANALYZED_TYPES.filter((t) => t !== 'pageTable'),
} as const satisfies Record<Exclude<Row, MemoryType>, readonly MemoryType[]>;
/** Gated by default: the allocating types, and Native (a leak that moves between Private and Heap as blocks grow). */
export const GATED_ROWS = [...GATED_TYPES, 'native'] as const satisfies readonly Row[];
/** Every row analysis judges by default. */
export const ANALYZED_ROWS = [...GATED_TYPES, 'native', 'total', 'image', 'shareable', 'mappedFile', 'pageTable'] as const satisfies readonly Row[];

export const ROW_LABELS: Record<Row, string> = { ...TYPE_LABELS, native: 'Native', total: 'Total' };
/** What each sum adds up, in words. */
export const SUM_NAMES: Partial<Record<Row, string>> = { native: 'Private + Heap', total: 'every mapped type' };

export const isGated = (row: Row) => (GATED_ROWS as readonly Row[]).includes(row);

/** The memory types a row adds up (a type: itself). */
export const typesOf = (row: Row): readonly MemoryType[] => (row === 'native' || row === 'total' ? SUMS[row] : [row]);

/** Which numbers are judged: committed memory (what counts against the commit limit) or the working set (RSS). */
export const METRICS = ['committed', 'ws'] as const;
export type Metric = (typeof METRICS)[number];
export const METRIC_LABELS: Record<Metric, string> = { committed: 'committed memory', ws: 'working set (resident memory)' };

export const VERDICTS = ['leak', 'suspected', 'no-leak', 'insufficient-data'] as const;
export type Verdict = (typeof VERDICTS)[number];
export const VERDICT_LABELS: Record<Verdict, string> = {
  leak: 'LEAK',
  suspected: 'suspected',
  'no-leak': 'no leak',
  'insufficient-data': 'too little data',
};

/**
 * Exit codes, the same for every command. 1 is kept for "the gate failed" (a leak, a regression), so a CI job can
 * tell it from a broken invocation.
 */
export const EXIT = {
  ok: 0,
  /** --fail-on-leak / --fail-on-regression found what it gates on. */
  gateFailed: 1,
  /** A usage or input error: bad option, unknown session, unreadable file, no such process. */
  usage: 2,
  /** A watch stopped early on an error (lost access, database failure); what was sampled until then is stored. */
  watchFailed: 3,
  /** A failure nobody expected (a bug): the one line says so. */
  internal: 70,
} as const;

/** Binary units, for people: every output writes bytes in these. */
export const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/**
 * Bytes in binary units with three significant digits (whole bytes below 1 KiB). The one rounding rule for bytes in
 * tables, sentences, charts and reports.
 * @example formatBytes(1536) // '1.50 KiB'; formatBytes(0) // '0 B'; formatBytes(-20_000_000) // '-19.1 MiB'
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  const sign = bytes < 0 ? '-' : '';
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${sign}${Math.round(value)} B`;
  const digits = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${sign}${value.toFixed(digits)} ${BYTE_UNITS[unit]}`;
}

/** A growth rate: `1.50 MiB/h`. */
export const formatRate = (bytesPerHour: number) => `${formatBytes(bytesPerHour)}/h`;
/** A rate's 95% confidence interval: `1.20 MiB – 1.80 MiB/h`. */
export const formatRateInterval = ([low, high]: readonly [number, number]) => `${formatBytes(low)} – ${formatRate(high)}`;

/**
 * A length of time or a point on a session's timeline, for people: `h:mm:ss`, with days from 24 h (`3d 7:14:13`),
 * and milliseconds when asked (`0:00:09.250`, for sub-second sampling). The one rounding rule: to the nearest
 * second (or millisecond), once, here; callers pass unrounded values.
 */
export function formatElapsed(ms: number, precision: 's' | 'ms' = 's'): string {
  if (!Number.isFinite(ms)) return String(ms);
  const sign = ms < 0 ? '-' : '';
  const total = Math.round(Math.abs(ms) / (precision === 'ms' ? 1 : 1000));
  const seconds = precision === 'ms' ? Math.floor(total / 1000) : total;
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const days = Math.floor(seconds / 86_400);
  const clock = `${Math.floor(seconds / 3600) % 24}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`;
  const fraction = precision === 'ms' ? `.${pad(total % 1000, 3)}` : '';
  return `${sign}${days > 0 ? `${days}d ` : ''}${clock}${fraction}`;
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration as options take it: one or more `<number><unit>` parts, units ms, s, m, h, d (`500ms`, `1s`,
 * `1h30m`, `1.5h`). `0` parts are allowed where `allowZero` (a point in a session such as `0s`), never a negative.
 * @throws LeakwatchError naming the option on anything else.
 */
export function parseDuration(text: string, option: string, { allowZero = false } = {}): number {
  const parts = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/.test(text) ? text.match(/\d+(?:\.\d+)?(?:ms|s|m|h|d)/g)! : undefined;
  const ms = parts?.reduce((sum, part) => {
    const [, amount, unit] = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(part)!;
    return sum + Number(amount) * DURATION_UNITS_MS[unit];
  }, 0);
  if (ms === undefined || !Number.isFinite(ms) || (allowZero ? ms < 0 : !(ms >= 1))) {
    throw new LeakwatchError(`${option} needs a duration like ${allowZero ? '0s, ' : ''}500ms, 1s, 5m, 12h or 1h30m, got '${text}'`);
  }
  return Math.round(ms);
}

/** A duration as an option would say it, the inverse of parseDuration: `250ms`, `2.5s`, `5m`, `12h`, `1h30m`, `7d`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms % 1000 !== 0) return ms < 60_000 ? `${ms / 1000}s` : `${ms}ms`;
  const parts: string[] = [];
  let rest = ms / 1000;
  for (const [unit, seconds] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    if (rest >= seconds) {
      parts.push(`${Math.floor(rest / seconds)}${unit}`);
      rest %= seconds;
    }
  }
  return parts.join('');
}

/** What a path is when it is not a regular file, for the one line that refuses it (a database, an import). */
export function fileKind(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** `1 sample`, `2 samples`, `3 processes`. */
export const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : /s$/.test(noun) ? 'es' : 's'}`;
