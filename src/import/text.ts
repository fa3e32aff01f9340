/**
 * What every imported file goes through before a parser sees it: the size limit and the decoding of its bytes.
 * VMMap runs on Windows and may write UTF-16 (with a byte order mark); other tools write UTF-8 with or without one.
 */

/** Larger than any VMMap file seen, small enough that a mistaken file (a disk image, /dev/zero) is refused. */
export const MAX_IMPORT_BYTES = 64 * 1024 * 1024;
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

/** The text of an import file, without its byte order mark. @throws Error for bytes that are not valid in the encoding. */
export function decodeImportText(bytes: Uint8Array, maxBytes = MAX_IMPORT_BYTES): string {
  assertImportSize(bytes.length, maxBytes);
  const { encoding, bomLength } = sniffEncoding(bytes);
  try {
    // fatal: an invalid byte is refused rather than read as U+FFFD; ignoreBOM: the mark was already cut off.
    return new TextDecoder(encoding, { fatal: true, ignoreBOM: true }).decode(bytes.subarray(bomLength));
  } catch {
    throw new Error(`not valid ${encoding.toUpperCase()} text${bomLength === 0 ? ' (no byte order mark, so read as UTF-8)' : ''}`);
  }
}

/** The first characters of an import file, decoded leniently: enough to tell the formats apart. */
export function decodeImportStart(bytes: Uint8Array, byteCount = 4096): string {
  const { encoding, bomLength } = sniffEncoding(bytes);
  return new TextDecoder(encoding, { ignoreBOM: true }).decode(bytes.subarray(bomLength, bomLength + byteCount));
}
