/**
 * The Linux collector: reads /proc/PID/{stat,status,smaps|maps,cmdline,task/*\/syscall} and hands the text to the
 * pure parsers and classifier. Cost per snapshot: stat + status + cmdline (~10 µs each), maps (~0.3 µs per
 * mapping) or smaps (~3 µs per mapping plus ~35 ns per resident page; it takes the target's mmap lock), and one
 * small read per thread for its stack pointer.
 */
import { closeSync, openSync, readSync, readdirSync } from 'node:fs';
import { LeakwatchError, ProcessGoneError } from '../../errors.js';
import { freeGaps, summarize } from '../summary.js';
import type { Collector, ProcessInfo, ProcessProbe, Snapshot, SnapshotOptions } from '../types.js';
import { classifyMappings, type ManagedRange, type ThreadStackPointer } from './classify.js';
import { findJavaHeap, isPerfdataMapping } from './jvm.js';
import { memoryLimit } from './limits.js';
import {
  parseBootTime,
  parseCmdline,
  parseMaps,
  parseSmaps,
  parseStat,
  parseStatus,
  parseSyscallStackPointer,
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
      if (read === 0) return readBuffer.toString('utf8', 0, length);
      length += read;
    }
  } finally {
    closeSync(fd);
  }
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

function startTimeFromTicks(startTicks: number): string {
  return new Date((bootTime() + startTicks / CLOCK_TICKS_PER_SECOND) * 1000).toISOString();
}

/** Reads and checks /proc/PID/stat: the process must exist and not be a zombie. */
function readLiveStat(pid: number) {
  const statText = readProc(`/proc/${pid}/stat`);
  if (typeof statText !== 'string') {
    throw statText === GONE ? new ProcessGoneError(`no process with pid ${pid}`, 'exited') : permissionError(pid, 'stat');
  }
  const stat = parseStat(statText);
  if (stat.state === 'Z' || stat.state === 'X') {
    throw new ProcessGoneError(`process ${pid} has exited (a zombie its parent has not reaped)`, 'exited');
  }
  return stat;
}

class LinuxProbe implements ProcessProbe {
  /** The start time seen first: a later sample with another one is a different process under the same pid. */
  private startTicks: number | undefined;
  /** VmFlags per mapping start from the last smaps read, so maps-only samples classify V8 and arenas alike. */
  private flagsByStart = new Map<string, Set<string>>();
  /** The Java heap's reservation never moves: keep it when a resize races the perfdata read. */
  private javaHeap: ManagedRange | undefined;

  constructor(readonly pid: number) {}

  sample({ usage }: SnapshotOptions): Snapshot {
    const pid = this.pid;
    const stat = readLiveStat(pid);
    if (this.startTicks !== undefined && stat.startTicks !== this.startTicks) {
      throw new ProcessGoneError(`pid ${pid} now belongs to another process (${stat.comm})`, 'pid-reused');
    }
    const takenAt = new Date().toISOString();
    const file = usage ? 'smaps' : 'maps';
    const mapsText = readProc(`/proc/${pid}/${file}`);
    if (typeof mapsText !== 'string') throw mapsText === GONE ? exitedDuringRead(pid) : permissionError(pid, file);
    // Every live user process has mappings; an empty read means it exited while we read.
    if (mapsText === '') throw exitedDuringRead(pid);
    const mappings = usage ? parseSmaps(mapsText) : parseMaps(mapsText);
    const statusText = readProc(`/proc/${pid}/status`);
    const threads = readThreadStackPointers(pid);
    const cmdlineText = readProc(`/proc/${pid}/cmdline`);

    // Same pid, same start time: still the process we began with (pids are reused).
    const after = readProc(`/proc/${pid}/stat`);
    if (typeof after !== 'string' || parseStat(after).startTicks !== stat.startTicks || typeof statusText !== 'string') {
      throw exitedDuringRead(pid);
    }
    this.startTicks = stat.startTicks;
    this.rememberFlags(mappings, usage);

    this.javaHeap = findJavaHeap(pid, mappings) ?? (mappings.some(isPerfdataMapping) ? this.javaHeap : undefined);
    const javaHeap = this.javaHeap;
    const regions = classifyMappings({ mappings, threads, managedRanges: javaHeap ? [javaHeap] : [] });
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
      regions,
    };
  }

  private rememberFlags(mappings: Mapping[], fromSmaps: boolean): void {
    if (fromSmaps) {
      this.flagsByStart = new Map(mappings.map((m) => [m.startHex, m.vmFlags ?? new Set<string>()]));
    } else {
      for (const m of mappings) m.vmFlags = this.flagsByStart.get(m.startHex);
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

/** /proc/[0-9]*: stat for name, parent, state and start; cmdline for the arguments (empty for kernel threads). */
function listProcesses(): ProcessInfo[] {
  const list: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const [statText, cmdline] = [readProc(`/proc/${entry}/stat`), readProc(`/proc/${entry}/cmdline`)];
    if (typeof statText !== 'string' || typeof cmdline !== 'string' || cmdline === '') continue;
    const stat = parseStat(statText);
    if (stat.state === 'Z' || stat.state === 'X') continue;
    list.push({ pid: Number(entry), parentPid: stat.ppid, name: stat.comm, argv: parseCmdline(cmdline), startTime: startTimeFromTicks(stat.startTicks) });
  }
  return list;
}

export const linuxCollector: Collector = {
  snapshot: (pid, options) => new LinuxProbe(pid).sample(options),
  open: (pid) => new LinuxProbe(pid),
  children: childrenOf,
  startTimeOf,
  memoryLimit,
  processes: listProcesses,
};
