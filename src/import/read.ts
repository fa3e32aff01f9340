/** Reading a file given to `import`, and telling its format from its first characters. */
import { closeSync, constants, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { LeakwatchError } from '../errors.js';
import { fileKind } from '../vocabulary.js';
import { decodeImportStart, IMPORT_CHUNK_BYTES, MAX_IMPORT_BYTES, MAX_JSON_IMPORT_BYTES } from './text.js';

/** How much of a file tells its format: its start after a byte order mark. */
const HEAD_BYTES = 4096;

/**
 * An import file opened for reading, with its size. Only regular files are read: a FIFO or /dev/zero would never end.
 * @throws LeakwatchError (exit 2) naming the file.
 */
function openImportFile(file: string): { fd: number; size: number } {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. No effect on regular files.
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new LeakwatchError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new LeakwatchError(`cannot import ${file}: it is ${fileKind(stats)}, not a regular file`);
    return { fd, size: stats.size };
  } catch (error) {
    closeSync(fd);
    throw readFailure(file, error);
  }
}

/** A failure to read a file as one line naming it; a refusal already says it. */
const readFailure = (file: string, error: unknown) =>
  (error instanceof LeakwatchError ? error : new LeakwatchError(`cannot read ${file}: ${(error as Error).message}`));

/** The first bytes of an open file: what tells its format. */
function readHead(fd: number, size: number): Buffer {
  const head = Buffer.alloc(Math.min(size, HEAD_BYTES));
  readSync(fd, head, 0, head.length, 0);
  return head;
}

/** The format of an import file, from its first bytes. @throws LeakwatchError (exit 2) naming the file. */
export function importFormat(file: string): ImportFormat {
  const { fd, size } = openImportFile(file);
  try {
    return detectImportFormat(readHead(fd, size));
  } catch (error) {
    throw readFailure(file, error);
  } finally {
    closeSync(fd);
  }
}

/**
 * The bytes of an import file. Its size is checked on the opened descriptor before more than its first few KiB are
 * read, so a huge file costs nothing, against the limit of its format (a leakwatch JSON export may be larger than a
 * VMMap file).
 * @throws LeakwatchError (exit 2) naming the file.
 */
export function readImportFile(file: string): Buffer {
  const { fd, size } = openImportFile(file);
  try {
    const limit = importLimit(detectImportFormat(readHead(fd, size)));
    if (size > limit) {
      throw new LeakwatchError(`cannot import ${file}: ${size} bytes is more than the import limit of ${Math.round(limit / 1024 / 1024)} MiB for its format`);
    }
    const bytes = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < bytes.length) {
      const count = readSync(fd, bytes, filled, bytes.length - filled, filled);
      if (count === 0) break; // shrank since fstat: what is there is the file
      filled += count;
    }
    // A file still growing is not a finished export, and reading on would pass the limit unchecked.
    if (readSync(fd, Buffer.alloc(1), 0, 1, filled) !== 0) throw new LeakwatchError(`cannot import ${file}: it grew while being read`);
    return bytes.subarray(0, filled);
  } catch (error) {
    throw readFailure(file, error);
  } finally {
    closeSync(fd);
  }
}

/**
 * The bytes of an import file as they are read, 64 KiB at a time: a reader that stops early reads no further, and the
 * file is closed when it stops. Its size is no limit: what is read is the reader's to limit.
 * @throws LeakwatchError (exit 2) naming the file.
 */
export async function* importFileChunks(file: string): AsyncGenerator<Buffer> {
  const stream = createReadStream(file, { fd: openImportFile(file).fd, start: 0, highWaterMark: IMPORT_CHUNK_BYTES });
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (error) {
    throw readFailure(file, error);
  } finally {
    // Closed before the reader goes on: importing many files never holds their descriptors.
    if (!stream.closed) await new Promise<void>((resolve) => stream.destroy().once('close', () => resolve()));
  }
}

/** The largest file of a format that is read. */
export const importLimit = (format: ImportFormat) => (format === 'json' ? MAX_JSON_IMPORT_BYTES : MAX_IMPORT_BYTES);

export type ImportFormat = 'json' | 'mmp' | 'csv';

/** The format of an import file from its first character after a byte order mark and white space. */
export function detectImportFormat(bytes: Buffer): ImportFormat {
  const first = decodeImportStart(bytes).trimStart()[0];
  return first === '{' ? 'json' : first === '<' ? 'mmp' : 'csv';
}
