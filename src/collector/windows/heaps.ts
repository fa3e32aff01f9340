/**
 * Finds the allocations of the user-mode heap manager (HeapCreate, HeapAlloc, malloc) among MEM_PRIVATE
 * allocations. Pure: the heap list from the PEB, the first bytes of every allocation and a reader of the process's
 * memory come in as arguments.
 *
 * - The heaps: the PEB's ProcessHeaps array (NumberOfHeaps entries) plus its ProcessHeap. Each heap handle is the
 *   base of the heap's first segment, an allocation of its own. Where the list is empty (Wine keeps none), the
 *   heaps are found by their segment signature instead (heuristic): an NT heap's segment header has 0xFFEEFFEE at
 *   offset 0x10 (Windows and Wine alike) and at 0x28 the heap it belongs to (the heap itself for its first segment;
 *   Wine leaves 0 there).
 * - Further segments of a growable heap: the same signature with a heap of the list at 0x28 (Windows).
 * - Further segments of a Wine heap ("subheaps", Wine 8 dlls/ntdll/heap.c), which carry no signature: each starts
 *   with a SUBHEAP (x64: block_size at 0x10, the bytes from its first block at 0x38 to the segment's end; data_size
 *   at 0x18, the committed bytes after the 0x40-byte SUBHEAP; its list entry at 0x20), linked into a circular doubly
 *   linked list whose head, `subheap_list`, lies in the heap's header (heap + 0x88), and which also holds the heap's
 *   own first SUBHEAP, embedded at the end of its header (heap + 0x330 in Wine 8.0). An allocation counts only when
 *   its block_size reaches exactly its end and that list, followed from it, closes on itself through exactly one
 *   head and exactly one first SUBHEAP (its sizes agreeing with its heap's allocation), both in the same known
 *   heap's header, with every back link agreeing. Heuristic: it reads Wine's private layout.
 * - Large blocks (allocations above the heap's virtual-alloc threshold, 512 KiB on x64 Windows, ~500 KiB on Wine):
 *   each is an allocation of its own whose header links it into a circular doubly linked list whose head lies in
 *   the heap's header (Windows: _HEAP_VIRTUAL_ALLOC_ENTRY, its LIST_ENTRY at offset 0; Wine 8: its `large_list`
 *   entry at offset 0x10). A block counts only when that list, followed from it, closes on itself through exactly
 *   one head inside a known heap's header, with every link's back pointer agreeing: a chance pattern in someone
 *   else's memory does not do that.
 * - A segment heap (Windows 10's other heap, signature 0xDDEEDDEE at 0x10): its first allocation only; its other
 *   segments have no header this reads, and stay Private (the details say so).
 */
import { MEM_PRIVATE } from './structs.js';
import type { Allocation, Claim } from './classify.js';

/** Bytes of each allocation's start the detectors look at (heap segment header, large block header, V8 page header). */
export const HEADER_BYTES = 0x30;

const SIGNATURE_OFFSET = 0x10;
const NT_HEAP_SIGNATURE = 0xffeeffee;
const SEGMENT_HEAP_SIGNATURE = 0xddeeddee;
const SEGMENT_HEAP_OFFSET = 0x28;
// Where a large block's list entry sits in its header: Windows, Wine.
const LARGE_ENTRY_OFFSETS = [0x0, 0x10];
// A heap's list heads lie in its header: _HEAP is ~0x2c0 bytes on Windows 10 x64, Wine 8's struct heap 0x370.
const HEAP_HEADER_WINDOW = 0x1000;
// Wine 8's SUBHEAP on x64: block_size, data_size, list entry; the first block follows at 0x38, data at 0x40.
const SUBHEAP_BLOCK_SIZE = 0x10;
const SUBHEAP_DATA_SIZE = 0x18;
const SUBHEAP_ENTRY = 0x20;
const SUBHEAP_FIRST_BLOCK = 0x38;
const SUBHEAP_SIZE = 0x40;
// Bounds the walk of one list (a heap with more large blocks than the process has allocations cannot be).
const MAX_LIST_LENGTH = 1_000_000;

/** Reads `length` bytes of the process's memory, or undefined when they cannot be read. */
export type ReadMemory = (address: number, length: number) => Buffer | undefined;

export interface HeapSearch {
  /** The PEB's heap list; undefined when the PEB could not be read. */
  pebHeaps: number[] | undefined;
  /** The PEB's ProcessHeap (the default heap), 0 when unknown. */
  processHeap: number;
  allocations: Allocation[];
  /** The first HEADER_BYTES of every MEM_PRIVATE allocation whose first page is committed and could be read. */
  headers: ReadonlyMap<number, Buffer>;
  read: ReadMemory;
}

export interface HeapsFound {
  claims: Map<number, Claim>;
  /** The heaps found (their bases). */
  heaps: number[];
  /** How: the PEB's list, or (the list being empty) segment signatures. */
  source: 'peb' | 'signature';
}

const u64 = (bytes: Buffer, offset: number) => Number(bytes.readBigUInt64LE(offset));
const hex = (address: number) => address.toString(16).padStart(8, '0');

export function findHeaps({ pebHeaps, processHeap, allocations, headers, read }: HeapSearch): HeapsFound {
  const heaps = new Map<number, Claim['method']>();
  const source = pebHeaps !== undefined && pebHeaps.length > 0 ? 'peb' : 'signature';
  for (const heap of pebHeaps ?? []) heaps.set(heap, 'exact');
  if (processHeap !== 0) heaps.set(processHeap, 'exact');
  if (source === 'signature') {
    for (const [base, header] of headers) {
      if (heaps.has(base) || header.length < HEADER_BYTES) continue;
      const signature = header.readUInt32LE(SIGNATURE_OFFSET);
      const owner = u64(header, SEGMENT_HEAP_OFFSET);
      if ((signature === NT_HEAP_SIGNATURE && (owner === 0 || owner === base)) || signature === SEGMENT_HEAP_SIGNATURE) heaps.set(base, 'heuristic');
    }
  }
  const claims = new Map<number, Claim>();
  for (const [heap, method] of heaps) {
    const header = headers.get(heap);
    const segmentHeap = header !== undefined && header.length >= HEADER_BYTES && header.readUInt32LE(SIGNATURE_OFFSET) === SEGMENT_HEAP_SIGNATURE;
    const what = heap === processHeap ? 'process heap' : 'heap';
    const details = segmentHeap ? `${what} ${hex(heap)} (segment heap: its other segments are in Private)` : `${what} ${hex(heap)}`;
    claims.set(heap, { type: 'heap', details, method });
  }
  for (const [base, header] of headers) {
    if (claims.has(base) || header.length < HEADER_BYTES || header.readUInt32LE(SIGNATURE_OFFSET) !== NT_HEAP_SIGNATURE) continue;
    const owner = u64(header, SEGMENT_HEAP_OFFSET);
    const method = heaps.get(owner);
    if (method) claims.set(base, { type: 'heap', details: `heap ${hex(owner)} segment`, method });
  }
  const heapBases = [...heaps.keys()].sort((a, b) => a - b);
  const heapOf = (address: number) => heapBases.find((h) => address >= h && address < h + HEAP_HEADER_WINDOW);
  const unclaimed = () => new Set(allocations.filter((a) => a.type === MEM_PRIVATE && headers.has(a.base) && !claims.has(a.base)).map((a) => a.base));
  for (const offset of LARGE_ENTRY_OFFSETS) {
    for (const [block, heap] of listedAllocations({ offset, candidates: unclaimed(), headers, read, heapOf })) {
      claims.set(block, { type: 'heap', details: `heap ${hex(heap)} large block`, method: heaps.get(heap)! });
    }
  }
  for (const [segment, heap] of wineSubheaps(allocations, unclaimed(), headers, read, heapOf)) {
    claims.set(segment, { type: 'heap', details: `heap ${hex(heap)} segment`, method: 'heuristic' });
  }
  return { claims, heaps: [...heaps.keys()], source };
}

/**
 * Wine's subheaps, as allocation base → heap base (see the module's comment): allocations whose SUBHEAP sizes fit
 * them exactly, on a list through one head and one embedded first SUBHEAP, both in one heap's header.
 */
function wineSubheaps(
  allocations: Allocation[],
  candidates: Set<number>,
  headers: ReadonlyMap<number, Buffer>,
  read: ReadMemory,
  heapOf: (address: number) => number | undefined,
): Map<number, number> {
  const ends = new Map(allocations.map((a) => [a.base, a.end]));
  // A SUBHEAP at `at` (its block_size and data_size in `sizes`) fits an allocation ending at `end`.
  const fits = (at: number, sizes: Buffer, end: number) =>
    at % 16 === 0 && at + SUBHEAP_FIRST_BLOCK + u64(sizes, 0) === end && at + SUBHEAP_SIZE + u64(sizes, SUBHEAP_DATA_SIZE - SUBHEAP_BLOCK_SIZE) <= end;
  for (const base of candidates) {
    const header = headers.get(base)!;
    if (header.length < SUBHEAP_ENTRY + 16 || !fits(base, header.subarray(SUBHEAP_BLOCK_SIZE), ends.get(base)!)) candidates.delete(base);
  }
  // The heap's first SUBHEAP, by the address of its list entry: inside the heap's header, its sizes reaching the end
  // of the heap's allocation. Read once per address.
  const firstOf = new Map<number, number | undefined>();
  const firstSubheap = (entry: number): number | undefined => {
    if (!firstOf.has(entry)) {
      const heap = heapOf(entry);
      const at = entry - SUBHEAP_ENTRY;
      const sizes = heap === undefined || at < heap ? undefined : read(at + SUBHEAP_BLOCK_SIZE, 16);
      const end = heap === undefined ? undefined : ends.get(heap);
      firstOf.set(entry, sizes?.length === 16 && end !== undefined && fits(at, sizes, end) ? heap : undefined);
    }
    return firstOf.get(entry);
  };
  return listedAllocations({ offset: SUBHEAP_ENTRY, candidates, headers, read, heapOf, firstSubheap });
}

/**
 * The allocations on validated lists, as allocation base → heap base: lists whose every node is a candidate
 * allocation (at the list entry's offset) but for exactly one head in a heap's header (and, where `firstSubheap` is
 * given, exactly one first SUBHEAP in that same heap's header). Links are read from the headers already read, other
 * nodes' from memory.
 */
function listedAllocations({
  offset,
  candidates,
  headers,
  read,
  heapOf,
  firstSubheap,
}: {
  offset: number;
  candidates: ReadonlySet<number>;
  headers: ReadonlyMap<number, Buffer>;
  read: ReadMemory;
  heapOf: (address: number) => number | undefined;
  firstSubheap?: (entry: number) => number | undefined;
}): Map<number, number> {
  const found = new Map<number, number>();
  const links = (node: number): [number, number] | undefined => {
    const header = headers.get(node - offset);
    if (header && candidates.has(node - offset)) return header.length >= offset + 16 ? [u64(header, offset), u64(header, offset + 8)] : undefined;
    const bytes = read(node, 16);
    return bytes && bytes.length === 16 ? [u64(bytes, 0), u64(bytes, 8)] : undefined;
  };
  const isCandidate = (address: number) => candidates.has(address - offset) && !found.has(address - offset);
  const isNode = (address: number) => isCandidate(address) || firstSubheap?.(address) !== undefined;
  for (const start of candidates) {
    if (found.has(start)) continue;
    const first = links(start + offset);
    // Cheap test before any read: both neighbours must be candidates or lie in a heap's header.
    if (!first || !first.every((n) => isCandidate(n) || heapOf(n) !== undefined)) continue;
    const list = walkList(start + offset, links, isNode, heapOf);
    if (!list) continue;
    const inHeader = list.nodes.filter((n) => !isCandidate(n));
    if (firstSubheap && (inHeader.length !== 1 || firstSubheap(inHeader[0]) !== list.heap)) continue;
    for (const node of list.nodes) if (isCandidate(node)) found.set(node - offset, list.heap);
  }
  return found;
}

/**
 * Follows forward links from `start` until it comes back. Every step's back link must point to where it came from;
 * every node must be a block, but for exactly one head inside a heap's header. Undefined when any of that fails.
 */
export function walkList(
  start: number,
  links: (node: number) => [number, number] | undefined,
  isNode: (address: number) => boolean,
  heapOf: (address: number) => number | undefined,
): { nodes: number[]; heap: number } | undefined {
  const nodes = [start];
  const seen = new Set(nodes);
  let heap: number | undefined;
  let current = start;
  for (let steps = 0; steps < MAX_LIST_LENGTH; steps++) {
    const next = links(current)?.[0];
    if (next === undefined || links(next)?.[1] !== current) return undefined;
    if (next === start) return heap === undefined ? undefined : { nodes, heap };
    if (seen.has(next)) return undefined;
    seen.add(next);
    if (isNode(next)) {
      nodes.push(next);
    } else {
      const owner = heapOf(next);
      if (owner === undefined || heap !== undefined) return undefined;
      heap = owner;
    }
    current = next;
  }
  return undefined;
}
