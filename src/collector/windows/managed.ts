/**
 * Managed heaps among MEM_PRIVATE allocations. Pure: allocations and their first bytes come in as arguments.
 *
 * V8 (node.exe, Electron): as on Linux, V8 takes its heap from the OS in pages of 256 KiB aligned to 256 KiB
 * (large objects: one page of their own, page-rounded, same alignment). On Windows each page is a VirtualAlloc of
 * its own, and begins with V8's page header (BasicMemoryChunk, V8 11 as in Node 20; seen under Wine): the page's
 * size (u64 at 0), flags (8), its Heap object (16), the start and end of its object area (24, 32). A page counts
 * when that header is consistent: the size fills the allocation (up to its 64 KiB rounding), the object area lies
 * inside it, and the Heap pointer points into a committed allocation of the process. It is a layout V8 keeps for
 * itself, so the method is heuristic, as on Linux. V8's code range (one large reservation whose code pages sit
 * inside it) has no header at its start and stays Private.
 *
 * .NET (coreclr.dll, clr.dll loaded): the GC's regions are not told apart. The runtime says where they are only
 * through its debugging interface (the DAC, mscordaccore.dll), which needs a native host; their address layout
 * (one large reservation at start) is shared by other reservations. So nothing is guessed: that memory stays in
 * Private, and the snapshot says so (`unseen.managedHeap`).
 */
import { MEM_PRIVATE } from './structs.js';
import type { Allocation, Claim } from './classify.js';
import { allocationContaining } from './classify.js';
import { HEADER_BYTES } from './heaps.js';

const V8_PAGE_ALIGNMENT = 256 * 1024;
const ALLOCATION_GRANULARITY = 64 * 1024;
const COMMIT_PAGE = 4096;
const u64 = (bytes: Buffer, offset: number) => Number(bytes.readBigUInt64LE(offset));

/** The MEM_PRIVATE allocations whose header reads as a V8 page's. */
export function v8Claims(allocations: Allocation[], headers: ReadonlyMap<number, Buffer>): Map<number, Claim> {
  const claims = new Map<number, Claim>();
  for (const a of allocations) {
    if (a.type !== MEM_PRIVATE || a.base % V8_PAGE_ALIGNMENT !== 0) continue;
    const header = headers.get(a.base);
    if (!header || header.length < HEADER_BYTES) continue;
    const [size, heap, areaStart, areaEnd] = [u64(header, 0), u64(header, 16), u64(header, 24), u64(header, 32)];
    const length = a.end - a.base;
    const fills = size > length - ALLOCATION_GRANULARITY && size <= length && size % COMMIT_PAGE === 0;
    const area = areaStart > a.base && areaStart < areaEnd && areaEnd <= a.base + size;
    const owner = heap !== 0 && heap % 8 === 0 ? allocationContaining(allocations, heap) : undefined;
    if (fills && area && owner !== undefined && owner.committed > 0) claims.set(a.base, { type: 'managedHeap', details: 'V8 heap', method: 'heuristic' });
  }
  return claims;
}

/** The .NET runtime module among the process's image files, if one is loaded. */
export function clrModule(imageFiles: Iterable<string>): string | undefined {
  for (const file of imageFiles) if (/(^|\\)(coreclr|clr)\.dll$/i.test(file)) return file;
  return undefined;
}
