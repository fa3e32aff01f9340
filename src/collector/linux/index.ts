/**
 * The Linux collector: reads /proc/PID/{stat,status,smaps|maps,cmdline,task/*\/syscall} and hands the text to the
 * pure parsers and classifier. Cost per snapshot: stat + status + cmdline (~10 µs each), maps (~0.3 µs per
 * mapping) or smaps (~3 µs per mapping plus ~35 ns per resident page; it takes the target's mmap lock), and one
 * small read per thread for its stack pointer. A probe also reads, once per new or changed mapping, 16 bytes of
 * the target's memory at each anonymous mapping (glibc's chunk headers, ~2-8 µs each) and the program headers of
 * each binary whose .bss it bounds.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync, readdirSync } from 'node:fs';
import { LeakwatchError, ProcessGoneError } from '../../errors.js';
import { freeGaps, summarize } from '../summary.js';
import type { Collector, ProcessInfo, ProcessProbe, ProcessUsage, Snapshot, SnapshotOptions } from '../types.js';
import { classifyMappings, RegionReuse, type ManagedRange, type ThreadStackPointer } from './classify.js';
import { imageEnd, parseLoadSegments, type LoadSegment } from './elf.js';
import { CHUNK_HEADER_BYTES, findChunkRuns, type ChunkRun } from './glibc-chunks.js';
import { findJavaHeap, isPerfdataMapping } from './jvm.js';
import { memoryLimit } from './limits.js';
import {
  countResidentPages,
  deviceNumber,
  hasExited,
  parseAuxvPageSize,
  parseBootTime,
  parseCmdline,
  parseStat,
  parseStatus,
  parseSyscallStackPointer,
  PF_KTHREAD,
  scanMaps,
  scanSmaps,
  statusBytes,
  type Mapping,
} from './procfs.js';

// vm.mmap_min_addr's usual value: nothing can be mapped below it, so it is not free address space.
const USER_SPACE_LOW = 0x10000;
// TASK_SIZE with 4-level paging; with 5-level paging a process only gets more when it asks for high addresses.
const USER_SPACE_HIGH_47 = 0x7ffffffff000;
const USER_SPACE_HIGH_56 = 0xfffffffffff000;
// USER_HZ: the unit of /proc/PID/stat times, 100 on every Linux ABI (it is not the kernel's HZ).
const CLOCK_TICKS_PER_SECOND = 100;

/** A failed read, as a value distinct from any file content (so `typeof result === 'string'` means success). */
const GONE = { failure: 'gone' } as const;
const DENIED = { failure: 'denied' } as const;
type ReadFailure = typeof GONE | typeof DENIED;

function failureOf(error: unknown): ReadFailure | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ESRCH') return GONE;
  if (code === 'EACCES' || code === 'EPERM') return DENIED;
  return undefined;
}

// /proc files report size 0, so readFileSync grows and concatenates 64 KiB chunks; one reused buffer with
// large reads halves the cost of reading a 1000-mapping smaps (bench/snapshot.bench.ts).
let readBuffer = Buffer.allocUnsafe(1 << 20);

function readWhole(path: string): string {
  const length = readWholeBytes(path);
  return readBuffer.toString('utf8', 0, length);
}

/** Reads a whole file into the reused buffer (valid until the next read) and returns its length. */
function readWholeBytes(path: string): number {
  const fd = openSync(path, 'r');
  try {
    let length = 0;
    for (;;) {
      if (length === readBuffer.length) {
        const bigger = Buffer.allocUnsafe(readBuffer.length * 2);
        readBuffer.copy(bigger, 0, 0, length);
        readBuffer = bigger;
      }
      const read = readSync(fd, readBuffer, length, readBuffer.length - length, null);
      if (read === 0) return length;
      length += read;
    }
  } finally {
    closeSync(fd);
  }
}

/** The process's mappings from smaps (usage) or maps, scanned in the read buffer: no string of the whole file. */
function readMappings(pid: number, usage: boolean): Mapping[] {
  const file = usage ? 'smaps' : 'maps';
  let length: number;
  try {
    length = readWholeBytes(`/proc/${pid}/${file}`);
  } catch (error) {
    const failure = failureOf(error);
    if (!failure) throw error;
    throw failure === GONE ? exitedDuringRead(pid) : permissionError(pid, file);
  }
  // Every live user process has mappings; an empty read means it exited while we read.
  if (length === 0) throw exitedDuringRead(pid);
  return usage ? scanSmaps(readBuffer, length) : scanMaps(readBuffer, length);
}

/** Reads one /proc file; GONE / DENIED come back as values so each caller can say what they mean there. */
function readProc(path: string): string | ReadFailure {
  try {
    return readWhole(path);
  } catch (error) {
    const failure = failureOf(error);
    if (failure) return failure;
    throw error;
  }
}

function exitedDuringRead(pid: number): ProcessGoneError {
  return new ProcessGoneError(`process ${pid} exited during the read`, 'exited');
}

/** Says why /proc/PID/maps was refused: another user's process, or one that made itself non-dumpable. */
function permissionError(pid: number, file: string): LeakwatchError {
  const status = readProc(`/proc/${pid}/status`);
  const ownerUid = typeof status === 'string' ? Number(parseStatus(status).get('Uid')?.split(/\s+/)[0]) : NaN;
  const ourUid = process.geteuid?.() ?? -1;
  const prefix = `permission denied reading /proc/${pid}/${file}`;
  if (ourUid === 0) return new LeakwatchError(`${prefix} even as root (a container without CAP_SYS_PTRACE?)`);
  if (Number.isFinite(ownerUid) && ownerUid !== ourUid) {
    return new LeakwatchError(`${prefix}: the process belongs to uid ${ownerUid}, not to you (uid ${ourUid}); run leakwatch as that user or as root`);
  }
  return new LeakwatchError(`${prefix}: the process is not dumpable (a setuid/setgid program or prctl(PR_SET_DUMPABLE, 0)); run leakwatch as root`);
}

/** The stack pointer of every thread, or undefined when the task list cannot be read. */
function readThreadStackPointers(pid: number): ThreadStackPointer[] | undefined {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch (error) {
    if (failureOf(error)) return undefined;
    throw error;
  }
  return tids.map((tid) => {
    // Needs ptrace access to the target: root, or the same user when kernel.yama.ptrace_scope allows it.
    const text = readProc(`/proc/${pid}/task/${tid}/syscall`);
    return { tid: Number(tid), sp: typeof text === 'string' ? parseSyscallStackPointer(text) : undefined };
  });
}

function userSpaceHigh(mappings: Mapping[]): number {
  return mappings.some((m) => m.end > USER_SPACE_HIGH_47 && m.end <= USER_SPACE_HIGH_56) ? USER_SPACE_HIGH_56 : USER_SPACE_HIGH_47;
}

const bootTime = (() => {
  let cached: number | undefined;
  return () => (cached ??= parseBootTime(readWhole('/proc/stat')));
})();

// Every process on a kernel has its page size; ours says what it is.
const pageSize = (() => {
  let cached: number | undefined;
  return () => (cached ??= parseAuxvPageSize(readFileSync('/proc/self/auxv')) ?? 4096);
})();

function startTimeFromTicks(startTicks: number): string {
  return new Date((bootTime() + startTicks / CLOCK_TICKS_PER_SECOND) * 1000).toISOString();
}

/** Reads and checks /proc/PID/stat: the process must exist, not be a zombie, and not be a kernel thread. */
function readLiveStat(pid: number) {
  const statText = readProc(`/proc/${pid}/stat`);
  if (typeof statText !== 'string') {
    throw statText === GONE ? new ProcessGoneError(`no process with pid ${pid}`, 'exited') : permissionError(pid, 'stat');
  }
  const stat = parseStat(statText);
  if (hasExited(stat.state)) {
    throw new ProcessGoneError(`process ${pid} has exited (a zombie its parent has not reaped)`, 'exited');
  }
  // Its maps are empty, which would otherwise read as a process that exited during the read.
  if (stat.flags & PF_KTHREAD) throw new LeakwatchError(`pid ${pid} is a kernel thread (${stat.comm}): it has no user memory to watch`);
  return stat;
}

/**
 * Opens the file behind a mapping: /proc/PID/map_files/… is that very file, even deleted (it needs
 * CAP_SYS_ADMIN); otherwise its path as the process sees it, checked to be the same device and inode.
 */
function openMappedFile(pid: number, m: Mapping): number | string {
  try {
    return openSync(`/proc/${pid}/map_files/${m.start.toString(16)}-${m.end.toString(16)}`, 'r');
  } catch (error) {
    if (!failureOf(error)) throw error;
  }
  if (m.path.endsWith(' (deleted)')) return 'the file is deleted';
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/root${m.path}`, 'r');
  } catch (error) {
    const failure = failureOf(error);
    if (!failure) throw error;
    return failure === GONE ? 'the file is gone' : 'permission denied reading the file';
  }
  const stat = fstatSync(fd);
  if (stat.ino === m.inode && stat.dev === deviceNumber(m.dev)) return fd;
  closeSync(fd);
  return 'the file at its path is not the one mapped';
}

/** The PT_LOAD segments of the file behind a mapping, or why they cannot be known. */
function readLoadSegments(pid: number, m: Mapping): LoadSegment[] | string {
  const fd = openMappedFile(pid, m);
  if (typeof fd === 'string') return fd;
  try {
    return parseLoadSegments((offset, length) => {
      const bytes = Buffer.alloc(length);
      return bytes.subarray(0, readSync(fd, bytes, 0, length, offset));
    });
  } catch (error) {
    // Not an ELF file we can read (or a read error): the .bss stays a guess, and says why.
    if (error instanceof Error) return error.message;
    throw error;
  } finally {
    closeSync(fd);
  }
}

/**
 * Where images end, from their files' program headers, kept per file (device, inode) while the process maps it:
 * a mapped file's inode cannot be reused, so the answer stays true.
 */
class ImageBounds {
  private segments = new Map<string, LoadSegment[] | string>();
  private used = new Map<string, LoadSegment[] | string>();

  constructor(private readonly pid: number) {}

  imageEnd = (data: Mapping): number | string => {
    const key = `${data.dev}:${data.inode}`;
    const segments = this.used.get(key) ?? this.segments.get(key) ?? readLoadSegments(this.pid, data);
    this.used.set(key, segments);
    if (typeof segments === 'string') return segments;
    return imageEnd(segments, data, pageSize()) ?? 'its program headers do not place this mapping';
  };

  /** Ends a sample: files not looked at in it are forgotten. */
  finish(): void {
    this.segments = this.used;
    this.used = new Map();
  }
}

// Pagemap entries read at a time (8 bytes each: 64 KiB, 32 MiB of address space).
const PAGEMAP_CHUNK_PAGES = 8192;
const pagemapBuffer = Buffer.allocUnsafe(PAGEMAP_CHUNK_PAGES * 8);

/**
 * Bytes in RAM or swap in each range, from /proc/PID/pagemap (readable wherever smaps is); undefined when it cannot
 * be read. Like smaps it walks the page tables, but only over the ranges asked for.
 */
function residentBytes(pid: number, ranges: { start: number; end: number }[]): number[] | undefined {
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/pagemap`, 'r');
  } catch (error) {
    if (failureOf(error)) return undefined;
    throw error;
  }
  try {
    const page = pageSize();
    return ranges.map(({ start, end }) => {
      let pages = 0;
      for (let at = start; at < end; at += PAGEMAP_CHUNK_PAGES * page) {
        const count = Math.min(PAGEMAP_CHUNK_PAGES, (end - at) / page);
        pages += countResidentPages(pagemapBuffer.subarray(0, readSync(fd, pagemapBuffer, 0, count * 8, (at / page) * 8)));
      }
      return pages * page;
    });
  } finally {
    closeSync(fd);
  }
}

/** The index of the first element of a sorted array that is greater than `value`. */
function firstAbove(sorted: number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] > value) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Finds glibc's mmapped chunks by reading their headers from /proc/PID/mem, which needs the right to attach to the
 * target (under Yama's ptrace_scope 1 more than smaps needs). Remembers what each range held: a sample reads only
 * ranges that are new or changed. (A range unmapped and mapped again with the same bounds between two samples keeps
 * the old answer: nothing in /proc tells.) Walks also start where the last sample saw a mapping or a run begin, so
 * a run the kernel has since merged other memory in front of is still found.
 */
class ChunkFinder {
  /** 'refused' when the last sample that needed to read could not open /proc/PID/mem. */
  status: 'read' | 'refused' = 'read';
  /** What each range held, by its start (numbers: no key string to build for every mapping, every tick). */
  private known = new Map<number, { end: number; runs: ChunkRun[] }>();
  private seen = new Map<number, { end: number; runs: ChunkRun[] }>();
  /** Where the last sample saw mappings and runs begin; sorted into `hints` when a sample first needs them. */
  private lastStarts: number[] = [];
  private hints: number[] | undefined;
  private fd: number | ReadFailure | undefined;
  private readonly header = Buffer.alloc(CHUNK_HEADER_BYTES);

  constructor(private readonly pid: number) {}

  mmappedChunks = (start: number, end: number, mapping: Mapping): ChunkRun[] => {
    const known = this.known.get(start);
    const c = mapping.counters;
    // Memory never written holds no header, and reading it would map a page into the target.
    if (known?.end === end) {
      this.seen.set(start, known);
      return known.runs;
    }
    const runs = c && c.rss + c.swap === 0 ? [] : this.read(start, end);
    if (runs) this.seen.set(start, { end, runs });
    return runs ?? [];
  };

  /** Ends a sample: closes the memory file and keeps what this sample saw. */
  finish(mappings: Mapping[]): void {
    if (typeof this.fd === 'number') closeSync(this.fd);
    this.fd = undefined;
    this.known = this.seen;
    this.seen = new Map();
    this.lastStarts = mappings.map((m) => m.start);
    for (const { runs } of this.known.values()) for (const run of runs) this.lastStarts.push(run.start);
    this.hints = undefined;
  }

  /** The runs in [start, end), or undefined when the memory cannot be read. */
  private read(start: number, end: number): ChunkRun[] | undefined {
    const fd = this.open();
    if (fd === undefined) return undefined;
    this.hints ??= this.lastStarts.sort((a, b) => a - b);
    const hints = this.hints.slice(firstAbove(this.hints, start), firstAbove(this.hints, end - 1));
    return findChunkRuns((address) => this.readHeader(fd, address), start, end, hints, pageSize());
  }

  private open(): number | undefined {
    if (this.fd === undefined) {
      try {
        this.fd = openSync(`/proc/${this.pid}/mem`, 'r');
        this.status = 'read';
      } catch (error) {
        this.fd = failureOf(error);
        if (!this.fd) throw error;
        // Gone: the sample's closing stat check says so.
        if (this.fd === DENIED) this.status = 'refused';
      }
    }
    return typeof this.fd === 'number' ? this.fd : undefined;
  }

  private readHeader(fd: number, address: number): Uint8Array | undefined {
    try {
      return this.header.subarray(0, readSync(fd, this.header, 0, CHUNK_HEADER_BYTES, address));
    } catch (error) {
      // EIO: the range was unmapped after maps was read.
      if ((error as NodeJS.ErrnoException).code === 'EIO') return undefined;
      throw error;
    }
  }
}

/** The VmFlags of a mapping smaps showed none for (read only, shared). */
const NO_FLAGS = new Set<string>();

// How often a sample is read again when the process exec()s during the read.
const EXEC_RACE_RETRIES = 2;

class LinuxProbe implements ProcessProbe {
  /** The start time seen first: a later sample with another one is a different process under the same pid. */
  private startTicks: number | undefined;
  /** The program's code and stack addresses at the last sample (ProcStat.layout): another layout is an exec. */
  private layout: string | undefined;
  execs = 0;
  /** VmFlags per mapping start from the last smaps read, so maps-only samples classify V8 and arenas alike. */
  private flagsByStart = new Map<number, Set<string>>();
  /** The Java heap's reservation never moves: keep it when a resize races the perfdata read. */
  private javaHeap: ManagedRange | undefined;
  private images: ImageBounds;
  private chunks: ChunkFinder;
  /**
   * Regions to hand out again, from the last smaps sample and from the last maps sample apart: a watch alternates
   * them (SmapsBudget), and a region with working sets is never one without.
   */
  private readonly reuse = { smaps: new RegionReuse(), maps: new RegionReuse() };

  constructor(readonly pid: number) {
    this.images = new ImageBounds(pid);
    this.chunks = new ChunkFinder(pid);
  }

  sample(options: SnapshotOptions): Snapshot {
    for (let attempt = 0; ; attempt++) {
      const snapshot = this.read(options, attempt < EXEC_RACE_RETRIES);
      if (snapshot) return snapshot;
    }
  }

  /** After an exec: what the old program's memory taught (flags, heaps, images, chunk headers) is wrong now. */
  private forgetProgram(): void {
    this.flagsByStart = new Map();
    this.javaHeap = undefined;
    this.images = new ImageBounds(this.pid);
    this.chunks = new ChunkFinder(this.pid);
  }

  /** One sample; undefined when the process exec()d during the read and `again` allows reading it once more. */
  private read({ usage }: SnapshotOptions, again: boolean): Snapshot | undefined {
    const pid = this.pid;
    const stat = readLiveStat(pid);
    if (this.startTicks !== undefined && stat.startTicks !== this.startTicks) {
      throw new ProcessGoneError(`pid ${pid} now belongs to another process (${stat.comm})`, 'pid-reused');
    }
    const execd = this.layout !== undefined && stat.layout !== undefined && stat.layout !== this.layout;
    if (execd) this.forgetProgram();
    const takenAt = new Date().toISOString();
    const mappings = readMappings(pid, usage);
    const statusText = readProc(`/proc/${pid}/status`);
    const threads = readThreadStackPointers(pid);
    const cmdlineText = readProc(`/proc/${pid}/cmdline`);
    this.rememberFlags(mappings, usage);
    this.javaHeap = findJavaHeap(pid, mappings) ?? (mappings.some(isPerfdataMapping) ? this.javaHeap : undefined);
    const javaHeap = this.javaHeap;
    // Reads ELF headers, the target's memory and its pagemap, so before the closing stat check.
    const reuse = usage ? this.reuse.smaps : this.reuse.maps;
    const regions = classifyMappings({
      mappings,
      threads,
      managedRanges: javaHeap ? [javaHeap] : [],
      imageEnd: this.images.imageEnd,
      mmappedChunks: this.chunks.mmappedChunks,
      residentBytes: (ranges) => residentBytes(pid, ranges),
      reuse,
    });
    this.images.finish();
    this.chunks.finish(mappings);
    reuse.finish();

    // Same pid, same start time: still the process we began with (pids are reused).
    const afterText = readProc(`/proc/${pid}/stat`);
    const after = typeof afterText === 'string' ? parseStat(afterText) : undefined;
    if (after === undefined || after.startTicks !== stat.startTicks || typeof statusText !== 'string') {
      throw exitedDuringRead(pid);
    }
    // An exec during the read: what was read may be of either program.
    if (after.layout !== stat.layout && again) {
      this.forgetProgram();
      return undefined;
    }
    this.startTicks = stat.startTicks;
    if (execd) this.execs++;
    this.layout = stat.layout ?? this.layout;
    const free = freeGaps(mappings, USER_SPACE_LOW, userSpaceHigh(mappings));
    const summary = summarize(regions, statusBytes(parseStatus(statusText), 'VmPTE'), free);
    const args = typeof cmdlineText === 'string' ? parseCmdline(cmdlineText) : [];
    const managedHeaps = [
      ...(javaHeap ? [{ runtime: 'jvm' as const, method: javaHeap.method }] : []),
      ...(regions.some((r) => r.details === 'V8 heap') ? [{ runtime: 'v8' as const, method: 'heuristic' as const }] : []),
    ];
    return {
      pid,
      startTime: startTimeFromTicks(stat.startTicks),
      command: args.length > 0 ? args.join(' ') : `[${stat.comm}]`,
      takenAt,
      ...summary,
      managedHeaps,
      heapChunks: this.chunks.status,
      regions,
    };
  }

  private rememberFlags(mappings: Mapping[], fromSmaps: boolean): void {
    if (fromSmaps) {
      this.flagsByStart = new Map(mappings.map((m) => [m.start, m.vmFlags ?? NO_FLAGS]));
    } else {
      for (const m of mappings) m.vmFlags = this.flagsByStart.get(m.start);
    }
  }

}

/** Direct children, from /proc/PID/task/TID/children (one file per thread: any thread may have forked). */
function childrenOf(pid: number): number[] {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch (error) {
    if (failureOf(error)) return [];
    throw error;
  }
  const children: number[] = [];
  for (const tid of tids) {
    const text = readProc(`/proc/${pid}/task/${tid}/children`);
    if (typeof text === 'string') for (const child of text.split(' ')) if (child.trim()) children.push(Number(child));
  }
  return children;
}

function startTimeOf(pid: number): string | undefined {
  const text = readProc(`/proc/${pid}/stat`);
  return typeof text === 'string' ? startTimeFromTicks(parseStat(text).startTicks) : undefined;
}

function usageOf(pid: number, startTime: string): ProcessUsage | undefined {
  const statText = readProc(`/proc/${pid}/stat`);
  const statusText = readProc(`/proc/${pid}/status`);
  if (typeof statText !== 'string' || typeof statusText !== 'string') return undefined;
  const stat = parseStat(statText);
  const residentBytes = statusBytes(parseStatus(statusText), 'VmRSS');
  if (startTimeFromTicks(stat.startTicks) !== startTime || residentBytes === undefined) return undefined;
  return { cpuSeconds: stat.cpuTicks / CLOCK_TICKS_PER_SECOND, residentBytes };
}

/** /proc/[0-9]*: stat for name, parent, state and start; cmdline for the arguments (empty for kernel threads). */
function listProcesses(): ProcessInfo[] {
  const list: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const [statText, cmdline] = [readProc(`/proc/${entry}/stat`), readProc(`/proc/${entry}/cmdline`)];
    if (typeof statText !== 'string' || typeof cmdline !== 'string' || cmdline === '') continue;
    const stat = parseStat(statText);
    if (hasExited(stat.state)) continue;
    list.push({ pid: Number(entry), parentPid: stat.ppid, name: stat.comm, argv: parseCmdline(cmdline), startTime: startTimeFromTicks(stat.startTicks) });
  }
  return list;
}

/** The live (not zombie) processes of a process group: what is left of the tree a `run` command started. */
function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const text = readProc(`/proc/${entry}/stat`);
    if (typeof text !== 'string') continue;
    const stat = parseStat(text);
    if (stat.pgrp === pgid && !hasExited(stat.state)) members.push(Number(entry));
  }
  return members;
}

export const linuxCollector: Collector = {
  platform: `linux-${process.arch}`,
  snapshot: (pid, options) => new LinuxProbe(pid).sample(options),
  open: (pid) => new LinuxProbe(pid),
  children: childrenOf,
  startTimeOf,
  usageOf,
  memoryLimit,
  processes: listProcesses,
  groupMembers,
};
