/**
 * Pure reader of an ELF file's program headers: where each part of the file goes in memory, so the image of a
 * binary or library (its zero-filled .bss included) is bounded by what the file says, not by what lies next to it.
 */

/** A PT_LOAD program header: file bytes [offset, offset + filesz) go to [vaddr, vaddr + filesz), zeros up to memsz. */
export interface LoadSegment {
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  writable: boolean;
}

const ELF_HEADER_BYTES = 64;
const PROGRAM_HEADER_BYTES = 56;
const PT_LOAD = 1;
const PF_W = 2;

/**
 * The PT_LOAD segments of an ELF64 file, in file order. `read(offset, length)` gives the file's bytes there (fewer
 * at its end). Throws an Error saying what is wrong when the bytes are not a 64-bit ELF file with loadable segments.
 */
export function parseLoadSegments(read: (offset: number, length: number) => Uint8Array): LoadSegment[] {
  const header = read(0, ELF_HEADER_BYTES);
  if (header.length < ELF_HEADER_BYTES || header[0] !== 0x7f || header[1] !== 0x45 || header[2] !== 0x4c || header[3] !== 0x46) {
    throw new Error('not an ELF file');
  }
  if (header[4] !== 2) throw new Error('not a 64-bit ELF file');
  const little = header[5] === 1;
  const view = new DataView(header.buffer, header.byteOffset, header.length);
  const phoff = Number(view.getBigUint64(32, little));
  const phentsize = view.getUint16(54, little);
  const phnum = view.getUint16(56, little);
  if (phentsize < PROGRAM_HEADER_BYTES) throw new Error(`program header entries of ${phentsize} bytes`);
  const table = read(phoff, phentsize * phnum);
  if (table.length < phentsize * phnum) throw new Error('program headers past the end of the file');
  const entries = new DataView(table.buffer, table.byteOffset, table.length);
  const loads: LoadSegment[] = [];
  for (let at = 0; at < table.length; at += phentsize) {
    if (entries.getUint32(at, little) !== PT_LOAD) continue;
    loads.push({
      offset: Number(entries.getBigUint64(at + 8, little)),
      vaddr: Number(entries.getBigUint64(at + 16, little)),
      filesz: Number(entries.getBigUint64(at + 32, little)),
      memsz: Number(entries.getBigUint64(at + 40, little)),
      writable: (entries.getUint32(at + 4, little) & PF_W) !== 0,
    });
  }
  if (loads.length === 0) throw new Error('no loadable segment');
  return loads;
}

const pageDown = (n: number, page: number) => n - (n % page);
const pageUp = (n: number, page: number) => pageDown(n + page - 1, page);

/**
 * Where the image of a file ends in a process (its highest PT_LOAD's vaddr + memsz, .bss included, page-rounded
 * up), given one writable mapping of the file: the load bias is that mapping's address minus where the file says
 * its bytes go (the kernel and ld.so map each segment from page-aligned offset to page-aligned vaddr). Undefined
 * when no writable segment holds the mapping's file offset: then the mapping is not this file's data segment.
 */
export function imageEnd(loads: LoadSegment[], data: { start: number; offset: number }, pageSize: number): number | undefined {
  // The last one: a file page at a segment boundary can belong to two segments' file ranges.
  const segment = loads.filter((s) => s.writable && pageDown(s.offset, pageSize) <= data.offset && data.offset < s.offset + s.filesz).at(-1);
  if (!segment) return undefined;
  const bias = data.start - (pageDown(segment.vaddr, pageSize) + data.offset - pageDown(segment.offset, pageSize));
  return pageUp(bias + loads.reduce((end, s) => Math.max(end, s.vaddr + s.memsz), 0), pageSize);
}
