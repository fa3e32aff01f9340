/**
 * VMMap's CSV export (NOTES §5): a summary block `"Type","Size","Committed",…` with values in KB and locale
 * thousands separators, ended by an empty line; a details block follows and is not needed. Parsed with csv-parse,
 * so a quoted newline or a `""` in a Details cell is read as text, not as a row.
 */
import { CsvError, parse } from 'csv-parse/sync';
import type { TypeTotals } from '../collector/types.js';
import { decodeImportText } from './text.js';
import type { VmmapTotals } from './vmmap-mmp.js';
import type { MemoryType } from '../vocabulary.js';

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

/**
 * Plain digits, or groups of three after a first group of one to three, all split by the same separator: `,` `.`
 * space, `'`, no-break space or narrow no-break space, as Windows locales write them. So `1.5` is refused: no
 * locale groups one digit, and reading it as 15 would be a silent misread.
 */
const WHOLE_NUMBER = /^(?:\d+|\d{1,3}([,. '\u00a0\u202f])\d{3}(?:\1\d{3})*)$/;

/**
 * The longest record (line) read: VMMap's longest are a few paths, far below it. An unterminated quote or a file that
 * is not CSV is refused once this much is buffered, not after the whole file has become one field.
 */
export const MAX_RECORD_CHARS = 64 * 1024;

/** A cell or attribute for a message: cut short, its control characters (a quoted line break) made visible. */
const shorten = (text: string) =>
  (text.length > 24 ? `${text.slice(0, 24)}…` : text).replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** A cell as a whole number times `unit`; '' is unknown. */
function cellNumber(cell: string, unit: number, what: string, line: number): number | undefined {
  const text = cell.trim();
  if (text === '') return undefined;
  const match = WHOLE_NUMBER.exec(text);
  if (match === null) throw new Error(`line ${line}: '${shorten(text)}' is not ${what}`);
  const value = Number(match[1] === undefined ? text : text.split(match[1]).join('')) * unit;
  if (!Number.isSafeInteger(value)) throw new Error(`line ${line}: '${shorten(text)}' is too large to be ${what}`);
  return value;
}

/**
 * The summary block: its header and rows, each with the line it starts on. The whole file is parsed, so malformed CSV
 * anywhere is refused, but only the summary's records are kept (a details block can have a million rows).
 * @throws Error naming the line for malformed CSV.
 */
function summaryRecords(text: string): { fields: string[]; line: number }[] {
  const summary: { fields: string[]; line: number }[] = [];
  let phase: 'before' | 'summary' | 'after' = 'before';
  let previousEnd = 0;
  try {
    parse(text, {
      max_record_size: MAX_RECORD_CHARS,
      relax_column_count: true, // the two blocks differ; the summary's rows are checked against its header
      skip_empty_lines: false, // an empty line ends the summary block
      on_record: (fields: string[], context) => {
        const line = previousEnd + 1;
        previousEnd = context.lines;
        if (phase === 'before' && fields[0] === 'Type' && fields[1] === 'Size') phase = 'summary';
        else if (phase === 'summary' && fields.length === 1 && fields[0].trim() === '') phase = 'after';
        if (phase === 'summary') summary.push({ fields, line });
        return null; // nothing is collected by csv-parse itself
      },
    });
  } catch (error) {
    if (error instanceof CsvError && error.code === 'CSV_MAX_RECORD_SIZE') {
      throw new Error(`line ${previousEnd + 1}: a CSV record longer than ${MAX_RECORD_CHARS / 1024} KiB: a quote that is never closed, or not a VMMap CSV file`);
    }
    if (error instanceof CsvError) throw new Error(`malformed CSV: ${error.message.replace(/\s*\n\s*/g, ' ')}`);
    throw error;
  }
  return summary;
}

/** The summary block of a VMMap CSV export, per type in bytes. @throws Error naming the line for malformed input. */
export function parseVmmapCsv(bytes: Buffer): VmmapTotals {
  const [header, ...rows] = summaryRecords(decodeImportText(bytes));
  if (header === undefined) throw new Error('no VMMap summary block ("Type","Size",… header) found');
  const totals: VmmapTotals = {};
  for (const { fields, line } of rows) {
    if (fields.length !== header.fields.length) throw new Error(`line ${line}: ${fields.length} fields, the header has ${header.fields.length}`);
    const type = CSV_TYPES[fields[0]];
    if (type === undefined) continue; // Total, Unusable, and types VMMap may add: not one of ours
    if (totals[type] !== undefined) throw new Error(`line ${line}: a second '${fields[0]}' row`);
    const entry: TypeTotals = { size: 0, committed: 0 };
    header.fields.forEach((name, i) => {
      const column = CSV_COLUMNS[name];
      if (column === undefined) return;
      const value = column === 'blocks' ? cellNumber(fields[i], 1, 'a number of blocks', line) : cellNumber(fields[i], 1024, 'an amount in KB', line);
      if (value !== undefined) entry[column] = value;
    });
    totals[type] = entry;
  }
  return totals;
}
