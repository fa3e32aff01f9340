import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { imageEnd, parseLoadSegments } from '../src/collector/linux/elf.js';
import { readelfLoads } from './helpers/readelf.js';

const PAGE = 4096;
const fromBuffer = (file: Uint8Array) => (offset: number, length: number) => file.subarray(offset, offset + length);

/** A hand-made ELF64 file: header, then program headers of (type, flags, offset, vaddr, filesz, memsz). */
function elf(segments: [type: number, flags: number, offset: number, vaddr: number, filesz: number, memsz: number][], options: { little?: boolean; elfClass?: number } = {}): Buffer {
  const little = options.little ?? true;
  const file = Buffer.alloc(64 + 56 * segments.length);
  file.set([0x7f, 0x45, 0x4c, 0x46, options.elfClass ?? 2, little ? 1 : 2, 1]);
  const view = new DataView(file.buffer, file.byteOffset, file.length);
  view.setBigUint64(32, 64n, little); // e_phoff
  view.setUint16(54, 56, little); // e_phentsize
  view.setUint16(56, segments.length, little); // e_phnum
  segments.forEach(([type, flags, offset, vaddr, filesz, memsz], i) => {
    const at = 64 + 56 * i;
    view.setUint32(at, type, little);
    view.setUint32(at + 4, flags, little);
    view.setBigUint64(at + 8, BigInt(offset), little);
    view.setBigUint64(at + 16, BigInt(vaddr), little);
    view.setBigUint64(at + 32, BigInt(filesz), little);
    view.setBigUint64(at + 40, BigInt(memsz), little);
  });
  return file;
}

const R = 4;
const W = 2;
const X = 1;

test('the PT_LOAD segments of real files agree with readelf', () => {
  const libc = /\s(\/\S*\/libc\.so\.6)$/m.exec(readFileSync('/proc/self/maps', 'utf8'))![1];
  for (const path of ['/bin/true', libc]) {
    const file = readFileSync(path);
    assert.deepEqual(parseLoadSegments(fromBuffer(file)), readelfLoads(path), path);
  }
});

test('where this process\'s libc ends: from its data mapping, as from its first mapping and readelf', () => {
  const maps = readFileSync('/proc/self/maps', 'utf8').split('\n').filter(Boolean).map((line) => line.split(/\s+/));
  const range = (fields: string[]) => fields[0].split('-').map((h) => Number.parseInt(h, 16));
  const data = maps.findIndex((f) => f[1] === 'rw-p' && /\/libc\.so\.6$/.test(f[5] ?? ''));
  const path = maps[data][5];
  const [start, end] = range(maps[data]);
  const loads = parseLoadSegments(fromBuffer(readFileSync(path)));
  // The other way to the load bias: where the file's offset 0 is mapped, minus its first segment's page.
  const readelf = readelfLoads(path);
  const [first] = range(maps.find((f) => f[5] === path && Number.parseInt(f[2], 16) === 0)!);
  const bias = first - (readelf[0].vaddr - (readelf[0].vaddr % PAGE));
  const expected = Math.ceil((bias + Math.max(...readelf.map((l) => l.vaddr + l.memsz))) / PAGE) * PAGE;
  assert.equal(imageEnd(loads, { start, offset: Number.parseInt(maps[data][2], 16) }, PAGE), expected);
  // glibc's .bss has pages of its own: anonymous memory right after its data (which other memory may have joined).
  const [bssStart, bssEnd] = range(maps[data + 1]);
  assert.ok(bssStart === end && expected > end && expected <= bssEnd, `${expected.toString(16)} in ${maps[data + 1][0]}`);
});

test('imageEnd: the load bias comes from the writable mapping and the segment holding its file offset', () => {
  // Like /bin/true: the data segment starts mid-page at a vaddr one page above its file offset; RELRO covers its first page.
  const loads = parseLoadSegments(fromBuffer(elf([
    [1, R, 0, 0, 0x1290, 0x1290],
    [1, R | X, 0x2000, 0x2000, 0x3d59, 0x3d59],
    [1, R, 0x6000, 0x6000, 0x1b60, 0x1b60],
    [1, R | W, 0x7d70, 0x8d70, 0x470, 0x608],
    [0x6474e552, R, 0x7d70, 0x8d70, 0x290, 0x290], // PT_GNU_RELRO: not a load
  ])));
  assert.equal(loads.length, 4);
  const bias = 0x55d0c8a00000;
  // The rw-p mapping after RELRO's r--p page: file offset 0x8000 at vaddr page 0x9000.
  assert.equal(imageEnd(loads, { start: bias + 0x9000, offset: 0x8000 }, PAGE), bias + 0xa000);
  // The same segment seen from its first (RELRO) page gives the same end.
  assert.equal(imageEnd(loads, { start: bias + 0x8000, offset: 0x7000 }, PAGE), bias + 0xa000);
  // A mapping at an offset no writable segment holds is not this file's data.
  assert.equal(imageEnd(loads, { start: bias, offset: 0 }, PAGE), undefined);
  // A .bss of 8 MiB: the image ends 8 MiB (page-rounded) past the file's data.
  const big = parseLoadSegments(fromBuffer(elf([[1, R | X, 0, 0, 0x1000, 0x1000], [1, R | W, 0x1e10, 0x2e10, 0x220, 0x220 + 8 * 1024 * 1024]])));
  assert.equal(imageEnd(big, { start: 0x7f0000002000, offset: 0x1000 }, PAGE), 0x7f0000002000 + 0x1000 + 0x800000 + 0x1000);
});

test('parseLoadSegments reads big-endian files too, and says what is wrong with bad ones', () => {
  const segments: Parameters<typeof elf>[0] = [[1, R | W, 0x1000, 0x401000, 0x100, 0x3000]];
  assert.deepEqual(parseLoadSegments(fromBuffer(elf(segments, { little: false }))), [
    { offset: 0x1000, vaddr: 0x401000, filesz: 0x100, memsz: 0x3000, writable: true },
  ]);
  assert.throws(() => parseLoadSegments(fromBuffer(Buffer.from('#!/bin/sh\necho hello\n'.repeat(4)))), /^Error: not an ELF file$/);
  assert.throws(() => parseLoadSegments(fromBuffer(Buffer.alloc(10))), /not an ELF file/);
  assert.throws(() => parseLoadSegments(fromBuffer(elf(segments, { elfClass: 1 }))), /not a 64-bit ELF file/);
  assert.throws(() => parseLoadSegments(fromBuffer(elf(segments).subarray(0, 100))), /program headers past the end of the file/);
  assert.throws(() => parseLoadSegments(fromBuffer(elf([[6, R, 64, 64, 56, 56]]))), /no loadable segment/);
});
