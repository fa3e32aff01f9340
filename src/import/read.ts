/** Reading a file given to `import`, and telling its format from its first characters. */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { LeakwatchError } from '../errors.js';
import { fileKind } from '../vocabulary.js';
import { decodeImportStart, MAX_IMPORT_BYTES, MAX_JSON_IMPORT_BYTES } from './text.js';

/** How much of a file tells its format: its start after a byte order mark. */
const HEAD_BYTES = 4096;

/**
 * The bytes of an import file. Its size is checked on the opened descriptor before more than its first few KiB are
 * read, so a huge file costs nothing, against the limit of its format (a leakwatch JSON export may be larger than a
 * VMMap file); only regular files are read: a FIFO or /dev/zero would never end.
 * @throws LeakwatchError (exit 2) naming the file.
 */
export function readImportFile(file: string): Buffer {
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
    const head = Buffer.alloc(Math.min(stats.size, HEAD_BYTES));
    readSync(fd, head, 0, head.length, 0);
    const limit = importLimit(detectImportFormat(head));
    if (stats.size > limit) {
      throw new LeakwatchError(`cannot import ${file}: ${stats.size} bytes is more than the import limit of ${Math.round(limit / 1024 / 1024)} MiB for its format`);
    }
    const bytes = Buffer.allocUnsafe(stats.size);
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
    if (error instanceof LeakwatchError) throw error;
    throw new LeakwatchError(`cannot read ${file}: ${(error as Error).message}`);
  } finally {
    closeSync(fd);
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
