import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ClassifyInput, classifyMappings, shareOut } from '../src/collector/linux/classify.js';
import type { ChunkRun } from '../src/collector/linux/glibc-chunks.js';
import { type Mapping, parseMaps, parseSmaps } from '../src/collector/linux/procfs.js';
import { freeGaps, summarize } from '../src/collector/summary.js';
import { TOTAL_COLUMNS } from '../src/vocabulary.js';

// A condensed but real layout: program, libc with .bss, brk heap, two glibc arenas back to back, a thread stack
// with its guard, a memfd, a mapped data file, /dev/shm, an anonymous mmap, the main stack and vdso.
const MAPS = `55d0c8a00000-55d0c8a01000 r--p 00000000 fe:00 100 /opt/app/server
55d0c8a01000-55d0c8a02000 r-xp 00001000 fe:00 100 /opt/app/server
55d0c8a02000-55d0c8a03000 rw-p 00002000 fe:00 100 /opt/app/server
55d0c8a03000-55d0c8a05000 rw-p 00000000 00:00 0 
55d0c9000000-55d0c9400000 rw-p 00000000 00:00 0 [heap]
7f0000000000-7f0000200000 rw-p 00000000 00:00 0 
7f0000200000-7f0004000000 ---p 00000000 00:00 0 
7f0004000000-7f0008000000 rw-p 00000000 00:00 0 
7f1000000000-7f1000001000 ---p 00000000 00:00 0 
7f1000001000-7f1000101000 rw-p 00000000 00:00 0 
7f2000000000-7f2000800000 rw-s 00000000 00:01 77 /memfd:cache (deleted)
7f3000000000-7f3000100000 r--s 00000000 fe:00 200 /var/data/table.bin
7f3100000000-7f3100100000 rw-s 00000000 00:19 300 /dev/shm/ipc
7f3200000000-7f3200400000 rw-p 00000000 00:00 0 
7f4000000000-7f4000028000 r--p 00000000 fe:00 400 /usr/lib/libc.so.6
7f4000028000-7f4000100000 r-xp 00028000 fe:00 400 /usr/lib/libc.so.6
7f4000100000-7f4000104000 rw-p 00100000 fe:00 400 /usr/lib/libc.so.6
7f4000104000-7f4000111000 rw-p 00000000 00:00 0 
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]
7ffd00100000-7ffd00102000 r-xp 00000000 00:00 0 [vdso]
`;

const byStart = (regions: ReturnType<typeof classifyMappings>) => new Map(regions.map((r) => [r.start, r]));

// What the ELF files of MAPS say: each image's .bss ends where the anonymous mapping after its data does.
const IMAGE_ENDS = new Map([[0x55d0c8a02000, 0x55d0c8a05000], [0x7f4000100000, 0x7f4000111000]]);
const reads: Pick<ClassifyInput, 'imageEnd' | 'mmappedChunks' | 'residentBytes'> = {
  imageEnd: (data) => IMAGE_ENDS.get(data.start) ?? 'not in this test',
  mmappedChunks: () => [],
  residentBytes: () => undefined,
};

test('every kind of mapping lands in its type when thread stack pointers are known', () => {
  const regions = byStart(
    classifyMappings({
      mappings: parseMaps(MAPS),
      threads: [
        { tid: 10, sp: 0x7ffd00020f00 },
        { tid: 11, sp: 0x7f10000ffe00 },
      ],
      managedRanges: [],
      ...reads,
    }),
  );
  const expect = (start: string, type: string, details: string | RegExp) => {
    const r = regions.get(start)!;
    assert.equal(r.type, type, `${start} ${r.details}`);
    if (typeof details === 'string') assert.equal(r.details, details);
    else assert.match(r.details, details);
  };
  expect('55d0c8a00000', 'image', '/opt/app/server');
  expect('55d0c8a03000', 'image', '/opt/app/server (.bss)');
  expect('55d0c9000000', 'heap', '[heap]');
  expect('7f0000000000', 'heap', 'glibc arena');
  expect('7f0000200000', 'heap', 'glibc arena');
  expect('7f0004000000', 'heap', 'glibc arena'); // a full arena heap: one rw-p VMA of 64 MiB
  expect('7f1000000000', 'stack', '[thread 11 stack] guard');
  expect('7f1000001000', 'stack', '[thread 11 stack]');
  expect('7f2000000000', 'shareable', '/memfd:cache (deleted)');
  expect('7f3000000000', 'mappedFile', '/var/data/table.bin');
  expect('7f3100000000', 'shareable', '/dev/shm/ipc');
  expect('7f3200000000', 'private', '');
  expect('7f4000100000', 'image', '/usr/lib/libc.so.6');
  expect('7f4000104000', 'image', '/usr/lib/libc.so.6 (.bss)');
  assert.equal(regions.get('7f4000104000')!.method, 'exact', 'bounded by the ELF file');
  expect('7ffd00000000', 'stack', '[stack] thread 10');
  expect('7ffd00100000', 'image', '[vdso]');
  assert.equal(regions.get('7f1000001000')!.method, 'exact');
  assert.equal(regions.get('7f0000200000')!.committed, 0, 'a ---p reservation is not committed');
  assert.equal(regions.get('7f0000000000')!.committed, 0x200000);
});

test('without stack pointers, rw-p above a small guard is a stack by heuristic', () => {
  const regions = byStart(classifyMappings({ mappings: parseMaps(MAPS), threads: undefined, managedRanges: [], ...reads }));
  assert.equal(regions.get('7f1000001000')!.type, 'stack');
  assert.equal(regions.get('7f1000001000')!.method, 'heuristic');
  // An arena that directly follows another arena's reservation stays Heap: arenas are decided first.
  assert.equal(regions.get('7f0004000000')!.type, 'heap');
});

test('a stack whose thread pointer is known is not re-labelled by the heuristic for other threads', () => {
  const regions = byStart(
    classifyMappings({ mappings: parseMaps(MAPS), threads: [{ tid: 11, sp: 0x7f1000000100 + 0x1000 }, { tid: 12, sp: undefined }], managedRanges: [], ...reads }),
  );
  assert.equal(regions.get('7f1000001000')!.details, '[thread 11 stack]');
  assert.equal(regions.get('7f1000001000')!.method, 'exact');
});

test('a 64 MiB-aligned anonymous reservation without MAP_NORESERVE is not an arena (smaps flags known)', () => {
  const smaps = `7f0000000000-7f0000200000 rw-p 00000000 00:00 0 
Rss:                 8 kB
VmFlags: rd wr mr mw me ac 
7f0000200000-7f0004000000 ---p 00000000 00:00 0 
Rss:                 0 kB
VmFlags: mr mw me ac 
`;
  const regions = classifyMappings({ mappings: parseSmaps(smaps), threads: [], managedRanges: [], ...reads });
  assert.deepEqual(regions.map((r) => r.type), ['private', 'private']);
});

test('V8 pages (MADV_DONTFORK + MAP_NORESERVE) are Managed Heap; a known managed range wins over patterns', () => {
  const smaps = `31c55c0000-31c5600000 rw-p 00000000 00:00 0 
Rss:               256 kB
Anonymous:         256 kB
VmFlags: rd wr mr mw me dc nr 
c0000000-c4000000 rw-p 00000000 00:00 0 
Rss:              1024 kB
Anonymous:        1024 kB
VmFlags: rd wr mr mw me ac 
`;
  const regions = classifyMappings({
    mappings: parseSmaps(smaps),
    threads: [],
    managedRanges: [{ start: 0xc0000000, end: 0x100000000, details: 'Java heap', method: 'exact' }],
    ...reads,
  });
  assert.deepEqual(regions.map((r) => [r.type, r.details, r.method]), [
    ['managedHeap', 'V8 heap', 'heuristic'],
    ['managedHeap', 'Java heap', 'exact'],
  ]);
  assert.equal(regions[0].privateWs, 256 * 1024);
  assert.equal(regions[0].shareableWs, 0);
});

test('freeGaps counts the holes and the largest one', () => {
  assert.deepEqual(freeGaps([{ start: 0x2000, end: 0x3000 }, { start: 0x3000, end: 0x3800 }], 0x1000, 0x5000), {
    size: 0x1000 + 0x1800,
    blocks: 2,
    largest: 0x1800,
  });
  assert.deepEqual(freeGaps([], 0, 100), { size: 100, blocks: 1, largest: 100 });
});

test('summarize adds regions per type and keeps page tables and free space out of the total', () => {
  const regions = classifyMappings({ mappings: parseMaps(MAPS), threads: undefined, managedRanges: [], ...reads });
  const summary = summarize(regions, 4096, { size: 100, blocks: 1, largest: 100 });
  assert.equal(summary.types.heap.size, 0x400000 + 0x4000000 + 0x4000000);
  assert.equal(summary.types.heap.committed, 0x400000 + 0x200000 + 0x4000000);
  assert.equal(summary.types.heap.blocks, 4);
  assert.equal(summary.types.heap.largest, 0x4000000);
  assert.equal(summary.types.pageTable.committed, 4096);
  assert.equal(summary.types.free.largest, 100);
  const mapped = regions.reduce((sum, r) => sum + r.size, 0);
  assert.equal(summary.total.size, mapped);
  // maps alone has no working-set numbers, so those columns are left out rather than shown as zero.
  assert.equal(summary.total.totalWs, undefined);
});

// A program's data page, then anonymous memory: its .bss (two pages) and 8 MiB the kernel merged in after it.
const BSS_SMAPS = `55d0c8a01000-55d0c8a02000 r-xp 00001000 fe:00 100 /opt/app/server
Rss:                 4 kB
55d0c8a02000-55d0c8a03000 rw-p 00002000 fe:00 100 /opt/app/server
Rss:                 4 kB
Anonymous:           4 kB
Private_Dirty:       4 kB
55d0c8a03000-55d0c9205000 rw-p 00000000 00:00 0 
Rss:              8200 kB
Anonymous:        8200 kB
Private_Dirty:    8200 kB
Locked:             40 kB
`;

/** The regions cut from one mapping add up to it: contiguous, and the working-set numbers sum to its counters. */
function assertCutsAddUp(regions: ReturnType<typeof classifyMappings>, mapping: Mapping) {
  const pieces = regions.filter((r) => Number.parseInt(r.start, 16) >= mapping.start && Number.parseInt(r.end, 16) <= mapping.end);
  assert.equal(pieces[0].start, mapping.startHex);
  assert.equal(pieces.at(-1)!.end, mapping.endHex);
  pieces.slice(1).forEach((r, i) => assert.equal(r.start, pieces[i].end, 'contiguous, in order'));
  assert.equal(pieces.reduce((sum, r) => sum + r.size, 0), mapping.size);
  assert.equal(pieces.reduce((sum, r) => sum + r.committed, 0), mapping.size);
  const c = mapping.counters!;
  assert.equal(pieces.reduce((sum, r) => sum + r.totalWs!, 0), c.rss);
  assert.equal(pieces.reduce((sum, r) => sum + r.privateWs!, 0), c.anonymous);
  assert.equal(pieces.reduce((sum, r) => sum + r.private!, 0), c.privateClean + c.privateDirty);
  assert.equal(pieces.reduce((sum, r) => sum + r.lockedWs!, 0), c.locked);
  return pieces;
}

test('an image is its own pages: the .bss ends where the ELF file says, what the kernel merged after it is Private', () => {
  const mappings = parseSmaps(BSS_SMAPS);
  const regions = classifyMappings({ mappings, threads: [], managedRanges: [], ...reads, imageEnd: () => 0x55d0c8a05000, residentBytes: () => [0] });
  const [bss, rest] = assertCutsAddUp(regions, mappings[2]);
  assert.deepEqual([bss.start, bss.end, bss.type, bss.details, bss.method], ['55d0c8a03000', '55d0c8a05000', 'image', '/opt/app/server (.bss)', 'exact']);
  assert.deepEqual([rest.start, rest.end, rest.type, rest.details, rest.method], ['55d0c8a05000', '55d0c9205000', 'private', '', 'exact']);
  // smaps counts per mapping: its numbers go to the pieces by their resident bytes (pagemap: the .bss untouched).
  assert.deepEqual([bss.totalWs, bss.privateWs, bss.private, bss.lockedWs], [0, 0, 0, 0]);
  assert.deepEqual([rest.totalWs, rest.privateWs, rest.private, rest.lockedWs], [8200 * 1024, 8200 * 1024, 8200 * 1024, 40 * 1024]);
  // The per-type totals still are the kernel's sums over the mappings.
  const summary = summarize(regions, undefined, { size: 0, blocks: 0, largest: 0 });
  assert.equal(summary.total.totalWs, (4 + 4 + 8200) * 1024);
  assert.equal(summary.types.image.size, 0x1000 + 0x1000 + 0x2000);
  assert.equal(summary.types.private.size, 0x800000);
});

test('a .bss that fits in the data page has no pages of its own: anonymous memory right after the data is not the image', () => {
  const mappings = parseSmaps(BSS_SMAPS);
  const regions = classifyMappings({ mappings, threads: [], managedRanges: [], ...reads, imageEnd: () => 0x55d0c8a03000 });
  assert.deepEqual(regions.map((r) => r.type), ['image', 'image', 'private']);
  assert.equal(regions[2].size, mappings[2].size);
});

test('an ELF file that cannot be read keeps the layout guess for its .bss, marked heuristic, saying why', () => {
  const regions = classifyMappings({ mappings: parseSmaps(BSS_SMAPS), threads: [], managedRanges: [], ...reads, imageEnd: () => 'the file is deleted' });
  assert.deepEqual([regions[2].type, regions[2].details, regions[2].method], ['image', '/opt/app/server (.bss, not bounded: the file is deleted)', 'heuristic']);
});

test('a brk heap that starts right at the .bss (no address randomization): the .bss pages are Image, the rest Heap', () => {
  const mappings = parseMaps(`55d0c8a01000-55d0c8a02000 r-xp 00001000 fe:00 100 /opt/app/server
55d0c8a02000-55d0c8a03000 rw-p 00002000 fe:00 100 /opt/app/server
55d0c8a03000-55d0c8b00000 rw-p 00000000 00:00 0 [heap]
`);
  const regions = classifyMappings({ mappings, threads: [], managedRanges: [], ...reads, imageEnd: () => 0x55d0c8a05000 });
  assert.deepEqual(regions.slice(2).map((r) => [r.start, r.end, r.type, r.details]), [
    ['55d0c8a03000', '55d0c8a05000', 'image', '/opt/app/server (.bss)'],
    ['55d0c8a05000', '55d0c8b00000', 'heap', '[heap]'],
  ]);
});

test('glibc\'s mmapped chunks are Heap, exact; the memory merged around them stays Private; only unclaimed rw-p anonymous memory is read', () => {
  const mappings = parseMaps(MAPS);
  const asked: [number, number][] = [];
  const runs = new Map<number, ChunkRun[]>([[0x7f3200000000, [{ start: 0x7f3200100000, end: 0x7f3200300000, count: 2 }, { start: 0x7f3200380000, end: 0x7f32003a1000, count: 1 }]]]);
  const regions = classifyMappings({
    mappings,
    threads: undefined,
    managedRanges: [],
    ...reads,
    mmappedChunks: (start, end) => {
      asked.push([start, end]);
      return runs.get(start) ?? [];
    },
  });
  // Not arenas, stacks and their guards, shmem, files, [heap], reservations, images' .bss: only the anonymous mmap.
  assert.deepEqual(asked, [[0x7f3200000000, 0x7f3200400000]]);
  const pieces = regions.filter((r) => r.start.startsWith('7f3200'));
  assert.deepEqual(pieces.map((r) => [r.start, r.end, r.type, r.details, r.method]), [
    ['7f3200000000', '7f3200100000', 'private', '', 'exact'],
    ['7f3200100000', '7f3200300000', 'heap', 'glibc mmapped chunks (2)', 'exact'],
    ['7f3200300000', '7f3200380000', 'private', '', 'exact'],
    ['7f3200380000', '7f32003a1000', 'heap', 'glibc mmapped chunk', 'exact'],
    ['7f32003a1000', '7f3200400000', 'private', '', 'exact'],
  ]);
  const summary = summarize(regions, undefined, { size: 0, blocks: 0, largest: 0 });
  assert.equal(summary.types.heap.blocks, 4 + 2);
  assert.equal(summary.total.size, mappings.reduce((sum, m) => sum + m.size, 0));
});

test('a mapping cut around chunks shares its smaps numbers by the pieces\' resident bytes, by their sizes without pagemap', () => {
  const mappings = parseSmaps(`7f3200000000-7f3200403000 rw-p 00000000 00:00 0 
Rss:              1032 kB
Anonymous:        1032 kB
Private_Dirty:    1032 kB
`);
  const cut = { mmappedChunks: (start: number) => [{ start, end: start + 0x400000, count: 1 }] };
  const asked: { start: number; end: number }[][] = [];
  const measured = classifyMappings({
    mappings, threads: [], managedRanges: [], ...reads, ...cut,
    residentBytes: (ranges) => {
      asked.push(ranges.map(({ start, end }) => ({ start, end })));
      return [8 * 1024]; // two of the three pages after the chunk; the chunk holds the rest (1 MiB of its 4 MiB)
    },
  });
  // pagemap is read for the smaller pieces only.
  assert.deepEqual(asked, [[{ start: 0x7f3200400000, end: 0x7f3200403000 }]]);
  const [chunk, tail] = assertCutsAddUp(measured, mappings[0]);
  assert.equal(chunk.type, 'heap');
  assert.deepEqual([chunk.privateWs, tail.privateWs], [1024 * 1024, 8 * 1024]);
  // Without pagemap, by size: 4096 / 4108 of 1032 kB, rounded to whole kB.
  const bySize = classifyMappings({ mappings, threads: [], managedRanges: [], ...reads, ...cut });
  const [chunkBySize, tailBySize] = assertCutsAddUp(bySize, mappings[0]);
  assert.deepEqual([chunkBySize.privateWs, tailBySize.privateWs], [1029 * 1024, 3 * 1024]);
  for (const column of TOTAL_COLUMNS.filter((c) => c !== 'blocks' && c !== 'largest')) assert.equal(typeof tail[column], 'number', column);
});

test('shareOut: whole kB in proportion, the leftover to the largest remainders, exact sums, nothing for weight 0', () => {
  assert.deepEqual(shareOut(10 * 1024, [1, 1, 1]), [4, 3, 3].map((kB) => kB * 1024));
  assert.deepEqual(shareOut(10 * 1024, [0, 1, 2]), [0, 3, 7].map((kB) => kB * 1024));
  assert.deepEqual(shareOut(0, [5, 7]), [0, 0]);
  const shares = shareOut(123_456 * 1024, [3, 0, 17, 1, 9]);
  assert.equal(shares.reduce((a, b) => a + b, 0), 123_456 * 1024);
  assert.equal(shares[1], 0);
});

test('a process that uses jemalloc: anonymous memory stays Private, marked heuristic, and says why', () => {
  const mappings = parseMaps(`${MAPS}7f5000000000-7f5000040000 r-xp 00000000 fe:00 500 /usr/lib/x86_64-linux-gnu/libjemalloc.so.2\n`);
  const regions = byStart(classifyMappings({ mappings, threads: undefined, managedRanges: [], ...reads }));
  const anonymous = regions.get('7f3200000000')!;
  assert.deepEqual([anonymous.type, anonymous.details, anonymous.method], ['private', 'anonymous (process uses jemalloc: its memory is not told apart)', 'heuristic']);
  // What is known stays known.
  assert.equal(regions.get('7f0000000000')!.details, 'glibc arena');
  assert.equal(regions.get('55d0c9000000')!.details, '[heap]');
});
