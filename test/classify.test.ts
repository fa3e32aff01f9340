import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyMappings } from '../src/collector/linux/classify.js';
import { parseMaps, parseSmaps } from '../src/collector/linux/procfs.js';
import { freeGaps, summarize } from '../src/collector/summary.js';

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

test('every kind of mapping lands in its type when thread stack pointers are known', () => {
  const regions = byStart(
    classifyMappings({
      mappings: parseMaps(MAPS),
      threads: [
        { tid: 10, sp: 0x7ffd00020f00 },
        { tid: 11, sp: 0x7f10000ffe00 },
      ],
      managedRanges: [],
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
  expect('7ffd00000000', 'stack', '[stack] thread 10');
  expect('7ffd00100000', 'image', '[vdso]');
  assert.equal(regions.get('7f1000001000')!.method, 'exact');
  assert.equal(regions.get('7f0000200000')!.committed, 0, 'a ---p reservation is not committed');
  assert.equal(regions.get('7f0000000000')!.committed, 0x200000);
});

test('without stack pointers, rw-p above a small guard is a stack by heuristic', () => {
  const regions = byStart(classifyMappings({ mappings: parseMaps(MAPS), threads: undefined, managedRanges: [] }));
  assert.equal(regions.get('7f1000001000')!.type, 'stack');
  assert.equal(regions.get('7f1000001000')!.method, 'heuristic');
  // An arena that directly follows another arena's reservation stays Heap: arenas are decided first.
  assert.equal(regions.get('7f0004000000')!.type, 'heap');
});

test('a stack whose thread pointer is known is not re-labelled by the heuristic for other threads', () => {
  const regions = byStart(
    classifyMappings({ mappings: parseMaps(MAPS), threads: [{ tid: 11, sp: 0x7f1000000100 + 0x1000 }, { tid: 12, sp: undefined }], managedRanges: [] }),
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
  const regions = classifyMappings({ mappings: parseSmaps(smaps), threads: [], managedRanges: [] });
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
  const regions = classifyMappings({ mappings: parseMaps(MAPS), threads: undefined, managedRanges: [] });
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
