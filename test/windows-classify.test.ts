/**
 * The Windows collector's pure parts, on Linux, with known answers: a VirtualQueryEx walk (the layout walloc-style
 * programs have under Wine, addresses as seen there) classified with heaps, stacks and V8 pages; heap detection on
 * a fake address space (PEB list, segment signatures, large-block lists of Windows' and Wine's layouts, Wine's
 * subheap lists, and chance patterns that must not count); free space and Unusable; working set from page
 * attributes; paths and command lines.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  allocationsOf,
  classifyBlocks,
  committedPages,
  formatProtection,
  freeSpace,
  stackClaims,
  usageFromPages,
  type Claim,
} from '../src/collector/windows/classify.js';
import { findHeaps, HEADER_BYTES, walkList, type ReadMemory } from '../src/collector/windows/heaps.js';
import { clrModule, v8Claims } from '../src/collector/windows/managed.js';
import { splitCommandLine, toDrivePath } from '../src/collector/windows/paths.js';
import {
  decodeMemoryBlock,
  decodePageAttributes,
  decodePeb,
  decodeProcessEntry,
  fileTimeToIso,
  MEM_COMMIT,
  MEM_FREE,
  MEM_IMAGE,
  MEM_MAPPED,
  MEM_PRIVATE,
  MEM_RESERVE,
  PROCESSENTRY32W_SIZE,
  type MemoryBlock,
} from '../src/collector/windows/structs.js';
import { summarize } from '../src/collector/summary.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const RW = 0x04;
const RO = 0x02;
const RX = 0x20;

/** A block; allocationBase defaults to its own base. */
function block(base: number, size: number, state: number, type: number, protect = RW, allocationBase = base): MemoryBlock {
  return { base, allocationBase: state === MEM_FREE ? 0 : allocationBase, allocationProtect: state === MEM_FREE ? 0 : RW, size, state, protect: state === MEM_COMMIT ? protect : 0, type: state === MEM_FREE ? 0 : type };
}

// The address space of a small program, as a walk gives it (Wine 8 laid out walloc.exe like this).
const WALK: MemoryBlock[] = [
  block(0x0, 0x10000, MEM_FREE, 0),
  block(0x10000, 0x2000, MEM_COMMIT, MEM_MAPPED, RO), // l_intl.nls
  block(0x12000, 0xe000, MEM_FREE, 0), // Unusable: after an allocation, up to the next 64 KiB
  // Main thread stack: one reservation, DeallocationStack 0x20000: reserved, guard, committed.
  block(0x20000, 0x1000, MEM_RESERVE, MEM_PRIVATE),
  block(0x21000, 0x1000, MEM_COMMIT, MEM_PRIVATE, RW | 0x100, 0x20000),
  block(0x22000, 0x1fe000, MEM_COMMIT, MEM_PRIVATE, RW, 0x20000),
  // The process heap: committed first segment part, reserved rest.
  block(0x340000, 0x10000, MEM_COMMIT, MEM_PRIVATE),
  block(0x350000, 0x3f0000, MEM_RESERVE, MEM_PRIVATE, 0, 0x340000),
  // A HeapCreate heap and its large block.
  block(0x10a0000, 0x20000, MEM_COMMIT, MEM_PRIVATE),
  block(0x10c0000, 0x3e0000, MEM_RESERVE, MEM_PRIVATE, 0, 0x10a0000),
  block(0x14a0000, 0x310000, MEM_COMMIT, MEM_PRIVATE),
  // VirtualAlloc(7 MiB).
  block(0x1cc0000, 7 * MiB, MEM_COMMIT, MEM_PRIVATE),
  // A pagefile-backed section view and a view of a file.
  block(0x26c0000, 2 * MiB, MEM_COMMIT, MEM_MAPPED),
  block(0x28c0000, 1 * MiB, MEM_COMMIT, MEM_MAPPED, RO),
  // A V8 page, 256 KiB-aligned.
  block(0x6ae40000, 0x40000, MEM_COMMIT, MEM_PRIVATE),
  block(0x6ae80000, 0x140000000 - 0x6ae80000, MEM_FREE, 0),
  // The program's image: header, code, data (protection changed on one page: still Image).
  block(0x140000000, 0x1000, MEM_COMMIT, MEM_IMAGE, RO),
  block(0x140001000, 0x5000, MEM_COMMIT, MEM_IMAGE, RX, 0x140000000),
  block(0x140006000, 0x1000, MEM_COMMIT, MEM_IMAGE, RW, 0x140000000),
  block(0x140007000, 0x7fffffff0000 - 0x140007000, MEM_FREE, 0),
];

const FILES = new Map([
  [0x10000, 'C:\\windows\\system32\\l_intl.nls'],
  [0x28c0000, 'Z:\\tmp\\mapped.bin'],
  [0x140000000, 'Z:\\tmp\\walloc.exe'],
]);

/** A fake address space: a map of address → bytes written there; reads of anything else fail. */
function memory(writes: [number, Buffer][]): ReadMemory & { reads: number } {
  const read = ((address: number, length: number) => {
    read.reads++;
    for (const [at, bytes] of writes) {
      if (address >= at && address + length <= at + bytes.length) return bytes.subarray(address - at, address - at + length);
    }
    return undefined;
  }) as ReadMemory & { reads: number };
  read.reads = 0;
  return read;
}

/** `length` bytes with u64 values at offsets (u32 where given as [value, 4]). */
function bytesWith(length: number, values: Record<number, number | [number, 4]>): Buffer {
  const bytes = Buffer.alloc(length);
  for (const [offset, value] of Object.entries(values)) {
    if (Array.isArray(value)) bytes.writeUInt32LE(value[0], Number(offset));
    else bytes.writeBigUInt64LE(BigInt(value), Number(offset));
  }
  return bytes;
}

// Wine's layout, as read from walloc.exe: heaps with 0xFFEEFFEE at 0x10 and 0 at 0x28, their large-block list
// head at heap + 0x98, each large block's list entry at 0x10 of its allocation.
const SIGNATURE = { 0x10: [0xffeeffee, 4] as [number, 4] };
const WINE_MEMORY: [number, Buffer][] = [
  [0x340000, bytesWith(0x100, { ...SIGNATURE, 0x98: 0x340098, 0xa0: 0x340098 })], // empty list: head points to itself
  [0x10a0000, bytesWith(0x100, { ...SIGNATURE, 0x98: 0x14a0010, 0xa0: 0x14a0010 })],
  [0x14a0000, bytesWith(HEADER_BYTES, { 0x10: 0x10a0098, 0x18: 0x10a0098, 0x20: 0x300000 })],
  [0x1cc0000, Buffer.alloc(HEADER_BYTES, 3)], // memset(3): a chance pattern
  // V8 page header: size, flags, Heap* (inside the 7 MiB block here), area start, area end.
  [0x6ae40000, bytesWith(HEADER_BYTES, { 0: 0x40000, 8: 4, 16: 0x1cc0100, 24: 0x6ae41148, 32: 0x6ae80000 })],
];

function headersOf(blocks: MemoryBlock[], read: ReadMemory): Map<number, Buffer> {
  const headers = new Map<number, Buffer>();
  for (const b of blocks) {
    if (b.type !== MEM_PRIVATE || b.base !== b.allocationBase || b.state !== MEM_COMMIT || b.protect & 0x101) continue;
    const bytes = read(b.base, HEADER_BYTES);
    if (bytes) headers.set(b.base, bytes);
  }
  return headers;
}

test('a walk lands in its types: image, mapped file, pagefile section, stack, heaps, large block, V8 page, private', () => {
  const allocations = allocationsOf(WALK);
  const read = memory(WINE_MEMORY);
  const headers = headersOf(WALK, read);
  const heaps = findHeaps({ pebHeaps: [], processHeap: 0x340000, allocations, headers, read });
  assert.equal(heaps.source, 'signature');
  assert.deepEqual(heaps.heaps.sort((a, b) => a - b), [0x340000, 0x10a0000]);
  const claims = new Map<number, Claim>([
    ...stackClaims([{ tid: 348, stackBase: 0x220000, stackLimit: 0x22000, deallocationStack: 0x20000 }], allocations),
    ...heaps.claims,
    ...v8Claims(allocations, headers),
  ]);
  const regions = classifyBlocks({ blocks: WALK, files: FILES, claims });
  const at = (start: number) => regions.find((r) => r.start === start.toString(16).padStart(8, '0'))!;
  const expect = (start: number, type: string, details: string, method = 'exact') => {
    const r = at(start);
    assert.deepEqual([r.type, r.details, r.method], [type, details, method], `block at ${start.toString(16)}`);
  };
  expect(0x10000, 'mappedFile', 'C:\\windows\\system32\\l_intl.nls');
  for (const start of [0x20000, 0x21000, 0x22000]) expect(start, 'stack', '[thread 348 stack]');
  expect(0x340000, 'heap', 'process heap 00340000');
  expect(0x350000, 'heap', 'process heap 00340000');
  expect(0x10a0000, 'heap', 'heap 010a0000', 'heuristic');
  expect(0x14a0000, 'heap', 'heap 010a0000 large block', 'heuristic');
  expect(0x1cc0000, 'private', '');
  expect(0x26c0000, 'shareable', 'pagefile-backed section');
  expect(0x28c0000, 'mappedFile', 'Z:\\tmp\\mapped.bin');
  expect(0x6ae40000, 'managedHeap', 'V8 heap', 'heuristic');
  // Classified by the allocation, whatever the page protection now says.
  for (const start of [0x140000000, 0x140001000, 0x140006000]) expect(start, 'image', 'Z:\\tmp\\walloc.exe');
  assert.deepEqual([at(0x140006000).protection, at(0x21000).protection, at(0x350000).protection], ['rw-', 'rw-+guard', 'reserved']);
  assert.deepEqual([at(0x350000).committed, at(0x340000).committed], [0, 0x10000]);
  assert.equal(regions.length, WALK.filter((b) => b.state !== MEM_FREE).length);
});

test('the PEB heap list is the exact path; its heaps, further segments and large blocks of the Windows layout count', () => {
  const blocks = [
    block(0x100000, 0x10000, MEM_COMMIT, MEM_PRIVATE), // heap A
    block(0x200000, 0x10000, MEM_COMMIT, MEM_PRIVATE), // heap A's second segment: signature, Heap = A
    block(0x300000, 0x90000, MEM_COMMIT, MEM_PRIVATE), // large block 1 of A
    block(0x400000, 0x90000, MEM_COMMIT, MEM_PRIVATE), // large block 2 of A
    block(0x500000, 0x10000, MEM_COMMIT, MEM_PRIVATE), // a signature whose Heap is no heap of the list
    block(0x600000, 0x10000, MEM_COMMIT, MEM_PRIVATE), // heap B (in the list, no large blocks)
  ];
  // Windows: _HEAP_VIRTUAL_ALLOC_ENTRY's LIST_ENTRY at 0; A's list head at A + 0x110.
  const head = 0x100110;
  const read = memory([
    [0x100000, bytesWith(0x200, { ...SIGNATURE, 0x28: 0x100000, 0x110: 0x300000, 0x118: 0x400000 })],
    [0x200000, bytesWith(HEADER_BYTES, { ...SIGNATURE, 0x28: 0x100000 })],
    [0x300000, bytesWith(HEADER_BYTES, { 0: 0x400000, 8: head })],
    [0x400000, bytesWith(HEADER_BYTES, { 0: head, 8: 0x300000 })],
    [0x500000, bytesWith(HEADER_BYTES, { ...SIGNATURE, 0x28: 0x900000 })],
    [0x600000, bytesWith(0x200, { ...SIGNATURE, 0x28: 0x600000 })],
  ]);
  const allocations = allocationsOf(blocks);
  const found = findHeaps({ pebHeaps: [0x100000, 0x600000], processHeap: 0x100000, allocations, headers: headersOf(blocks, read), read });
  assert.equal(found.source, 'peb');
  const claim = (base: number) => found.claims.get(base);
  assert.deepEqual(claim(0x100000), { type: 'heap', details: 'process heap 00100000', method: 'exact' });
  assert.deepEqual(claim(0x200000), { type: 'heap', details: 'heap 00100000 segment', method: 'exact' });
  assert.deepEqual(claim(0x300000), { type: 'heap', details: 'heap 00100000 large block', method: 'exact' });
  assert.deepEqual(claim(0x400000), { type: 'heap', details: 'heap 00100000 large block', method: 'exact' });
  assert.deepEqual(claim(0x600000), { type: 'heap', details: 'heap 00600000', method: 'exact' });
  // With the PEB's list in hand, a signature alone finds no heap.
  assert.equal(claim(0x500000), undefined);
});

test('chance patterns are no large blocks: a broken back link, a list that never reaches a heap, two heads', () => {
  const heap = 0x100000;
  const blocks = [block(heap, 0x10000, MEM_COMMIT, MEM_PRIVATE), ...[0x300000, 0x400000, 0x500000, 0x600000].map((b) => block(b, 0x90000, MEM_COMMIT, MEM_PRIVATE))];
  const heapBytes = bytesWith(0x200, { ...SIGNATURE, 0x110: 0x300000, 0x118: 0x300000, 0x120: 0x600000, 0x128: 0x600000 });
  const read = memory([
    [heap, heapBytes],
    // 0x300000 points at the head both ways, but the head's back link says 0x300000: valid alone…
    [0x300000, bytesWith(HEADER_BYTES, { 0: 0x100110, 8: 0x100110 })],
    // …0x400000 and 0x500000 point at each other only: a cycle through no heap.
    [0x400000, bytesWith(HEADER_BYTES, { 0: 0x500000, 8: 0x500000 })],
    [0x500000, bytesWith(HEADER_BYTES, { 0: 0x400000, 8: 0x400000 })],
    // 0x600000's forward link goes to the head at 0x100120, whose back link does not come back to it.
    [0x600000, bytesWith(HEADER_BYTES, { 0: 0x100110, 8: 0x100120 })],
  ]);
  const allocations = allocationsOf(blocks);
  const found = findHeaps({ pebHeaps: [heap], processHeap: heap, allocations, headers: headersOf(blocks, read), read });
  assert.deepEqual([...found.claims.keys()].sort((a, b) => a - b), [heap, 0x300000]);

  // A list with two heads in heap headers (0x100110 and 0x100120) is refused.
  const links = new Map<number, [number, number]>([
    [0x300000, [0x100110, 0x100120]],
    [0x100110, [0x100120, 0x300000]],
    [0x100120, [0x300000, 0x100110]],
  ]);
  assert.equal(walkList(0x300000, (n) => links.get(n), (n) => n === 0x300000, (n) => (n >= heap && n < heap + 0x1000 ? heap : undefined)), undefined);
});

// Wine 8's subheaps, as read from leak.exe's process heap under Wine 8.0: struct heap's subheap_list head at
// heap + 0x88, its own first SUBHEAP at heap + 0x330 (block_size at +0x10, data_size at +0x18, list entry at +0x20);
// each further SUBHEAP at the start of an allocation of its own, its block_size reaching from its first block (at
// 0x38) to the allocation's end. The list runs head → newest subheap → … → the heap's first SUBHEAP → head.
const SUBHEAP_HEAD = 0x88;
const FIRST_SUBHEAP = 0x330;
const WINE_HEAP_SIZE = 0x400000;

/** Wine heaps and subheaps: their allocations, the list links (address → [next, prev]) and the size fields. */
function wineSubheapSpace({ heaps, segments, links, blockSize = new Map(), extra = [] }: {
  heaps: number[];
  segments: [base: number, size: number][];
  links: Map<number, [number, number]>;
  /** block_size by SUBHEAP address, where not the one that fits. */
  blockSize?: Map<number, number>;
  extra?: [number, Buffer][];
}) {
  const at = (address: number) => links.get(address) ?? [0, 0];
  const sizes = (subheap: number, end: number) => {
    const size = blockSize.get(subheap) ?? end - subheap - 0x38;
    return { 0x10: size, 0x18: Math.min(0x10000, size) };
  };
  const blocks = [
    ...heaps.map((h) => block(h, WINE_HEAP_SIZE, MEM_COMMIT, MEM_PRIVATE)),
    ...segments.map(([base, size]) => block(base, size, MEM_COMMIT, MEM_PRIVATE)),
    ...extra.map(([base]) => block(base, 0x10000, MEM_COMMIT, MEM_PRIVATE)),
  ].sort((a, b) => a.base - b.base);
  const writes: [number, Buffer][] = [
    ...heaps.map((h): [number, Buffer] => {
      const [next, prev] = at(h + SUBHEAP_HEAD);
      const [firstNext, firstPrev] = at(h + FIRST_SUBHEAP + 0x20);
      const first = Object.fromEntries(Object.entries(sizes(h + FIRST_SUBHEAP, h + WINE_HEAP_SIZE)).map(([o, v]) => [FIRST_SUBHEAP + Number(o), v]));
      return [h, bytesWith(0x400, { ...SIGNATURE, [SUBHEAP_HEAD]: next, [SUBHEAP_HEAD + 8]: prev, ...first, [FIRST_SUBHEAP + 0x20]: firstNext, [FIRST_SUBHEAP + 0x28]: firstPrev })];
    }),
    ...segments.map(([base, size]): [number, Buffer] => {
      const [next, prev] = at(base + 0x20);
      return [base, bytesWith(HEADER_BYTES, { ...sizes(base, base + size), 0x20: next, 0x28: prev })];
    }),
    ...extra,
  ];
  const read = memory(writes);
  return { blocks, read, allocations: allocationsOf(blocks), headers: headersOf(blocks, read) };
}

/** A circular doubly linked list through the addresses, in order. */
function ring(...nodes: number[]): Map<number, [number, number]> {
  return new Map(nodes.map((n, i) => [n, [nodes[(i + 1) % nodes.length], nodes[(i + nodes.length - 1) % nodes.length]]]));
}

test("Wine's subheaps (further segments without a signature) are Heap when their list closes through their heap's header", () => {
  const heap = 0x340000;
  const space = wineSubheapSpace({
    heaps: [heap],
    segments: [[0x10a0000, 0x400000], [0x14a0000, 0x800000], [0x2000000, 0x100000]],
    // Newest first, as Wine adds them; 0x2000000 is on no list.
    links: ring(heap + SUBHEAP_HEAD, 0x14a0020, 0x10a0020, heap + FIRST_SUBHEAP + 0x20),
  });
  const found = findHeaps({ pebHeaps: [], processHeap: heap, ...space });
  const claim = (base: number) => found.claims.get(base);
  assert.deepEqual(claim(heap), { type: 'heap', details: 'process heap 00340000', method: 'exact' });
  for (const segment of [0x10a0000, 0x14a0000]) assert.deepEqual(claim(segment), { type: 'heap', details: 'heap 00340000 segment', method: 'heuristic' });
  assert.equal(claim(0x2000000), undefined);
  // Classified whole: the reserved rest of a subheap is Heap too.
  const blocks = [block(0x10a0000, 0x3d0000, MEM_COMMIT, MEM_PRIVATE), block(0x1470000, 0x30000, MEM_RESERVE, MEM_PRIVATE, 0, 0x10a0000)];
  const regions = classifyBlocks({ blocks, files: new Map(), claims: found.claims });
  assert.deepEqual(regions.map((r) => [r.type, r.details]), [['heap', 'heap 00340000 segment'], ['heap', 'heap 00340000 segment']]);
});

test('chance patterns are no subheaps: stale copies, a wrong back link, sizes that do not fit, no first SUBHEAP, another heap, two heads, memset', () => {
  const [a, b] = [0x340000, 0xc80000];
  const [s1, s2] = [0x10a0000, 0x14a0000];
  const segments: [number, number][] = [[s1, 0x400000], [s2, 0x800000]];
  const cases: { name: string; links: Map<number, [number, number]>; blockSize?: Map<number, number>; extra?: [number, Buffer][]; claimed: number[] }[] = [
    { name: 'the valid list (for comparison)', links: ring(a + SUBHEAP_HEAD, s2 + 0x20, s1 + 0x20, a + FIRST_SUBHEAP + 0x20), claimed: [s1, s2] },
    // s2 holds a copy of s1's links (as after a memcpy of its header): forward to a's first SUBHEAP, whose back link
    // says s1, not s2.
    {
      name: 'a stale copy of a valid SUBHEAP',
      links: new Map([...ring(a + SUBHEAP_HEAD, s1 + 0x20, a + FIRST_SUBHEAP + 0x20), [s2 + 0x20, [a + FIRST_SUBHEAP + 0x20, a + SUBHEAP_HEAD]]]),
      claimed: [s1],
    },
    {
      name: 'forward links that close, a back link that does not agree',
      links: new Map([...ring(a + SUBHEAP_HEAD, s1 + 0x20, a + FIRST_SUBHEAP + 0x20), [s1 + 0x20, [a + FIRST_SUBHEAP + 0x20, s2 + 0x20]]]),
      claimed: [],
    },
    { name: 'a block_size that does not reach the allocation end', links: ring(a + SUBHEAP_HEAD, s2 + 0x20, s1 + 0x20, a + FIRST_SUBHEAP + 0x20), blockSize: new Map([[s1, 0x400000 - 0x38 - 0x10000]]), claimed: [] },
    { name: "a first SUBHEAP whose sizes do not fit its heap's allocation", links: ring(a + SUBHEAP_HEAD, s1 + 0x20, a + FIRST_SUBHEAP + 0x20), blockSize: new Map([[a + FIRST_SUBHEAP, 0x1000]]), claimed: [] },
    { name: 'a list through a head but no first SUBHEAP', links: ring(a + SUBHEAP_HEAD, s2 + 0x20, s1 + 0x20), claimed: [] },
    { name: "a list through a's head and b's first SUBHEAP", links: ring(a + SUBHEAP_HEAD, s1 + 0x20, b + FIRST_SUBHEAP + 0x20), claimed: [] },
    { name: 'a list through two heads', links: ring(a + SUBHEAP_HEAD, s1 + 0x20, b + SUBHEAP_HEAD, a + FIRST_SUBHEAP + 0x20), claimed: [] },
    { name: 'a cycle through no heap', links: ring(s1 + 0x20, s2 + 0x20), claimed: [] },
    { name: 'memset(3)', links: new Map(), extra: [[0x3000000, Buffer.alloc(HEADER_BYTES, 3)]], claimed: [] },
  ];
  for (const { name, links, blockSize, extra, claimed } of cases) {
    const space = wineSubheapSpace({ heaps: [a, b], segments, links, blockSize, extra });
    const found = findHeaps({ pebHeaps: [], processHeap: a, ...space });
    const segmentsFound = [...found.claims].filter(([, c]) => c.details.endsWith(' segment')).map(([base]) => base);
    assert.deepEqual(segmentsFound.sort((x, y) => x - y), claimed, name);
    assert.deepEqual(found.heaps.sort((x, y) => x - y), [a, b], name);
  }
});

test('an empty heap list and no signature: nothing found, and the collector can say so', () => {
  const blocks = [block(0x100000, 0x10000, MEM_COMMIT, MEM_PRIVATE)];
  const read = memory([[0x100000, Buffer.alloc(HEADER_BYTES, 7)]]);
  const found = findHeaps({ pebHeaps: [], processHeap: 0, allocations: allocationsOf(blocks), headers: headersOf(blocks, read), read });
  assert.deepEqual([found.heaps, found.claims.size, found.source], [[], 0, 'signature']);
});

test('V8 pages: a consistent header counts; a wrong size, an area outside, or a Heap pointer to nowhere does not', () => {
  const base = 0x7000000000;
  const blocks = [
    block(0x1000000, MiB, MEM_COMMIT, MEM_PRIVATE), // where the Heap object lives
    block(base, 0x40000, MEM_COMMIT, MEM_PRIVATE), // regular page
    block(base + 0x40000, 0x250000, MEM_COMMIT, MEM_PRIVATE), // large object page: 0x24c000 rounded up to 64 KiB
    block(base + 0x300000, 0x40000, MEM_COMMIT, MEM_PRIVATE), // size says 128 KiB
    block(base + 0x340000, 0x40000, MEM_COMMIT, MEM_PRIVATE), // area end past the page
    block(base + 0x380000, 0x40000, MEM_COMMIT, MEM_PRIVATE), // Heap* in no allocation
    block(base + 0x3d0000, 0x40000, MEM_COMMIT, MEM_PRIVATE), // not 256 KiB-aligned
  ];
  const page = (at: number, size: number, heap: number, areaEnd: number) => [at, bytesWith(HEADER_BYTES, { 0: size, 8: 4, 16: heap, 24: at + 0x1148, 32: areaEnd })] as [number, Buffer];
  const read = memory([
    page(base, 0x40000, 0x1000100, base + 0x40000),
    page(base + 0x40000, 0x24c000, 0x1000100, base + 0x40000 + 0x24b058),
    page(base + 0x300000, 0x20000, 0x1000100, base + 0x320000),
    page(base + 0x340000, 0x40000, 0x1000100, base + 0x390000),
    page(base + 0x380000, 0x40000, 0x5000000, base + 0x3c0000),
    page(base + 0x3d0000, 0x40000, 0x1000100, base + 0x410000),
  ]);
  const allocations = allocationsOf(blocks);
  const claims = v8Claims(allocations, headersOf(blocks, read));
  assert.deepEqual([...claims.keys()], [base, base + 0x40000]);
});

test('.NET is noticed by its runtime module, never guessed', () => {
  assert.equal(clrModule(['C:\\Windows\\System32\\ntdll.dll', 'C:\\Program Files\\dotnet\\shared\\Microsoft.NETCore.App\\8.0.1\\coreclr.dll']), 'C:\\Program Files\\dotnet\\shared\\Microsoft.NETCore.App\\8.0.1\\coreclr.dll');
  assert.equal(clrModule(['C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\clr.dll']), 'C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\clr.dll');
  assert.equal(clrModule(['C:\\app\\myclr.dll', 'C:\\app\\node.exe']), undefined);
});

test('stacks: by DeallocationStack, else the allocation holding StackLimit; a TEB pointing elsewhere claims nothing', () => {
  const blocks = [
    block(0x20000, 0x1000, MEM_RESERVE, MEM_PRIVATE),
    block(0x21000, 0x1ff000, MEM_COMMIT, MEM_PRIVATE, RW, 0x20000),
    block(0x400000, 0x100000, MEM_RESERVE, MEM_PRIVATE),
    block(0x500000, 0x10000, MEM_COMMIT, MEM_IMAGE, RO),
  ];
  const claims = stackClaims(
    [
      { tid: 1, stackBase: 0x220000, stackLimit: 0x21000, deallocationStack: 0x20000 },
      { tid: 2, stackBase: 0x500000, stackLimit: 0x4f0000, deallocationStack: 0 },
      { tid: 3, stackBase: 0x510000, stackLimit: 0x505000, deallocationStack: 0 },
    ],
    allocationsOf(blocks),
  );
  assert.deepEqual([...claims], [
    [0x20000, { type: 'stack', details: '[thread 1 stack]', method: 'exact' }],
    [0x400000, { type: 'stack', details: '[thread 2 stack]', method: 'exact' }],
  ]);
});

test('free space, and Unusable: the rest of a 64 KiB granule after an allocation', () => {
  const { free, unusable } = freeSpace(WALK, 0x10000, 0x7ffffffeffff + 1, 0x10000);
  // Free: 0x12000-0x20000 (all of it unusable), 0x6ae80000-0x140000000, the space above the image.
  assert.equal(free.blocks, 3);
  assert.equal(free.size, 0xe000 + (0x140000000 - 0x6ae80000) + (0x7fffffff0000 - 0x140007000));
  assert.equal(free.largest, 0x7fffffff0000 - 0x140007000);
  // 0x12000 → 0x20000 (0xe000) and 0x140007000 → 0x140010000 (0x9000); 0x6ae80000 starts on a boundary.
  assert.deepEqual(unusable, { size: 0xe000 + 0x9000, blocks: 2 });
  // Nothing below the lowest application address counts.
  assert.equal(freeSpace([block(0, 0x10000, MEM_FREE, 0)], 0x10000, 0x20000, 0x10000).free.size, 0);
});

test('working set from QueryWorkingSetEx attributes: valid, shared, share count, locked; Private by type', () => {
  const blocks = [
    block(0x10000, 0x3000, MEM_COMMIT, MEM_IMAGE, RX),
    block(0x20000, 0x2000, MEM_COMMIT, MEM_PRIVATE),
    block(0x30000, 0x1000, MEM_RESERVE, MEM_PRIVATE),
  ];
  const pageSize = 0x1000;
  assert.deepEqual([...committedPages(blocks, pageSize)], [0x10000, 0x11000, 0x12000, 0x20000, 0x21000]);
  const VALID = 1;
  const SHARED = 1 << 15;
  const shareCount = (n: number) => n << 1;
  const LOCKED = 1 << 22;
  // Image: shared by 3 processes; shared by this one only; private (copy-on-write done). Private: locked; not resident.
  const attributes = Uint32Array.from([VALID | SHARED | shareCount(3), VALID | SHARED | shareCount(1), VALID, VALID | LOCKED, 0]);
  const [image, privateBlock, reserved] = usageFromPages(blocks, attributes, pageSize);
  assert.deepEqual(image, { private: 0x1000, totalWs: 0x3000, privateWs: 0x1000, shareableWs: 0x2000, sharedWs: 0x1000, lockedWs: 0 });
  assert.deepEqual(privateBlock, { private: 0x2000, totalWs: 0x1000, privateWs: 0x1000, shareableWs: 0, sharedWs: 0, lockedWs: 0x1000 });
  assert.deepEqual(reserved, { private: 0, totalWs: 0, privateWs: 0, shareableWs: 0, sharedWs: 0, lockedWs: 0 });
  assert.deepEqual(decodePageAttributes(0x41), { valid: true, shareCount: 0, shared: false, locked: false });
  // Totals: per type, and Total sums the mapped types.
  const regions = classifyBlocks({ blocks, files: new Map(), claims: new Map(), usage: (_, i) => [image, privateBlock, reserved][i] });
  const summary = summarize(regions, undefined, { size: 0, blocks: 0, largest: 0 });
  assert.equal(summary.types.image.totalWs, 0x3000);
  assert.equal(summary.types.private.committed, 0x2000);
  assert.equal(summary.types.private.size, 0x3000);
  assert.equal(summary.total.totalWs, 0x4000);
});

test('protections are written like /proc maps, with Windows modifiers', () => {
  assert.equal(formatProtection(MEM_COMMIT, 0x04), 'rw-');
  assert.equal(formatProtection(MEM_COMMIT, 0x80), 'rcx');
  assert.equal(formatProtection(MEM_COMMIT, 0x104), 'rw-+guard');
  assert.equal(formatProtection(MEM_COMMIT, 0x01), '---');
  assert.equal(formatProtection(MEM_RESERVE, 0), 'reserved');
});

test('device paths become drive paths', () => {
  const devices = new Map([
    ['C:', '\\Device\\HarddiskVolume1'],
    ['D:', '\\Device\\HarddiskVolume10'],
    ['E:', '\\Device\\HarddiskVolume1\\Mounted'],
  ]);
  assert.equal(toDrivePath('\\Device\\HarddiskVolume1\\Windows\\System32\\ntdll.dll', devices), 'C:\\Windows\\System32\\ntdll.dll');
  assert.equal(toDrivePath('\\Device\\HarddiskVolume10\\data\\x.bin', devices), 'D:\\data\\x.bin');
  assert.equal(toDrivePath('\\device\\harddiskvolume1\\a.dll', devices), 'C:\\a.dll');
  // The longest device wins.
  assert.equal(toDrivePath('\\Device\\HarddiskVolume1\\Mounted\\b.dll', devices), 'E:\\b.dll');
  // What Wine gives.
  assert.equal(toDrivePath('\\??\\C:\\windows\\system32\\kernel32.dll', devices), 'C:\\windows\\system32\\kernel32.dll');
  assert.equal(toDrivePath('\\\\?\\Z:\\tmp\\a.exe', devices), 'Z:\\tmp\\a.exe');
  // No drive letter for it: left as the kernel says.
  assert.equal(toDrivePath('\\Device\\Mup\\server\\share\\c.dll', devices), '\\Device\\Mup\\server\\share\\c.dll');
});

test('command lines split as the C runtime splits them', () => {
  assert.deepEqual(splitCommandLine('"C:\\Program Files\\nodejs\\node.exe" server.js --port 8080'), ['C:\\Program Files\\nodejs\\node.exe', 'server.js', '--port', '8080']);
  assert.deepEqual(splitCommandLine('a.exe "a b" c\\"d e\\\\"f g" h\\\\\\"i j\\k'), ['a.exe', 'a b', 'c"d', 'e\\f g', 'h\\"i', 'j\\k']);
  assert.deepEqual(splitCommandLine('C:\\dir\\a.exe   x\t"" "with ""inner"" quote"'), ['C:\\dir\\a.exe', 'x', '', 'with "inner" quote']);
  assert.deepEqual(splitCommandLine(''), []);
});

test('structures decode at their x64 offsets', () => {
  const mbi = bytesWith(48, { 0: 0x22000, 8: 0x20000, 24: 0x1fe000 });
  mbi.writeUInt32LE(RW, 16);
  mbi.writeUInt32LE(MEM_COMMIT, 32);
  mbi.writeUInt32LE(RW | 0x100, 36);
  mbi.writeUInt32LE(MEM_PRIVATE, 40);
  assert.deepEqual(decodeMemoryBlock(mbi), { base: 0x22000, allocationBase: 0x20000, allocationProtect: RW, size: 0x1fe000, state: MEM_COMMIT, protect: RW | 0x100, type: MEM_PRIVATE });
  const peb = bytesWith(0xf8, { 0x20: 0x5000, 0x30: 0x340000, 0xe8: [3, 4], 0xf0: 0x7000 });
  assert.deepEqual(decodePeb(peb), { processHeap: 0x340000, numberOfHeaps: 3, processHeaps: 0x7000, processParameters: 0x5000 });
  const entry = Buffer.alloc(PROCESSENTRY32W_SIZE);
  entry.writeUInt32LE(4242, 8);
  entry.writeUInt32LE(7, 28);
  entry.writeUInt32LE(100, 32);
  entry.write('node.exe', 44, 'utf16le');
  assert.deepEqual(decodeProcessEntry(entry), { pid: 4242, threads: 7, parentPid: 100, exeFile: 'node.exe' });
  assert.equal(fileTimeToIso(116444736000000000n), '1970-01-01T00:00:00.000Z');
  // 2000-01-01 is 125,911,584,000,000,000 ticks after 1601-01-01; 1234 ticks more is 123.4 µs, cut to the ms.
  assert.equal(fileTimeToIso(125911584000001234n), '2000-01-01T00:00:00.000Z');
  assert.equal(fileTimeToIso(125911584000000000n + 7_890_000n), '2000-01-01T00:00:00.789Z');
});
