/**
 * What every imported file goes through before a parser sees it: the size limit and the decoding of its bytes.
 * VMMap runs on Windows and may write UTF-16 (with a byte order mark); other tools write UTF-8 with or without one.
 */

/**
 * Larger than any VMMap file seen, small enough that a mistaken file (a disk image, /dev/zero) is refused: the largest
 * .mmp file, and the most of a CSV export read looking for its summary block and that block's end.
 */
export const MAX_IMPORT_BYTES = 64 * 1024 * 1024;
/** A file read as a stream is read, decoded and parsed in pieces of this size (Node's own for files). */
export const IMPORT_CHUNK_BYTES = 64 * 1024;
/**
 * A leakwatch JSON export is parsed whole, and V8 holds at most 2^29 characters in one string: a 12-hour session at
 * 250 ms (359 MiB) fits, a week's export (1.23 GiB) does not.
 */
export const MAX_JSON_IMPORT_BYTES = 512 * 1024 * 1024 - 1024;

function assertImportSize(byteLength: number, maxBytes: number): void {
  if (byteLength > maxBytes) {
    throw new Error(`${byteLength} bytes is more than the import limit of ${Math.round(maxBytes / 1024 / 1024)} MiB`);
  }
}

type Encoding = 'utf-8' | 'utf-16le' | 'utf-16be';

/** The encoding a byte order mark says, UTF-8 without one. */
function sniffEncoding(bytes: Uint8Array): { encoding: Encoding; bomLength: number } {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { encoding: 'utf-8', bomLength: 3 };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { encoding: 'utf-16le', bomLength: 2 };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { encoding: 'utf-16be', bomLength: 2 };
  return { encoding: 'utf-8', bomLength: 0 };
}

/** The longest byte order mark: what the start of a stream must hold before its encoding is told. */
const BOM_BYTES = 3;

/**
 * A decoder of the text after `start`'s byte order mark: decode(bytes) for each piece, in order, starting with
 * `start`; decode() at the end.
 */
function importDecoder(start: Uint8Array): (bytes?: Uint8Array) => string {
  const { encoding, bomLength } = sniffEncoding(start);
  // fatal: an invalid byte is refused rather than read as U+FFFD; ignoreBOM: the mark is cut off here.
  const decoder = new TextDecoder(encoding, { fatal: true, ignoreBOM: true });
  let skip = bomLength;
  return (bytes) => {
    try {
      if (bytes === undefined) return decoder.decode();
      const text = decoder.decode(bytes.subarray(skip), { stream: true });
      skip = 0;
      return text;
    } catch {
      throw new Error(`not valid ${encoding.toUpperCase()} text${bomLength === 0 ? ' (no byte order mark, so read as UTF-8)' : ''}`);
    }
  };
}

/** The text of an import file, without its byte order mark. @throws Error for bytes that are not valid in the encoding. */
export function decodeImportText(bytes: Uint8Array, maxBytes = MAX_IMPORT_BYTES): string {
  assertImportSize(bytes.length, maxBytes);
  const decode = importDecoder(bytes);
  return decode(bytes) + decode();
}

/**
 * The text of an import file piece by piece as its bytes arrive, without its byte order mark: a reader that stops
 * early has read no more than it needed. A character split between two pieces is read whole.
 * @throws Error for bytes that are not valid in the encoding.
 */
export async function* decodeImportChunks(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  let start: Uint8Array = new Uint8Array(0);
  let decode: ((bytes?: Uint8Array) => string) | undefined;
  for await (const chunk of chunks) {
    let bytes = chunk;
    if (decode === undefined) {
      start = Buffer.concat([start, chunk]);
      if (start.length < BOM_BYTES) continue; // not yet known whether a byte order mark begins it
      decode = importDecoder(start);
      bytes = start;
    }
    const text = decode(bytes);
    if (text !== '') yield text;
  }
  const rest = decode === undefined ? decodeImportText(start) : decode();
  if (rest !== '') yield rest;
}

/** The first characters of an import file, decoded leniently: enough to tell the formats apart. */
export function decodeImportStart(bytes: Uint8Array, byteCount = 4096): string {
  const { encoding, bomLength } = sniffEncoding(bytes);
  return new TextDecoder(encoding, { ignoreBOM: true }).decode(bytes.subarray(bomLength, bomLength + byteCount));
}
