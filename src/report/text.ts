/** Plain-text, VMMap-style tables for the terminal. */
import { MEMORY_TYPES, TOTAL_COLUMNS, type MemoryType, type Region, type Snapshot, type TotalColumn, type TypeTotals } from '../collector/types.js';
import { formatBytes, formatElapsed } from '../units.js';

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

const COLUMN_LABELS: Record<TotalColumn, string> = {
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
 * Target-controlled strings (command lines, file names) may hold control characters; escaping them keeps a
 * hostile name from moving the cursor or rewriting the terminal.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Right-aligns every column but the first and last-if-text; `rows[0]` is the header. */
function renderTable(rows: string[][], leftAligned: Set<number>): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows
    .map((row) =>
      row
        .map((cell, c) => (leftAligned.has(c) ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
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

/** Header lines above the table: who, when, and how the managed heap was found. */
export function snapshotHeading(snapshot: Snapshot): string {
  const managed = snapshot.managedHeaps.map((m) => `${m.runtime === 'v8' ? 'V8' : 'JVM'} (${m.method})`).join(', ');
  return [
    `pid ${snapshot.pid}  ${printable(snapshot.command)}`,
    `started ${snapshot.startTime}, snapshot at ${snapshot.takenAt}${managed ? `; managed heap: ${managed}` : ''}`,
  ].join('\n');
}

const STATUS_TYPES = ['private', 'heap', 'managedHeap', 'stack'] as const;

/** The live line of `watch` / `run` on a terminal: committed memory of the leak-prone types and change since start. */
export function statusLine(status: { elapsedMs: number; ticks: number; processes: number; latest: Snapshot['types']; first: Snapshot['types'] }): string {
  const types = STATUS_TYPES.map((t) => {
    const now = status.latest[t].committed;
    const change = now - status.first[t].committed;
    return `${TYPE_LABELS[t]} ${formatBytes(now)} (${change >= 0 ? '+' : ''}${formatBytes(change)})`;
  });
  const processes = status.processes > 1 ? `  ${status.processes} processes` : '';
  return `${formatElapsed(status.elapsedMs)}  ${status.ticks} samples${processes}  ${types.join('  ')}`;
}

/** Committed memory per type at the first and last tick of a session, and the change per minute. */
export function changeTable(change: { ticks: number; elapsedMs: number; changes: { type: MemoryType; first: number; last: number }[] }): string {
  const minutes = change.elapsedMs / 60_000;
  const rows = change.changes
    .filter((c) => c.type !== 'free')
    .map((c) => {
      const delta = c.last - c.first;
      const sign = delta > 0 ? '+' : '';
      return [TYPE_LABELS[c.type], formatBytes(c.first), formatBytes(c.last), `${sign}${formatBytes(delta)}`, minutes > 0 ? `${sign}${formatBytes(delta / minutes)}/min` : ''];
    });
  const header = ['Committed', 'First', 'Last', 'Change', 'Rate'];
  return `${change.ticks} samples over ${formatElapsed(change.elapsedMs)}\n${renderTable([header, ...rows], new Set([0]))}`;
}
