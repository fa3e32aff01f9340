/**
 * Finds a HotSpot JVM's Java heap in its mappings. The JVM publishes its heap sizes in the hsperfdata file it keeps
 * mapped (/tmp/hsperfdata_<user>/<pid>); the heap is the one address range of exactly the reserved size whose
 * rw-p bytes add up to exactly the committed size. Other reservations (class space, metaspace, arenas, G1 side
 * tables) have the same shape, so only that exact match is trusted.
 */
import { readFileSync } from 'node:fs';
import type { ManagedRange } from './classify.js';
import { javaHeapFromPerfdata, parseHsperfdata, type JavaHeapSizes } from './hsperfdata.js';
import type { Mapping } from './procfs.js';

const HSPERFDATA_PATH = /\/hsperfdata_[^/]+\/\d+( \(deleted\))?$/;
// HotSpot aligns the heap reservation to at least 2 MiB on x86-64 Linux.
const HEAP_ALIGNMENT = 2 * 1024 * 1024;

/** The JVM's perf data file, mapped for the JVM's whole life. */
export const isPerfdataMapping = (m: Mapping) => HSPERFDATA_PATH.test(m.path);

/**
 * Reads the perfdata file through the target's own view of the file system (/proc/PID/root: right inside
 * containers), or through map_files when /tmp was cleaned and the path is `(deleted)`.
 */
function readPerfdata(pid: number, mapping: Mapping): Buffer | undefined {
  const candidates = [`/proc/${pid}/map_files/${mapping.startHex}-${mapping.endHex}`];
  if (!mapping.path.endsWith(' (deleted)')) candidates.unshift(`/proc/${pid}/root${mapping.path}`);
  for (const file of candidates) {
    try {
      return readFileSync(file);
    } catch {
      // Not readable this way (permissions, race with exit): try the next way, else the heap stays unknown.
    }
  }
  return undefined;
}

/** Private, non-executable memory: what a heap range may consist of (G1 also maps CDS archive regions inside it). */
const mayBeHeap = (m: Mapping) => m.perms[3] === 'p' && m.perms[2] !== 'x';

/**
 * The start s of [s, s + reserved) covered without gaps by private, non-executable mappings, starting in an rw-p
 * mapping (the heap's bottom is always committed), whose rw-p bytes clipped to the range equal `committed`.
 * Candidates: each rw-p mapping's start rounded up to the alignment (the heap may share a VMA with a neighbour
 * below it), and each mapping end minus the reserved size.
 */
export function locateJavaHeap(mappings: Mapping[], { reservedBytes, committedBytes }: JavaHeapSizes): number | undefined {
  const candidates = new Set<number>();
  for (const m of mappings) {
    if (m.perms.startsWith('rw') && mayBeHeap(m)) {
      const aligned = Math.ceil(m.start / HEAP_ALIGNMENT) * HEAP_ALIGNMENT;
      if (aligned < m.end) candidates.add(aligned);
    }
    const fromEnd = m.end - reservedBytes;
    if (fromEnd > 0 && fromEnd % HEAP_ALIGNMENT === 0) candidates.add(fromEnd);
  }
  for (const start of candidates) {
    if (rwBytesIfCovered(mappings, start, start + reservedBytes) === committedBytes) return start;
  }
  return undefined;
}

/** rw-p bytes inside [start, end) if private non-executable mappings cover it without gaps, else undefined. */
function rwBytesIfCovered(mappings: Mapping[], start: number, end: number): number | undefined {
  let cursor = start;
  let rw = 0;
  for (const m of mappings) {
    if (m.end <= cursor) continue;
    if (m.start > cursor || !mayBeHeap(m)) return undefined;
    if (cursor === start && !m.perms.startsWith('rw')) return undefined;
    const clippedEnd = Math.min(m.end, end);
    if (m.perms.startsWith('rw')) rw += clippedEnd - cursor;
    cursor = clippedEnd;
    if (cursor >= end) return rw;
  }
  return undefined;
}

/** The Java heap of process `pid`, or undefined when it is not a HotSpot JVM with perf data (or it cannot be read). */
export function findJavaHeap(pid: number, mappings: Mapping[]): ManagedRange | undefined {
  const perfdataMapping = mappings.find(isPerfdataMapping);
  if (!perfdataMapping) return undefined;
  const buffer = readPerfdata(pid, perfdataMapping);
  if (!buffer) return undefined;
  let sizes: JavaHeapSizes | undefined;
  try {
    sizes = javaHeapFromPerfdata(parseHsperfdata(buffer));
  } catch {
    // A JVM still initialising its perf memory, or not HotSpot's format: no Java heap to report.
    return undefined;
  }
  if (!sizes) return undefined;
  const start = locateJavaHeap(mappings, sizes);
  return start === undefined ? undefined : { start, end: start + sizes.reservedBytes, details: 'Java heap', method: 'exact' };
}
