/** Plain-text, VMMap-style tables for the terminal. */
import type { Region, Snapshot, TypeTotals } from '../collector/types.js';
import type { Finding } from '../analysis/types.js';
import { COLUMN_LABELS, formatBytes, formatElapsed, formatRate, formatRateInterval, MEMORY_TYPES, type Metric, METRIC_LABELS, plural, ROW_LABELS, TOTAL_COLUMNS, type TotalColumn, TYPE_LABELS, VERDICT_LABELS } from '../vocabulary.js';

/**
 * Target-controlled strings (command lines, file names) may hold control characters; escaping them keeps a
 * hostile name from moving the cursor or rewriting the terminal.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Text of several lines made printable: every control character but the line break is made visible. */
export const printableLines = (text: string) => text.split('\n').map(printable).join('\n');

/**
 * A table line by line (each ending in a newline), padded to a common width per column, right-aligned unless listed
 * in `leftAligned` ('all': every column); the first row is the header. `rows` is asked twice, for the widths and
 * for the lines, so a long table can be printed from rows produced on demand without holding them.
 */
export function* tableLines(rows: () => Iterable<string[]>, leftAligned: Set<number> | 'all'): Generator<string> {
  const widths: number[] = [];
  for (const row of rows()) row.forEach((cell, c) => (widths[c] = Math.max(widths[c] ?? 0, cell.length)));
  const left = (c: number) => leftAligned === 'all' || leftAligned.has(c);
  for (const row of rows()) yield `${row.map((cell, c) => (left(c) ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd()}\n`;
}

/** The table as one string, without the last line's newline; `rows[0]` is the header (see tableLines). */
export function renderTable(rows: string[][], leftAligned: Set<number> | 'all'): string {
  return Array.from(tableLines(() => rows, leftAligned)).join('').slice(0, -1);
}

function cellOf(totals: TypeTotals, column: TotalColumn): string {
  const value = totals[column];
  if (value === undefined) return '';
  return column === 'blocks' ? String(value) : formatBytes(value);
}

/** Sort key for `--sort`: a column name (descending) or undefined for VMMap's own order. */
export type SortColumn = TotalColumn | undefined;

export function typeTable(snapshot: Snapshot, sort: SortColumn): string {
  const types = [...MEMORY_TYPES];
  if (sort) types.sort((a, b) => (snapshot.types[b][sort] ?? -1) - (snapshot.types[a][sort] ?? -1));
  const header = ['Type', ...TOTAL_COLUMNS.map((c) => COLUMN_LABELS[c])];
  const rows = types.map((t) => [TYPE_LABELS[t], ...TOTAL_COLUMNS.map((c) => cellOf(snapshot.types[t], c))]);
  const total = ['Total', ...TOTAL_COLUMNS.map((c) => cellOf(snapshot.total, c))];
  return renderTable([header, ...rows, total], new Set([0]));
}

const REGION_COLUMNS = ['size', 'committed', 'private', 'totalWs', 'privateWs', 'shareableWs', 'sharedWs', 'lockedWs'] as const;

export function sortRegions(regions: Region[], sort: SortColumn): Region[] {
  if (!sort || sort === 'blocks' || sort === 'largest') return regions;
  return [...regions].sort((a, b) => (b[sort] ?? -1) - (a[sort] ?? -1));
}

export function regionTable(regions: Region[]): string {
  const header = ['Address', 'Type', 'Prot', ...REGION_COLUMNS.map((c) => COLUMN_LABELS[c]), 'Details'];
  const rows = regions.map((r) => [
    `${r.start}-${r.end}`,
    TYPE_LABELS[r.type] + (r.method === 'heuristic' ? '*' : ''),
    r.protection,
    ...REGION_COLUMNS.map((c) => (r[c] === undefined ? '' : formatBytes(r[c]!))),
    printable(r.details),
  ]);
  return renderTable([header, ...rows], new Set([0, 1, 2, header.length - 1]));
}

/** Header lines above the table: who, when, how the managed heap was found, and what could not be read. */
export function snapshotHeading(snapshot: Snapshot): string {
  const managed = snapshot.managedHeaps.map((m) => `${m.runtime === 'v8' ? 'V8' : 'JVM'} (${m.method})`).join(', ');
  const refused = snapshot.heapChunks === 'refused' ? `; large mallocs are in Private: reading /proc/${snapshot.pid}/mem was refused` : '';
  const unusable = snapshot.unusable && snapshot.unusable.size > 0
    ? [`Free includes ${formatBytes(snapshot.unusable.size)} Unusable (${plural(snapshot.unusable.blocks, 'block')} after allocations, up to the 64 KiB allocation granularity)`]
    : [];
  // Windows: what could not be seen, one line each, so a 0 or a missing column is not read as a measurement.
  const unseen = Object.values(snapshot.unseen ?? {}).map((why) => `not seen: ${printable(why)}`);
  return [
    `pid ${snapshot.pid}  ${printable(snapshot.command)}`,
    `started ${snapshot.startTime}, snapshot at ${snapshot.takenAt}${managed ? `; managed heap: ${managed}` : ''}${refused}`,
    ...unusable,
    ...unseen,
  ].join('\n');
}

/** The findings as a table plus one explanation per type. */
/** @param name what each finding is of: its type's name, or (for series of another source) the series'. */
export function findingsTable(findings: Finding[], isGated: (f: Finding) => boolean, name = (f: Finding) => ROW_LABELS[f.type], nameHeader = 'Type'): string {
  const header = [nameHeader, 'Verdict', 'Rate', '95% CI', 'Onset', 'Growth', 'To limit'];
  const rows = findings.map((f) => [
    printable(name(f)) + (isGated(f) ? '' : ' (not gated)'),
    VERDICT_LABELS[f.verdict],
    f.verdict === 'insufficient-data' ? '' : formatRate(f.slopeBytesPerHour),
    f.verdict === 'insufficient-data' ? '' : formatRateInterval(f.ci),
    f.onsetSeconds === null ? '' : formatElapsed(f.onsetSeconds * 1000),
    f.growthBytes > 0 ? formatBytes(f.growthBytes) : '',
    f.timeToLimitSeconds === null ? '' : formatElapsed(f.timeToLimitSeconds * 1000),
  ]);
  const explanations = findings.map((f) => `- ${printable(f.explanation)}`);
  return `${renderTable([header, ...rows], new Set([0, 1]))}\n\n${explanations.join('\n')}`;
}

/** How a session ended, in words: `ended by duration`, `imported`, `still being recorded`. */
export const endedText = (session: { endReason: string | null }) =>
  session.endReason === null ? 'still being recorded' : session.endReason === 'imported' ? 'imported' : `ended by ${session.endReason}`;

/** How often a count happened, in words: `once`, `twice`, `3 times`. */
const times = (n: number) => (n === 1 ? 'once' : n === 2 ? 'twice' : `${n} times`);

/**
 * The new lives of a session in words, or '' when it had one: `the program restarted once (at 0:01:00) and exec'd
 * another program twice (at 0:02:00, 0:03:00)`.
 */
export function livesText(lives: { restarts: readonly number[]; execs: readonly number[] }): string {
  const at = (seconds: readonly number[]) => `(at ${seconds.map((s) => formatElapsed(s * 1000)).join(', ')})`;
  const parts = [
    ...(lives.restarts.length > 0 ? [`restarted ${times(lives.restarts.length)} ${at(lives.restarts)}`] : []),
    ...(lives.execs.length > 0 ? [`exec'd another program ${times(lives.execs.length)} ${at(lives.execs)}`] : []),
  ];
  return parts.length === 0 ? '' : `the program ${parts.join(' and ')}`;
}

/** The facts above a session's findings: which session, what it ran, how long, what was judged. */
export function sessionHeading(analysed: { session: { id: number; label: string | null; command: string; endReason: string | null }; samples: number; durationSeconds: number; metric: Metric; restarts: number[]; execs: number[] }): string {
  const { session } = analysed;
  const lives = livesText(analysed);
  const lines = [
    `session ${session.id}${session.label ? ` (${printable(session.label)})` : ''}: ${printable(session.command)}`,
    `${plural(analysed.samples, 'sample')} over ${formatElapsed(analysed.durationSeconds * 1000)}, ${endedText(session)}; judging ${METRIC_LABELS[analysed.metric]}` +
      (lives ? `; ${lives}, each life judged on its own` : ''),
  ];
  return lines.join('\n');
}
