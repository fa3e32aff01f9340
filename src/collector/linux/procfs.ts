/**
 * Pure parsers for /proc files (man 5 proc). They take the file's text (or bytes) and never touch the file
 * system, so they are tested on fixture text as well as live.
 */

import { isAscii } from 'node:buffer';

/** One line of /proc/PID/maps, plus the smaps fields when the text came from smaps. */
export interface Mapping {
  startHex: string;
  endHex: string;
  /** Numeric addresses: exact below 2^53, i.e. everywhere in user space ([vsyscall] is the only exception). */
  start: number;
  end: number;
  size: number;
  perms: string;
  offset: number;
  /** `major:minor` of the backing device, `00:00` for anonymous memory. */
  dev: string;
  inode: number;
  /** File path or pseudo-path (`[heap]`, `[stack]`, `/memfd:x (deleted)`), '' for anonymous memory. */
  path: string;
  /** smaps only: the counters leakwatch uses, in bytes. */
  counters?: SmapsCounters;
  /** smaps only: the two-letter VmFlags (`rd wr mr mw me dc nr …`). */
  vmFlags?: Set<string>;
}

export interface SmapsCounters {
  rss: number;
  anonymous: number;
  sharedClean: number;
  sharedDirty: number;
  privateClean: number;
  privateDirty: number;
  locked: number;
  swap: number;
}

const zeroCounters = (): SmapsCounters => ({
  rss: 0,
  anonymous: 0,
  sharedClean: 0,
  sharedDirty: 0,
  privateClean: 0,
  privateDirty: 0,
  locked: 0,
  swap: 0,
});

const MAX_KB = Math.floor(Number.MAX_SAFE_INTEGER / 1024);

// 7f3c1a000000-7f3c1a021000 rw-p 00000000 00:00 0        [path]; numbers of 64 bits at most.
const MAPS_LINE = /^([0-9a-f]{1,16})-([0-9a-f]{1,16}) (\S{4}) ([0-9a-f]{1,16}) ([0-9a-f]{1,8}:[0-9a-f]{1,8}) (\d{1,20})(?: +(.*))?$/;

function parseMapsLine(line: string): Mapping | undefined {
  const m = MAPS_LINE.exec(line);
  if (!m) return undefined;
  const [, startHex, endHex, perms, offset, dev, inode, path] = m;
  const start = Number.parseInt(startHex, 16);
  const end = Number.parseInt(endHex, 16);
  // A mapping ending before it starts is not one (a negative size would be counted as memory).
  if (end < start) return undefined;
  return {
    startHex,
    endHex,
    start,
    end,
    // BigInt only where doubles are inexact (above 2^53: [vsyscall]); it is slow on every line of every tick.
    size: end <= Number.MAX_SAFE_INTEGER ? end - start : Number(BigInt(`0x${endHex}`) - BigInt(`0x${startHex}`)),
    perms,
    offset: Number.parseInt(offset, 16),
    dev,
    inode: Number(inode),
    path: path ?? '',
  };
}

/** Parses /proc/PID/maps. Lines that do not look like a mapping are an error: the format is fixed by the kernel ABI. */
export function parseMaps(text: string): Mapping[] {
  const bytes = Buffer.from(text, 'utf8');
  return scanMaps(bytes, bytes.length);
}

/**
 * Parses /proc/PID/smaps: a maps line per mapping followed by `Key:  value kB` lines and `VmFlags:`.
 * Only the counters leakwatch uses are kept (in bytes); a field missing from an older kernel stays 0.
 */
export function parseSmaps(text: string): Mapping[] {
  const bytes = Buffer.from(text, 'utf8');
  return scanSmaps(bytes, bytes.length);
}

// ---- the byte scanner: what a tick runs on the buffer the file was read into, with no string for the whole file ----

const NL = 0x0a;
const SPACE = 0x20;
const COLON = 0x3a;

/** The value of a lower-case hex digit, or -1 (MAPS_LINE's [0-9a-f]). */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

const ascii = (bytes: Buffer, from: number, to: number) => bytes.toString('latin1', from, to);

/** Text of bytes [from, to): latin1 when ASCII (no decoding work), else UTF-8 as the file's text would read. */
function textOf(bytes: Buffer, from: number, to: number): string {
  for (let i = from; i < to; i++) if (bytes[i] >= 0x80) return bytes.toString('utf8', from, to);
  return ascii(bytes, from, to);
}

// Small strings met on every line (perms, devices, paths, VmFlags) are kept once: no new string per mapping per tick.
const MAX_INTERNED = 4096;
const interned = new Map<string, string>();
const flagSets = new Map<string, Set<string>>();

function intern(value: string): string {
  const known = interned.get(value);
  if (known !== undefined) return known;
  if (interned.size >= MAX_INTERNED) interned.clear();
  interned.set(value, value);
  return value;
}

/** The VmFlags set of this text; the same object for the same text (sets are only read). */
function flagSet(text: string): Set<string> {
  let flags = flagSets.get(text);
  if (flags === undefined) {
    if (flagSets.size >= MAX_INTERNED) flagSets.clear();
    flags = new Set(text.split(' ').filter(Boolean));
    flagSets.set(text, flags);
  }
  return flags;
}

/**
 * The mapping of the line [from, eol), scanned byte by byte; undefined when the line does not match MAPS_LINE
 * exactly as the regex would. Lines the scanner does not take (non-ASCII, control characters, numbers past 13 hex
 * or 15 decimal digits) go to the regex on the decoded line, which has the last word.
 */
function scanMapsLine(bytes: Buffer, from: number, eol: number): Mapping | undefined {
  const slow = () => parseMapsLine(bytes.toString('utf8', from, eol));
  let i = from;
  // start-end
  let start = 0;
  const startFrom = i;
  for (let d; i < eol && (d = hexDigit(bytes[i])) >= 0; i++) start = start * 16 + d;
  const startDigits = i - startFrom;
  if (startDigits === 0 || startDigits > 13 || i >= eol || bytes[i] !== 0x2d) return slow();
  i++;
  let end = 0;
  const endFrom = i;
  for (let d; i < eol && (d = hexDigit(bytes[i])) >= 0; i++) end = end * 16 + d;
  const endDigits = i - endFrom;
  if (endDigits === 0 || endDigits > 13 || i >= eol || bytes[i] !== SPACE) return slow();
  i++;
  // perms: four printable ASCII characters
  const permsFrom = i;
  for (; i < permsFrom + 4; i++) if (i >= eol || bytes[i] <= SPACE || bytes[i] >= 0x7f) return slow();
  if (i >= eol || bytes[i] !== SPACE) return slow();
  i++;
  let offset = 0;
  const offsetFrom = i;
  for (let d; i < eol && (d = hexDigit(bytes[i])) >= 0; i++) offset = offset * 16 + d;
  if (i === offsetFrom || i - offsetFrom > 13 || i >= eol || bytes[i] !== SPACE) return slow();
  i++;
  // dev: major:minor, 1-8 hex digits each
  const devFrom = i;
  while (i < eol && hexDigit(bytes[i]) >= 0) i++;
  if (i === devFrom || i - devFrom > 8 || i >= eol || bytes[i] !== COLON) return slow();
  const minorFrom = ++i;
  while (i < eol && hexDigit(bytes[i]) >= 0) i++;
  if (i === minorFrom || i - minorFrom > 8 || (i < eol && bytes[i] !== SPACE)) return slow();
  if (i >= eol) return undefined;
  const devTo = i++;
  let inode = 0;
  const inodeFrom = i;
  for (; i < eol && bytes[i] >= 48 && bytes[i] <= 57; i++) inode = inode * 10 + (bytes[i] - 48);
  if (i === inodeFrom || i - inodeFrom > 15 || (i < eol && bytes[i] !== SPACE)) return slow();
  // path: after the run of spaces, the rest of the line (`.` of the regex: no CR, nothing non-ASCII here)
  while (i < eol && bytes[i] === SPACE) i++;
  for (let k = i; k < eol; k++) if (bytes[k] < SPACE || bytes[k] >= 0x7f) return slow();
  // A mapping ending before it starts is not one (a negative size would be counted as memory).
  if (end < start) return undefined;
  return {
    startHex: ascii(bytes, startFrom, startFrom + startDigits),
    endHex: ascii(bytes, endFrom, endFrom + endDigits),
    start,
    end,
    size: end - start,
    perms: intern(ascii(bytes, permsFrom, permsFrom + 4)),
    offset,
    dev: intern(ascii(bytes, devFrom, devTo)),
    inode,
    path: i < eol ? intern(ascii(bytes, i, eol)) : '',
  };
}

/** What a maps line said the last times it was seen: the line's bytes, and its mapping (undefined: not one). */
interface KnownLine {
  line: Uint8Array;
  mapping: Mapping | undefined;
}

// Lines by a hash of their bytes. Most lines of a tick are the lines of the last tick, and a hash, a comparison and
// a copy of the mapping cost less than scanning the line and making its five strings again. A pure memo: the
// answer depends on the bytes alone, so it is shared by every process sampled. Two generations of at most
// MAX_KNOWN_LINES each: a full one becomes the old one, and a line found in the old one moves to the new one, so the
// lines in use stay while those of processes gone (a fork storm under --children) go: a few MB at most.
const MAX_KNOWN_LINES = 1 << 13;
let knownLines = new Map<number, KnownLine>();
let olderLines = new Map<number, KnownLine>();

function knownLine(hash: number): KnownLine | undefined {
  const known = knownLines.get(hash);
  if (known !== undefined) return known;
  const older = olderLines.get(hash);
  if (older !== undefined) remember(hash, older);
  return older;
}

function remember(hash: number, line: KnownLine): void {
  if (knownLines.size >= MAX_KNOWN_LINES) {
    olderLines = knownLines;
    knownLines = new Map();
  }
  knownLines.set(hash, line);
}

/** The mapping of the maps line [from, eol), as scanMapsLine gives it, from the memo when the line was seen. */
function mappingOfLine(bytes: Buffer, from: number, eol: number): Mapping | undefined {
  // FNV-1a over the line's bytes.
  let hash = 0x811c9dc5;
  for (let i = from; i < eol; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
  const known = knownLine(hash);
  if (known !== undefined && known.line.length === eol - from) {
    const line = known.line;
    let same = true;
    for (let i = 0; i < line.length; i++) {
      if (line[i] !== bytes[from + i]) {
        same = false;
        break;
      }
    }
    if (same) {
      const m = known.mapping;
      // A new object each time: counters and VmFlags are set on it.
      return m && { startHex: m.startHex, endHex: m.endHex, start: m.start, end: m.end, size: m.size, perms: m.perms, offset: m.offset, dev: m.dev, inode: m.inode, path: m.path };
    }
  }
  const mapping = scanMapsLine(bytes, from, eol);
  remember(hash, { line: new Uint8Array(bytes.subarray(from, eol)), mapping: mapping && { ...mapping } });
  return mapping;
}

/** /proc/PID/maps from the first `length` bytes of `bytes` (as read into a reused buffer). */
export function scanMaps(bytes: Buffer, length: number): Mapping[] {
  const mappings: Mapping[] = [];
  for (let pos = 0; pos < length; ) {
    // A loop, not Buffer#indexOf: a native call per line cost more than the scan (smaps has ~25 lines per mapping).
    let eol = pos;
    while (eol < length && bytes[eol] !== NL) eol++;
    if (eol > pos) {
      const mapping = mappingOfLine(bytes, pos, eol);
      if (!mapping) throw new Error(`unexpected line in maps: ${JSON.stringify(textOf(bytes, pos, eol).slice(0, 120))}`);
      mappings.push(mapping);
    }
    pos = eol + 1;
  }
  return mappings;
}

/**
 * /proc/PID/smaps from the first `length` bytes of `bytes`. The file is decoded once and walked by line with
 * String#indexOf (a byte loop in JS, or Buffer#indexOf per line, cost several times more on ~25 lines per
 * mapping); field lines are told by their names, header lines go to the maps-line memo on the bytes.
 */
export function scanSmaps(bytes: Buffer, length: number): Mapping[] {
  const content = bytes.subarray(0, length);
  // ASCII (what the kernel writes but for odd file names): offsets in the text are offsets in the bytes.
  if (isAscii(content)) return walkSmaps(content.toString('latin1'), (from, eol) => mappingOfLine(bytes, from, eol));
  const text = content.toString('utf8');
  return walkSmaps(text, (from, eol) => parseMapsLine(text.slice(from, eol)));
}

function walkSmaps(text: string, header: (from: number, eol: number) => Mapping | undefined): Mapping[] {
  const mappings: Mapping[] = [];
  let current: Mapping | undefined;
  let counters = zeroCounters();
  const length = text.length;
  for (let pos = 0; pos < length; ) {
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = length;
    const first = text.charCodeAt(pos);
    // Field names start with an upper-case letter; mapping headers with a lower-case hex address.
    if (pos < eol && first >= 65 && first <= 90) {
      if (!current) throw new Error(`smaps field before any mapping: ${JSON.stringify(text.slice(pos, Math.min(eol, pos + 120)))}`);
      const field = fieldAt(text, pos, first);
      if (field === VMFLAGS) {
        current.vmFlags = flagSet(text.slice(pos + 8, eol));
      } else if (field !== NOT_KEPT) {
        let amount = 0;
        // From just after the name, whose colon fieldAt has seen.
        for (let i = pos + FIELD_NAMES[field].length; i < eol; i++) {
          const c = text.charCodeAt(i);
          if (c >= 48 && c <= 57) amount = amount * 10 + (c - 48);
          else if (c !== SPACE) break;
        }
        // Every counter kept is in kB. Beyond 2^53 bytes is not memory but a garbled line: refused, not Infinity.
        if (amount > MAX_KB) throw new Error(`smaps field ${text.slice(pos, text.indexOf(':', pos))} is beyond 2^53 bytes: ${JSON.stringify(text.slice(pos, Math.min(eol, pos + 120)))}`);
        setCounter(counters, field, amount * 1024);
      }
    } else if (eol > pos) {
      const mapping = header(pos, eol);
      if (!mapping) throw new Error(`unexpected line in smaps: ${JSON.stringify(text.slice(pos, Math.min(eol, pos + 120)))}`);
      counters = zeroCounters();
      mapping.counters = counters;
      mappings.push(mapping);
      current = mapping;
    }
    pos = eol + 1;
  }
  return mappings;
}

// The smaps fields kept, as small numbers (a switch, not a property named by a string, on every field line).
const NOT_KEPT = 0;
const VMFLAGS = 9;
const FIELD_NAMES = ['', 'Rss:', 'Anonymous:', 'Shared_Clean:', 'Shared_Dirty:', 'Private_Clean:', 'Private_Dirty:', 'Locked:', 'Swap:', 'VmFlags:'];

/**
 * Which kept field the line at `pos` (first character `first`) is, by its name up to the colon; NOT_KEPT else. A
 * look at where the name's colon would be rules out the other fields before String#startsWith, which cost a sixth
 * of the scan on the ~10 lines per mapping that are not kept.
 */
function fieldAt(text: string, pos: number, first: number): number {
  const is = (field: number) => {
    const name = FIELD_NAMES[field];
    return text.charCodeAt(pos + name.length - 1) === COLON && text.startsWith(name, pos) ? field : NOT_KEPT;
  };
  switch (first) {
    case 0x52: return is(1); // R
    case 0x41: return is(2); // A
    case 0x53: return text.charCodeAt(pos + 1) === 0x77 ? is(8) : text.charCodeAt(pos + 7) === 0x43 ? is(3) : is(4); // Swap, Shared_C…, Shared_D…
    case 0x50: return text.charCodeAt(pos + 8) === 0x43 ? is(5) : is(6); // Private_C…, Private_D…
    case 0x4c: return is(7); // L
    case 0x56: return is(VMFLAGS); // V
    default: return NOT_KEPT;
  }
}

function setCounter(counters: SmapsCounters, field: number, bytes: number): void {
  switch (field) {
    case 1: counters.rss = bytes; break;
    case 2: counters.anonymous = bytes; break;
    case 3: counters.sharedClean = bytes; break;
    case 4: counters.sharedDirty = bytes; break;
    case 5: counters.privateClean = bytes; break;
    case 6: counters.privateDirty = bytes; break;
    case 7: counters.locked = bytes; break;
    case 8: counters.swap = bytes; break;
  }
}

/** Parses /proc/PID/status into its `Key: value` fields (values trimmed, units kept). */
export function parseStatus(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/** A `NNN kB` status value in bytes, or undefined when the field is missing (kernel threads, zombies). */
export function statusBytes(status: Map<string, string>, key: string): number | undefined {
  const value = status.get(key);
  if (value === undefined) return undefined;
  const [amount, unit] = value.split(/\s+/);
  const bytes = Number(amount) * (unit === 'kB' ? 1024 : 1);
  // Not a count of bytes (garbled, or beyond a double): unknown rather than NaN or Infinity.
  return /^\d+$/.test(amount) && Number.isFinite(bytes) ? bytes : undefined;
}

export interface ProcStat {
  comm: string;
  /** R, S, D, Z (zombie), T, t, X, I … */
  state: string;
  ppid: number;
  /** Field 5: the process group. */
  pgrp: number;
  /** Field 9: the kernel's PF_* flags (PF_KTHREAD marks a kernel thread). */
  flags: number;
  /** Field 22: start time in clock ticks after boot. */
  startTicks: number;
  /** Fields 14 + 15: CPU time used in user and kernel mode, clock ticks (all threads). */
  cpuTicks: number;
  /**
   * Fields 26-28: where the program's code starts and ends and where its stack begins. exec() sets them, so another
   * value under the same pid and start time is an exec (of another program, or of the same one at new randomized
   * addresses). Undefined when the kernel does not show them: a kernel thread, or a process we may not look into.
   */
  layout: string | undefined;
}

/** PF_KTHREAD in /proc/PID/stat's flags: a kernel thread, with no user address space. */
export const PF_KTHREAD = 0x00200000;

/**
 * Parses /proc/PID/stat. The comm field (2) is in parentheses and may itself contain spaces and ')', so the
 * fields after it are found from the last ')'.
 */
export function parseStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error('unexpected /proc/PID/stat format');
  const rest = text.slice(close + 2).trim().split(/\s+/);
  // rest[0] is field 3 (state), so field N is rest[N - 3]. A truncated or garbled line must not give NaN numbers.
  const number = (field: number) => (/^\d{1,15}$/.test(rest[field - 3] ?? '') ? Number(rest[field - 3]) : Number.NaN);
  const [ppid, pgrp, flags, utime, stime, startTicks] = [number(4), number(5), number(9), number(14), number(15), number(22)];
  if ([ppid, pgrp, flags, utime, stime, startTicks].some(Number.isNaN)) throw new Error('unexpected /proc/PID/stat format');
  const [startCode, endCode, startStack] = rest.slice(26 - 3, 28 - 3 + 1);
  // Without the right to look into the process the kernel writes 1 1 0; a kernel thread has 0 0 0.
  const hidden = startStack === undefined || (startCode === '1' && endCode === '1') || (startCode === '0' && startStack === '0');
  return { comm: text.slice(open + 1, close), state: rest[0], ppid, pgrp, flags, startTicks, cpuTicks: utime + stime, layout: hidden ? undefined : `${startCode}:${endCode}:${startStack}` };
}

/** Whether a stat state is of a process that has exited: a zombie (Z) or one being torn down (X). */
export const hasExited = (state: string) => state === 'Z' || state === 'X';

/** The `btime` line of /proc/stat: boot time in seconds since the epoch. */
export function parseBootTime(procStatText: string): number {
  const m = /^btime (\d{1,15})$/m.exec(procStatText);
  if (!m) throw new Error('no btime in /proc/stat');
  return Number(m[1]);
}

/**
 * The stack pointer of a thread from /proc/PID/task/TID/syscall: `NR a1 … a6 SP PC` when in a system call,
 * `-1 SP PC` when blocked elsewhere, `running` when on a CPU (then it is unknown).
 */
export function parseSyscallStackPointer(text: string): number | undefined {
  const fields = text.trim().split(/\s+/);
  if (fields.length < 3 || fields[0] === 'running') return undefined;
  const sp = fields[fields.length - 2];
  // parseInt would read `0x12zz` as 0x12: only a whole 64-bit hex number is an address.
  return /^0x[0-9a-f]{1,16}$/i.test(sp) ? Number.parseInt(sp.slice(2), 16) : undefined;
}

/** /proc/PID/cmdline is NUL-separated with a trailing NUL; empty for kernel threads and zombies. */
export function parseCmdline(text: string): string[] {
  return text.split('\0').filter((arg, i, all) => arg !== '' || i < all.length - 1);
}

/**
 * The kernel's device number (as fstat gives it) for the `major:minor` of a maps line: glibc's makedev layout,
 * minor's low byte, then 12 bits of major, then the rest of minor (the kernel's majors have 12 bits).
 */
export function deviceNumber(dev: string): number {
  const [major, minor] = dev.split(':').map((part) => Number.parseInt(part, 16));
  return (minor & 0xff) + major * 0x100 + Math.floor(minor / 0x100) * 0x100000;
}

// AT_NULL ends the auxiliary vector; AT_PAGESZ holds the page size.
const AT_NULL = 0;
const AT_PAGESZ = 6;

/** The page size from /proc/PID/auxv: (type, value) pairs of u64, 64-bit little-endian (x86-64, arm64). */
export function parseAuxvPageSize(auxv: Uint8Array): number | undefined {
  const view = new DataView(auxv.buffer, auxv.byteOffset, auxv.byteLength);
  for (let at = 0; at + 16 <= auxv.byteLength; at += 16) {
    const type = Number(view.getBigUint64(at, true));
    if (type === AT_NULL) break;
    if (type === AT_PAGESZ) return Number(view.getBigUint64(at + 8, true));
  }
  return undefined;
}

// /proc/PID/pagemap: one u64 per page; bit 63 = in RAM, bit 62 = swapped out (the high u32's top two bits).
const PAGEMAP_IN_RAM_OR_SWAP = 0xc0000000;

/** How many of the pages these pagemap entries describe are in RAM or in swap (64-bit little-endian). */
export function countResidentPages(entries: Uint8Array): number {
  const view = new DataView(entries.buffer, entries.byteOffset, entries.byteLength);
  let pages = 0;
  for (let at = 0; at + 8 <= entries.byteLength; at += 8) {
    if ((view.getUint32(at + 4, true) & PAGEMAP_IN_RAM_OR_SWAP) !== 0) pages++;
  }
  return pages;
}
