/**
 * VMMap's CSV export (NOTES §5): a summary block `"Type","Size","Committed",…` with values in KB and locale
 * thousands separators, ended by an empty line; a details block follows and is not needed, so it is never read: a
 * process with a million regions costs what one with ten does. Parsed with csv-parse as a stream, so a quoted newline
 * or a `""` in a cell is read as text, not as a row.
 */
import { CsvError, parse, type Parser } from 'csv-parse';
import type { TypeTotals } from '../collector/types.js';
import { decodeImportChunks, IMPORT_CHUNK_BYTES, MAX_IMPORT_BYTES } from './text.js';
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

const LIMIT_MIB = MAX_IMPORT_BYTES / 1024 / 1024;

const isEmptyLine = (fields: string[]) => fields.length === 1 && fields[0].trim() === '';

/** A buffer in the pieces a file is read in: parsed as a file is, never handed to csv-parse whole. */
function* piecesOf(bytes: Uint8Array): Generator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += IMPORT_CHUNK_BYTES) yield bytes.subarray(at, at + IMPORT_CHUNK_BYTES);
}

/** `chunks` passed on and counted in `read.bytes`. @throws Error saying `tooMuch()` once more than the import limit would be read. */
async function* counted(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, read: { bytes: number }, tooMuch: () => string): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunks) {
    read.bytes += chunk.length;
    if (read.bytes > MAX_IMPORT_BYTES) throw new Error(tooMuch());
    yield chunk;
  }
}

/** `text` written to the parser, or its end when undefined; settles once that is parsed, with the parser's error. */
function parsed(parser: Parser, text?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: Error | null) => (error ? reject(error) : resolve());
    if (text === undefined) parser.end(settle as () => void); // Node passes end's callback the error too
    else parser.write(text, settle);
  });
}

/** A csv-parse error as one line; the record limit names the line the record started on. */
function csvFailure(error: unknown, recordLine: number): unknown {
  if (error instanceof CsvError && error.code === 'CSV_MAX_RECORD_SIZE') {
    return new Error(`line ${recordLine}: a CSV record longer than ${MAX_RECORD_CHARS / 1024} KiB: a quote that is never closed, or not a VMMap CSV file`);
  }
  if (error instanceof CsvError) return new Error(`malformed CSV: ${error.message.replace(/\s*\n\s*/g, ' ')}`);
  return error;
}

/** One row of the summary block added to `totals`. @throws Error naming the line for a row that is not one. */
function addSummaryRow(totals: VmmapTotals, header: string[], fields: string[], line: number): void {
  if (fields.length !== header.length) throw new Error(`line ${line}: ${fields.length} fields, the header has ${header.length}`);
  const type = CSV_TYPES[fields[0]];
  if (type === undefined) return; // Total, Unusable, and types VMMap may add: not one of ours
  if (totals[type] !== undefined) throw new Error(`line ${line}: a second '${fields[0]}' row`);
  const entry: TypeTotals = { size: 0, committed: 0 };
  header.forEach((name, i) => {
    const column = CSV_COLUMNS[name];
    if (column === undefined) return;
    const value = column === 'blocks' ? cellNumber(fields[i], 1, 'a number of blocks', line) : cellNumber(fields[i], 1024, 'an amount in KB', line);
    if (value !== undefined) entry[column] = value;
  });
  totals[type] = entry;
}

/** The summary block as far as it has been parsed. */
interface SummaryBlock {
  /** Its first record, `"Type","Size",…`; undefined until it is found. */
  header?: string[];
  totals: VmmapTotals;
  /** The empty line after it was parsed. */
  ended: boolean;
  /** The line the last parsed record ended on. */
  previousEnd: number;
}

/** Thrown from on_record to stop csv-parse at the end of the summary block; never seen outside. */
const SUMMARY_ENDED = new Error('the summary block has ended');

/** A csv-parse stream that adds the summary block's rows to `block` as they are parsed, and stops at its end. */
function summaryParser(block: SummaryBlock): Parser {
  const parser = parse({
    max_record_size: MAX_RECORD_CHARS,
    relax_column_count: true, // the two blocks differ; the summary's rows are checked against its header
    skip_empty_lines: false, // an empty line ends the summary block
    on_record: (fields: string[], context) => {
      const line = block.previousEnd + 1;
      block.previousEnd = context.lines;
      if (block.header === undefined) {
        if (fields[0] === 'Type' && fields[1] === 'Size') block.header = fields;
      } else if (isEmptyLine(fields)) {
        block.ended = true;
        throw SUMMARY_ENDED; // not one record of the details block is parsed, even in the same chunk
      } else addSummaryRow(block.totals, block.header, fields, line);
      return null; // nothing is collected by csv-parse itself
    },
  });
  return parser.on('error', () => {}); // taken from the write callbacks instead
}

/**
 * The summary block of a VMMap CSV export, per type in bytes: from a file's chunks as they are read
 * (importFileChunks), or from its bytes. The rows are checked as they are parsed, and reading stops at the empty line
 * that ends the block: what follows is neither read nor parsed, and no part of the file is held.
 * @param read counts the bytes taken from `input`: at most the chunk (64 KiB from a file) holding the block's end.
 * @throws Error naming the line for malformed input.
 */
export async function parseVmmapCsv(input: Uint8Array | AsyncIterable<Uint8Array>, read = { bytes: 0 }): Promise<VmmapTotals> {
  const block: SummaryBlock = { totals: {}, ended: false, previousEnd: 0 };
  const parser = summaryParser(block);
  const tooMuch = () => (block.header === undefined ? `no VMMap summary block within the import limit of ${LIMIT_MIB} MiB` : `the summary block does not end within the import limit of ${LIMIT_MIB} MiB`);
  const text = decodeImportChunks(counted(input instanceof Uint8Array ? piecesOf(input) : input, read, tooMuch));
  try {
    for await (const piece of text) await parsed(parser, piece);
    await parsed(parser);
  } catch (error) {
    if (!block.ended) throw csvFailure(error, block.previousEnd + 1); // ended: the parser was stopped, and the file is left unread
  } finally {
    parser.destroy();
  }
  if (block.header === undefined) throw new Error('no VMMap summary block ("Type","Size",… header) found');
  return block.totals;
}
