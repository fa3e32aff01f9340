/**
 * glibc's mmapped chunks: a malloc above M_MMAP_THRESHOLD gets its own anonymous mapping, which starts with the
 * chunk header `prev_size` (u64, 0) and `size` (u64: the chunk's page-multiple length | IS_MMAPPED). The kernel
 * merges neighbouring mappings with equal flags, so one mapping can hold several chunks back to back, and other
 * memory before or after them. Pure: the header bytes come from a reader the collector supplies
 * (/proc/PID/mem). 64-bit little-endian layout (x86-64, arm64); anything else never validates.
 */

export const CHUNK_HEADER_BYTES = 16;
// The low bits of `size`: PREV_INUSE (1), IS_MMAPPED (2), NON_MAIN_ARENA (4). An mmapped chunk has only IS_MMAPPED.
const FLAG_BITS = 7;
const IS_MMAPPED = 2;

/** Chunks found back to back: [start, end), `count` of them. */
export interface ChunkRun {
  start: number;
  end: number;
  count: number;
}

/**
 * The length of the mmapped chunk whose header these 16 bytes are, or undefined when they are not one: prev_size
 * must be 0, the flags exactly IS_MMAPPED, the length a positive page multiple that fits in `room` bytes.
 * (An 8 MiB block of 0x02 bytes reads as size 0x0202…02 with IS_MMAPPED set; its prev_size is not 0.)
 */
export function mmappedChunkLength(header: Uint8Array, room: number, pageSize: number): number | undefined {
  if (header.length < CHUNK_HEADER_BYTES) return undefined;
  const view = new DataView(header.buffer, header.byteOffset, CHUNK_HEADER_BYTES);
  if (view.getUint32(0, true) !== 0 || view.getUint32(4, true) !== 0) return undefined;
  const low = view.getUint32(8, true);
  if ((low & FLAG_BITS) !== IS_MMAPPED) return undefined;
  const length = view.getUint32(12, true) * 2 ** 32 + (low - IS_MMAPPED);
  return length > 0 && length % pageSize === 0 && length <= room ? length : undefined;
}

/**
 * The chunks back to back from `start` (each header says where the next one starts), stopping at the first thing
 * that is not a chunk or at `end`; undefined when `start` holds none. `readHeader` returns the 16 bytes at an
 * address, or undefined when they cannot be read.
 */
export function walkMmappedChunks(
  readHeader: (address: number) => Uint8Array | undefined,
  start: number,
  end: number,
  pageSize: number,
): ChunkRun | undefined {
  let cursor = start;
  let count = 0;
  while (cursor < end) {
    const header = readHeader(cursor);
    const length = header && mmappedChunkLength(header, end - cursor, pageSize);
    if (length === undefined) break;
    cursor += length;
    count++;
  }
  return count > 0 ? { start, end: cursor, count } : undefined;
}

/**
 * Every chunk run in [start, end) reachable from `start` or from one of `hints` (sorted addresses inside the range
 * where an earlier look saw a mapping or a run begin: the kernel may since have merged other memory in front of a
 * run), in order.
 */
export function findChunkRuns(
  readHeader: (address: number) => Uint8Array | undefined,
  start: number,
  end: number,
  hints: readonly number[],
  pageSize: number,
): ChunkRun[] {
  const runs: ChunkRun[] = [];
  for (const from of [start, ...hints]) {
    const last = runs.at(-1);
    if (last && from < last.end) continue;
    const run = walkMmappedChunks(readHeader, from, end, pageSize);
    if (run) runs.push(run);
  }
  return runs;
}
