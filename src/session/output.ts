/** Writing results: a file in one piece, or text of any length streamed to stdout or a file. */
import { once } from 'node:events';
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { LeakwatchError } from '../errors.js';

/** Runs a file operation; its failure (missing directory, no permission, disk full) is a one-line error. */
function writingTo<T>(file: string, operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    throw new LeakwatchError(`cannot write ${file}: ${(error as Error).message}`);
  }
}

/** Writes an output file. */
export function writeOutputFile(file: string, content: string): void {
  writingTo(file, () => writeFileSync(file, content));
}

// Pieces are gathered into chunks of about this many characters before each write.
const CHUNK_CHARS = 64 * 1024;

/**
 * Writes text to stdout, or to `file`, as it is produced: output of any length in bounded memory. A full stdout
 * (a slow reader on a pipe) makes the producer wait for 'drain' instead of piling up in memory; a file is written
 * synchronously, chunk by chunk.
 */
export async function writeStreamed(pieces: Iterable<string>, file?: string): Promise<void> {
  const fd = file === undefined ? undefined : writingTo(file, () => openSync(file, 'w'));
  const flush = async (chunk: string) => {
    if (fd !== undefined) writingTo(file!, () => writeSync(fd, chunk));
    else if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
  };
  try {
    let chunk = '';
    for (const piece of pieces) {
      chunk += piece;
      if (chunk.length < CHUNK_CHARS) continue;
      await flush(chunk);
      chunk = '';
    }
    await flush(chunk);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
