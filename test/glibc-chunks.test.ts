import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findChunkRuns, mmappedChunkLength, walkMmappedChunks } from '../src/collector/linux/glibc-chunks.js';

const PAGE = 4096;
const MiB = 1024 * 1024;

function header(prevSize: bigint, size: bigint): Buffer {
  const bytes = Buffer.alloc(16);
  bytes.writeBigUInt64LE(prevSize, 0);
  bytes.writeBigUInt64LE(size, 8);
  return bytes;
}

/** A process's memory as the collector reads it: 16 bytes at any address, zeros where nothing was written. */
function memory(contents: Map<number, Buffer>) {
  const reads: number[] = [];
  const read = (address: number) => {
    reads.push(address);
    return contents.get(address) ?? Buffer.alloc(16);
  };
  return { read, reads };
}

test('a chunk header: prev_size 0, size a page multiple with only IS_MMAPPED set, within the room left', () => {
  const chunk = 0x301000; // malloc(3 MiB): 3 MiB + 16 bytes of header, page-rounded
  assert.equal(mmappedChunkLength(header(0n, BigInt(chunk | 2)), chunk, PAGE), chunk);
  assert.equal(mmappedChunkLength(header(0n, BigInt(chunk | 2)), chunk - PAGE, PAGE), undefined, 'past the mapping\'s end');
  assert.equal(mmappedChunkLength(header(0n, BigInt(chunk | 2)), 64 * MiB, 16 * 1024), undefined, 'not a multiple of a 16 KiB page');
  assert.equal(mmappedChunkLength(header(16n, BigInt(chunk | 2)), chunk, PAGE), undefined, 'prev_size is not 0');
  assert.equal(mmappedChunkLength(header(0n, BigInt(chunk | 3)), chunk, PAGE), undefined, 'PREV_INUSE: an arena chunk');
  assert.equal(mmappedChunkLength(header(0n, BigInt(chunk | 6)), chunk, PAGE), undefined, 'NON_MAIN_ARENA');
  assert.equal(mmappedChunkLength(header(0n, BigInt(chunk)), chunk, PAGE), undefined, 'IS_MMAPPED not set');
  assert.equal(mmappedChunkLength(header(0n, 0x2n), chunk, PAGE), undefined, 'length 0');
  assert.equal(mmappedChunkLength(header(0n, 0x1802n), chunk, PAGE), undefined, 'not a page multiple');
  assert.equal(mmappedChunkLength(header(0n, (1n << 60n) | 2n), 2 ** 52, PAGE), undefined, 'far past any mapping');
  assert.equal(mmappedChunkLength(Buffer.alloc(8), chunk, PAGE), undefined, 'a short read');
  // An 8 MiB block of 0x02 bytes: size 0x0202…02 has IS_MMAPPED set, but prev_size 0x0202…02 is not 0.
  assert.equal(mmappedChunkLength(Buffer.alloc(16, 2), 8 * MiB, PAGE), undefined);
});

test('walking merged chunks: each header leads to the next, until something that is not a chunk', () => {
  const base = 0x7f0000000000;
  const chunk = 0x301000;
  const contents = new Map<number, Buffer>();
  for (let i = 0; i < 24; i++) contents.set(base + i * chunk, header(0n, BigInt(chunk | 2)));
  // 12 KiB of other memory the kernel merged in after them.
  const end = base + 24 * chunk + 3 * PAGE;
  const { read, reads } = memory(contents);
  assert.deepEqual(walkMmappedChunks(read, base, end, PAGE), { start: base, end: base + 24 * chunk, count: 24 });
  assert.equal(reads.length, 25, 'one read per chunk and one for what follows');
  assert.equal(walkMmappedChunks(read, end - 3 * PAGE, end, PAGE), undefined);
  // A header claiming more than the mapping holds ends the walk before it.
  assert.deepEqual(walkMmappedChunks(read, base, base + 2 * chunk + PAGE, PAGE), { start: base, end: base + 2 * chunk, count: 2 });
  // Unreadable memory (unmapped since the listing) is not a chunk.
  assert.equal(walkMmappedChunks(() => undefined, base, end, PAGE), undefined);
});

test('a run that other memory was merged in front of is found from a hint, once', () => {
  const base = 0x7f0000000000;
  const chunk = 0x21000;
  const runStart = base + 8 * MiB; // an 8 MiB block of 0x02 bytes first
  const end = runStart + 3 * chunk;
  const contents = new Map<number, Buffer>([[base, Buffer.alloc(16, 2)]]);
  for (let i = 0; i < 3; i++) contents.set(runStart + i * chunk, header(0n, BigInt(chunk | 2)));
  assert.deepEqual(findChunkRuns(memory(contents).read, base, end, [], PAGE), []);
  const { read, reads } = memory(contents);
  // Hints inside a run already walked are skipped.
  assert.deepEqual(findChunkRuns(read, base, end, [runStart, runStart + chunk], PAGE), [{ start: runStart, end, count: 3 }]);
  assert.deepEqual(reads, [base, runStart, runStart + chunk, runStart + 2 * chunk]);
});
