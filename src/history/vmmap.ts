/**
 * VMMap's own files (NOTES §5), so Windows users can bring snapshots they already have. Pure parsers from text to
 * per-type totals in bytes. CSV export: a summary block `"Type","Size","Committed",…` with values in KB and locale
 * thousands separators (a details block follows and is not needed). `.mmp`: XML with `Snapshot` elements holding
 * `Region` elements whose `UseType` says the type (Heap=0, Stack=1, Image=2, MappedFile=3, PrivateData=4,
 * Shareable=5, Free=6, ManagedHeaps=8, Unusable=10; 7 and 9 are unknown and left out, not guessed).
 */
import type { TypeTotals } from '../collector/types.js';
import { type MemoryType } from '../vocabulary.js';

export type VmmapTotals = Partial<Record<MemoryType, TypeTotals>>;

const CSV_TYPES: Record<string, MemoryType> = {
  Image: 'image',
  'Mapped File': 'mappedFile',
  Shareable: 'shareable',
  Heap: 'heap',
  'Managed Heap': 'managedHeap',
  Stack: 'stack',
  'Private Data': 'private',
  'Page Table': 'pageTable',
  Free: 'free',
};
const CSV_COLUMNS: Record<string, keyof TypeTotals> = {
  Size: 'size',
  Committed: 'committed',
  Private: 'private',
  'Total WS': 'totalWs',
  'Private WS': 'privateWs',
  'Shareable WS': 'shareableWs',
  'Shared WS': 'sharedWs',
  'Locked WS': 'lockedWs',
  Blocks: 'blocks',
  Largest: 'largest',
};

/** One CSV line into fields: double-quoted fields with "" escapes, or bare ones. */
function csvFields(line: string, lineNumber: number): string[] {
  const fields: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= line.length) throw new Error(`line ${lineNumber}: unterminated quote`);
        if (line[i] === '"' && line[i + 1] === '"') { value += '"'; i += 2; continue; }
        if (line[i] === '"') { i++; break; }
        value += line[i++];
      }
      fields.push(value);
      if (i < line.length && line[i] !== ',') throw new Error(`line ${lineNumber}: text after a quoted field`);
      i++;
    } else {
      const end = line.indexOf(',', i);
      fields.push(line.slice(i, end < 0 ? line.length : end).trim());
      i = end < 0 ? line.length + 1 : end + 1;
    }
  }
  return fields;
}

/** A KB amount with thousands separators (`1,234` or `1.234` or `1 234`) in bytes; '' is unknown. */
function kilobytes(text: string, lineNumber: number): number | undefined {
  const digits = text.replace(/[\s,.\u00a0']/g, '');
  if (digits === '') return undefined;
  if (!/^\d+$/.test(digits)) throw new Error(`line ${lineNumber}: '${text}' is not an amount in KB`);
  return Number(digits) * 1024;
}

/** The summary block of a VMMap CSV export. @throws Error naming the line for malformed input. */
export function parseVmmapCsv(text: string): VmmapTotals {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const start = lines.findIndex((l) => l.startsWith('"Type","Size"') || l.startsWith('Type,Size'));
  if (start < 0) throw new Error('no VMMap summary block ("Type","Size",… header) found');
  const header = csvFields(lines[start], start + 1);
  const totals: VmmapTotals = {};
  for (let n = start + 1; n < lines.length && lines[n].trim() !== ''; n++) {
    const fields = csvFields(lines[n], n + 1);
    if (fields.length !== header.length) throw new Error(`line ${n + 1}: ${fields.length} fields, the header has ${header.length}`);
    const type = CSV_TYPES[fields[0]];
    if (type === undefined) continue; // Total, Unusable, and types VMMap may add: not one of ours
    const entry: TypeTotals = { size: 0, committed: 0 };
    header.forEach((name, i) => {
      const column = CSV_COLUMNS[name];
      if (column === undefined) return;
      const value = column === 'blocks' ? (fields[i].replace(/\D/g, '') === '' ? undefined : Number(fields[i].replace(/\D/g, ''))) : kilobytes(fields[i], n + 1);
      if (value !== undefined) entry[column] = value;
    });
    totals[type] = entry;
  }
  return totals;
}

const USE_TYPES: Record<string, MemoryType> = { '0': 'heap', '1': 'stack', '2': 'image', '3': 'mappedFile', '4': 'private', '5': 'shareable', '6': 'free', '8': 'managedHeap' };

/** Every `Snapshot` of an `.mmp` file as per-type totals (bytes), with its `Timestamp` attribute when present. */
export function parseVmmapMmp(xml: string): { timestamp: string | undefined; totals: VmmapTotals }[] {
  const snapshots = [...xml.matchAll(/<Snapshot\b([^>]*)>([\s\S]*?)<\/Snapshot>/g)];
  if (snapshots.length === 0) throw new Error('no <Snapshot> element found: not a VMMap .mmp file');
  const attributes = (text: string) => Object.fromEntries([...text.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
  return snapshots.map(([, snapshotAttributes, body]) => {
    const totals: VmmapTotals = {};
    for (const [, regionAttributes] of body.matchAll(/<Region\b([^>]*)\/?>/g)) {
      const region = attributes(regionAttributes);
      const type = USE_TYPES[region.UseType];
      if (type === undefined) continue;
      const entry = (totals[type] ??= { size: 0, committed: 0, private: 0, totalWs: 0, privateWs: 0, blocks: 0, largest: 0 });
      const number = (name: string) => Number(region[name] ?? 0) || 0;
      entry.size += number('Size');
      entry.committed += number('Commit');
      entry.private! += number('PrivateBytes');
      entry.privateWs! += number('PrivateWS');
      entry.totalWs! += number('PrivateWS') + number('ShareableWS');
      entry.blocks! += number('Blocks') || 1;
      entry.largest = Math.max(entry.largest!, number('Size'));
    }
    return { timestamp: attributes(snapshotAttributes).Timestamp, totals };
  });
}
