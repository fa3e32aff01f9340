/**
 * Maps /proc mappings to VMMap's memory types (rules in ../shared/NOTES.md §2). Pure: everything it needs
 * (mappings, thread stack pointers, managed-heap ranges found elsewhere, what ELF files and chunk headers say)
 * comes in as arguments. A mapping can become several regions: an image's .bss and what the kernel merged after
 * it, glibc's mmapped chunks and the other memory around them.
 */
import { indexContaining } from '../summary.js';
import type { Method, Region, RegionUsage } from '../types.js';
import type { ChunkRun } from './glibc-chunks.js';
import type { Mapping, SmapsCounters } from './procfs.js';

export interface ThreadStackPointer {
  tid: number;
  /** Undefined when the thread was running or its syscall file could not be read. */
  sp: number | undefined;
}

/** An address range already known to belong to a managed runtime (e.g. the Java heap from hsperfdata). */
export interface ManagedRange {
  start: number;
  end: number;
  details: string;
  method: Method;
}

export interface ClassifyInput {
  mappings: Mapping[];
  /** One entry per thread; undefined when the task list itself could not be read. */
  threads: ThreadStackPointer[] | undefined;
  managedRanges: ManagedRange[];
  /**
   * Where the image of the file whose writable mapping is `data` ends in memory, .bss included (from its ELF
   * program headers); a string says why that is unknown.
   */
  imageEnd: (data: Mapping) => number | string;
  /** glibc's mmapped chunks in [start, end) of an anonymous rw-p mapping, read from the process's memory. */
  mmappedChunks: (start: number, end: number, mapping: Mapping) => ChunkRun[];
  /** Bytes in RAM or swap in each range (pieces of a cut mapping); undefined when that cannot be read. */
  residentBytes: (ranges: { start: number; end: number }[]) => number[] | undefined;
  /** The last sample's regions, handed out again where nothing they are made of changed. */
  reuse?: RegionReuse;
}

// glibc's HEAP_MAX_SIZE on 64-bit: each non-main arena heap is a reservation of exactly this size, aligned to it.
const ARENA_HEAP_SIZE = 64 * 1024 * 1024;
// pthread guard pages are one page by default; anything much larger below a rw-p region is some other reservation.
const MAX_GUARD_SIZE = 1024 * 1024;
const KERNEL_IMAGE_PATHS = new Set(['[vdso]', '[vvar]', '[vvar_vclock]', '[vsyscall]', '[uprobes]']);

type Classified = Pick<Region, 'type' | 'details' | 'method'>;
/** A part of a mapping, [start, end), and what it is. */
interface Piece extends Classified {
  start: number;
  end: number;
}

const isAnonymous = (m: Mapping) => m.inode === 0 && (m.path === '' || m.path.startsWith('[anon:'));
const isReservation = (m: Mapping) => m.perms.startsWith('---');
const adjacent = (below: Mapping | undefined, above: Mapping | undefined) =>
  below !== undefined && above !== undefined && below.end === above.start;

/** tmpfs/shmem objects: what Windows calls pagefile-backed sections. */
function isShmem(m: Mapping): boolean {
  const p = m.path;
  return (
    p.startsWith('/dev/zero') ||
    p.startsWith('/SYSV') ||
    p.startsWith('/dev/shm/') ||
    p.startsWith('/memfd:') ||
    p.startsWith('[anon_shmem:') ||
    (isAnonymous(m) && m.vmFlags?.has('sh') === true)
  );
}

/**
 * Indices of mappings that form glibc arena heaps: runs of adjacent anonymous rw-p/---p mappings that start on a
 * 64 MiB boundary and end on one (several heaps can merge into one VMA). With smaps we also require MAP_NORESERVE
 * (`nr`), which glibc sets and e.g. Go's heap arenas do not; V8's regions carry `dc` and are excluded.
 */
function findArenaHeaps(mappings: Mapping[]): Set<number> {
  const found = new Set<number>();
  const looksLikeArenaPart = (m: Mapping) =>
    isAnonymous(m) &&
    (m.perms === 'rw-p' || m.perms === '---p') &&
    (m.vmFlags === undefined || (m.vmFlags.has('nr') && !m.vmFlags.has('dc')));
  for (let i = 0; i < mappings.length; i++) {
    const first = mappings[i];
    if (first.start % ARENA_HEAP_SIZE !== 0 || first.perms !== 'rw-p' || !looksLikeArenaPart(first)) continue;
    let j = i;
    while (mappings[j].end % ARENA_HEAP_SIZE !== 0) {
      const next = mappings[j + 1];
      if (!adjacent(mappings[j], next) || !looksLikeArenaPart(next)) break;
      j++;
    }
    if (mappings[j].end % ARENA_HEAP_SIZE !== 0) continue;
    for (let k = i; k <= j; k++) found.add(k);
    i = j;
  }
  return found;
}

/** V8 allocates its heap pages with MADV_DONTFORK (`dc`) and MAP_NORESERVE (`nr`); nothing else in a Node process does. */
const isV8Heap = (m: Mapping) => isAnonymous(m) && m.vmFlags?.has('dc') === true && m.vmFlags.has('nr');

/**
 * Classifies every mapping. Order matters: kernel pseudo-mappings, shmem and files first (facts), then ranges
 * known from a runtime, glibc arenas and V8 pages (layout patterns), thread stacks; in what is left, glibc's
 * mmapped chunks are Heap and the rest is Private.
 */
export function classifyMappings(input: ClassifyInput): Region[] {
  const { mappings, threads, managedRanges } = input;
  const executableFiles = new Set(mappings.filter((m) => m.inode !== 0 && m.perms[2] === 'x').map(fileKey));
  const arenaHeaps = findArenaHeaps(mappings);
  /** The .bss of a binary or library is anonymous memory right after its writable data segment: where it ends. */
  const imageAfter = (i: number): number | string | undefined => {
    const [previous, m] = [mappings[i - 1], mappings[i]];
    if (m.perms !== 'rw-p' || !adjacent(previous, m) || previous.inode === 0 || previous.perms[1] !== 'w' ||
      !executableFiles.has(fileKey(previous))) return undefined;
    return input.imageEnd(previous);
  };
  // Mappings that begin with an image's .bss and go on past it (the kernel merged other memory in): where it ends.
  const bssEnds = new Map<number, number>();
  const result: (Classified | undefined)[] = mappings.map((m, i) => {
    if (KERNEL_IMAGE_PATHS.has(m.path)) return { type: 'image', details: m.path, method: 'exact' };
    if (isShmem(m)) return { type: 'shareable', details: m.path || 'shared anonymous', method: 'exact' };
    // Before files: a JVM maps its CDS archive (classes.jsa) privately inside the Java heap.
    const managed = m.perms[3] === 'p' ? managedRanges.find((r) => mostlyInside(m, r)) : undefined;
    if (managed) return { type: 'managedHeap', details: managed.details, method: managed.method };
    if (m.inode !== 0 || m.path.startsWith('/')) {
      const image = executableFiles.has(fileKey(m));
      return { type: image ? 'image' : 'mappedFile', details: m.path, method: 'exact' };
    }
    const bssEnd = imageAfter(i);
    if (typeof bssEnd === 'number' && bssEnd > m.start) {
      if (bssEnd >= m.end) return { type: 'image', details: `${mappings[i - 1].path} (.bss)`, method: 'exact' };
      bssEnds.set(i, bssEnd);
    }
    if (m.path === '[heap]') return { type: 'heap', details: '[heap]', method: 'exact' };
    if (m.path === '[stack]') return { type: 'stack', details: '[stack] main thread', method: 'exact' };
    if (arenaHeaps.has(i)) return { type: 'heap', details: 'glibc arena', method: 'heuristic' };
    if (isV8Heap(m)) return { type: 'managedHeap', details: 'V8 heap', method: 'heuristic' };
    // An ELF file that could not be read: the whole mapping is taken for its .bss, as the layout suggests.
    if (typeof bssEnd === 'string') return { type: 'image', details: `${mappings[i - 1].path} (.bss, not bounded: ${bssEnd})`, method: 'heuristic' };
    return undefined;
  });

  markThreadStacks(mappings, threads, result);

  const allocator = otherAllocator(mappings);
  const regions: Region[] = [];
  mappings.forEach((m, i) => {
    const bssEnd = bssEnds.get(i);
    const from = bssEnd ?? m.start;
    const classified = result[i];
    const rest: Piece[] = classified
      ? [{ start: from, end: m.end, type: classified.type, details: classified.details, method: classified.method }]
      : unclassifiedPieces(m, from, input.mmappedChunks, allocator);
    const c = m.counters;
    if (bssEnd === undefined && rest.length === 1) {
      regions.push(input.reuse ? input.reuse.wholeRegion(m, rest[0]) : wholeRegion(m, rest[0]));
      return;
    }
    const pieces: Piece[] = bssEnd === undefined ? rest : [{ start: m.start, end: bssEnd, type: 'image', details: `${mappings[i - 1].path} (.bss)`, method: 'exact' }, ...rest];
    const usage = c && cutUsage(c, pieces, input.residentBytes);
    pieces.forEach((piece, k) => regions.push(regionOf(m, piece, piece, usage?.[k])));
  });
  return regions;
}

/**
 * What no rule claimed, from `from` to the mapping's end: glibc's mmapped chunks are Heap, the rest Private. When
 * the process uses another malloc, its memory cannot be told apart: the Private pieces say so and are heuristic.
 */
function unclassifiedPieces(m: Mapping, from: number, mmappedChunks: ClassifyInput['mmappedChunks'], allocator: string | undefined): Piece[] {
  const toldApart = !(allocator && m.path === '');
  // Object literals, not spreads of a shared part: this runs for most mappings, every tick.
  const other = (start: number, end: number): Piece => toldApart
    ? { start, end, type: 'private', details: m.path, method: 'exact' }
    : { start, end, type: 'private', details: `anonymous (process uses ${allocator}: its memory is not told apart)`, method: 'heuristic' };
  const runs = m.perms === 'rw-p' && isAnonymous(m) ? mmappedChunks(from, m.end, m) : [];
  const pieces: Piece[] = [];
  let cursor = from;
  for (const run of runs) {
    if (run.start > cursor) pieces.push(other(cursor, run.start));
    const details = run.count === 1 ? 'glibc mmapped chunk' : `glibc mmapped chunks (${run.count})`;
    pieces.push({ start: run.start, end: run.end, type: 'heap', details, method: 'exact' });
    cursor = run.end;
  }
  if (cursor < m.end) pieces.push(other(cursor, m.end));
  return pieces;
}

// Allocators that replace malloc when their library is mapped; their memory is plain anonymous mappings.
const OTHER_ALLOCATOR = /\/lib(jemalloc|tcmalloc|mimalloc)[^/]*\.so[^/]*$/;

function otherAllocator(mappings: Mapping[]): string | undefined {
  for (const m of mappings) {
    // Every name the pattern takes ends in "malloc": a plain substring test first spares the regex on each path.
    if (!m.path.includes('malloc')) continue;
    const match = OTHER_ALLOCATOR.exec(m.path);
    if (match) return match[1];
  }
  return undefined;
}

const hexAddress = (address: number) => address.toString(16).padStart(8, '0');

/**
 * The working-set numbers of the pieces of a cut mapping. smaps counts per mapping: each counter is shared out in
 * proportion to the pieces' resident bytes, so the pieces add up to the mapping's counters exactly. pagemap is read
 * for the smaller pieces only and the largest holds the rest of what smaps counted (walking a large run of chunks
 * every smaps tick cost as much as smaps itself); where pagemap cannot be read, in proportion to the sizes.
 */
function cutUsage(c: SmapsCounters, pieces: Piece[], residentBytes: ClassifyInput['residentBytes']): RegionUsage[] {
  const sizes = pieces.map((p) => p.end - p.start);
  const largest = sizes.indexOf(Math.max(...sizes));
  const resident = c.rss + c.swap;
  const others = pieces.filter((_, k) => k !== largest);
  const measured = resident > 0 ? residentBytes(others) : undefined;
  const rest = measured && Math.max(0, resident - measured.reduce((a, b) => a + b, 0));
  const weights = measured ? pieces.map((p, k) => (k === largest ? rest! : measured[others.indexOf(p)])) : sizes;
  const shares = (total: number) => shareOut(total, weights.some((w) => w > 0) ? weights : sizes);
  const privateWs = shares(c.anonymous);
  const shareableWs = shares(c.rss - c.anonymous);
  const privateBytes = shares(c.privateClean + c.privateDirty);
  const sharedWs = shares(c.sharedClean + c.sharedDirty);
  const lockedWs = shares(c.locked);
  return pieces.map((_, k) => ({
    private: privateBytes[k],
    totalWs: privateWs[k] + shareableWs[k],
    privateWs: privateWs[k],
    shareableWs: shareableWs[k],
    sharedWs: sharedWs[k],
    lockedWs: lockedWs[k],
  }));
}

/**
 * Shares `total` bytes out in proportion to `weights`, in whole kB (smaps' unit), the leftover kB to the largest
 * remainders: the shares add up to `total` exactly, and a piece of weight 0 gets 0.
 */
export function shareOut(total: number, weights: number[]): number[] {
  const units = total / 1024;
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (units * w) / sum);
  const shares = exact.map(Math.floor);
  let left = units - shares.reduce((a, b) => a + b, 0);
  const byRemainder = weights.map((_, k) => k).sort((a, b) => exact[b] - shares[b] - (exact[a] - shares[a]));
  for (const k of byRemainder) {
    if (left <= 0) break;
    shares[k]++;
    left--;
  }
  return shares.map((kB) => kB * 1024);
}

/** The region of a whole (uncut) mapping. */
const wholeRegion = (m: Mapping, c: Classified): Region => regionOf(m, c, undefined, m.counters && usageOf(m.counters));

/**
 * The regions of whole mappings at the last sample. A region that would be built again field for field
 * (same addresses, protection, classification, smaps counters) is handed out as the same object: most of a
 * process's mappings stay as they were from one tick to the next, and the summary and the store then see them
 * unchanged at a glance. Regions are never changed once made, so sharing them is safe.
 */
export class RegionReuse {
  /** Last sample's regions of whole mappings and their mappings' starts, in address order. */
  private last: Region[] = [];
  private lastStarts: number[] = [];
  private next: Region[] = [];
  private nextStarts: number[] = [];
  /** Mappings come in address order: each one's region is looked for from where the last one's was (no Map). */
  private cursor = 0;

  wholeRegion(m: Mapping, c: Classified): Region {
    const starts = this.lastStarts;
    while (this.cursor < starts.length && starts[this.cursor] < m.start) this.cursor++;
    const known = starts[this.cursor] === m.start ? this.last[this.cursor] : undefined;
    const region = known !== undefined && isWholeRegionOf(known, m, c) ? known : wholeRegion(m, c);
    this.next.push(region);
    this.nextStarts.push(m.start);
    return region;
  }

  /** Ends a sample: what it made is what the next one may reuse. */
  finish(): void {
    [this.last, this.lastStarts] = [this.next, this.nextStarts];
    [this.next, this.nextStarts] = [[], []];
    this.cursor = 0;
  }
}

/** Whether `r` has every field wholeRegion(m, c) would give it (committed follows from protection and size). */
function isWholeRegionOf(r: Region, m: Mapping, c: Classified): boolean {
  if (r.start !== m.startHex || r.end !== m.endHex || r.protection !== m.perms || r.size !== m.size ||
    r.type !== c.type || r.details !== c.details || r.method !== c.method) return false;
  const u = m.counters;
  if (u === undefined) return r.totalWs === undefined;
  return r.totalWs === u.rss && r.privateWs === u.anonymous && r.shareableWs === u.rss - u.anonymous &&
    r.private === u.privateClean + u.privateDirty && r.sharedWs === u.sharedClean + u.sharedDirty && r.lockedWs === u.locked;
}

/** A region: a whole mapping, or a piece of it, with its working-set numbers when smaps was read. */
function regionOf(m: Mapping, c: Classified, piece: Piece | undefined, usage: RegionUsage | undefined): Region {
  const size = piece ? piece.end - piece.start : m.size;
  const region: Region = {
    start: piece ? hexAddress(piece.start) : m.startHex,
    end: piece ? hexAddress(piece.end) : m.endHex,
    type: c.type,
    details: c.details,
    method: c.method,
    protection: m.perms,
    size,
    // Reserved (---) address space is not charged against the commit limit; everything else may be.
    committed: isReservation(m) ? 0 : size,
  };
  return usage ? Object.assign(region, usage) : region;
}

/**
 * Thread stacks: the mapping that holds each thread's stack pointer, plus its guard page just below. When some
 * thread's stack pointer is unknown (no ptrace permission, or it was running), every still-unclaimed rw-p anonymous
 * mapping directly above a small ---p guard is taken as a stack too, marked heuristic.
 */
function markThreadStacks(
  mappings: Mapping[],
  threads: ThreadStackPointer[] | undefined,
  result: (Classified | undefined)[],
): void {
  const claimStack = (i: number, details: string, method: Method) => {
    result[i] = { type: 'stack', details, method };
    const guard = mappings[i - 1];
    if (guard && adjacent(guard, mappings[i]) && isAnonymous(guard) && isReservation(guard) &&
      guard.size <= MAX_GUARD_SIZE && result[i - 1] === undefined) {
      result[i - 1] = { type: 'stack', details: `${details} guard`, method };
    }
  };
  for (const thread of threads ?? []) {
    if (thread.sp === undefined) continue;
    const i = indexContaining(mappings, thread.sp, (m) => m.start, (m) => m.end);
    if (i < 0) continue;
    const current = result[i];
    if (current === undefined) claimStack(i, `[thread ${thread.tid} stack]`, 'exact');
    else if (current.type === 'stack' && current.details === '[stack] main thread') current.details = `[stack] thread ${thread.tid}`;
  }
  const allKnown = threads !== undefined && threads.every((t) => t.sp !== undefined);
  if (allKnown) return;
  mappings.forEach((m, i) => {
    const below = mappings[i - 1];
    if (result[i] === undefined && m.perms === 'rw-p' && isAnonymous(m) && adjacent(below, m) &&
      isAnonymous(below) && isReservation(below) && below.size <= MAX_GUARD_SIZE && result[i - 1] === undefined) {
      claimStack(i, '[thread stack]', 'heuristic');
    }
  });
}

/**
 * A mapping that straddles a range's edge (the kernel merges neighbouring VMAs with equal flags) goes where most
 * of its bytes are; the per-mapping counters cannot be split.
 */
function mostlyInside(m: Mapping, r: ManagedRange): boolean {
  const overlap = Math.min(m.end, r.end) - Math.max(m.start, r.start);
  return overlap * 2 > m.size;
}

function fileKey(m: Mapping): string {
  return `${m.dev}:${m.inode}`;
}

/** VMMap's working-set columns from smaps counters. */
function usageOf(c: SmapsCounters): RegionUsage {
  return {
    private: c.privateClean + c.privateDirty,
    totalWs: c.rss,
    privateWs: c.anonymous,
    shareableWs: c.rss - c.anonymous,
    sharedWs: c.sharedClean + c.sharedDirty,
    lockedWs: c.locked,
  };
}
