/**
 * The Windows collector: a VirtualQueryEx walk of the target's address space, the files behind its images and
 * views (K32GetMappedFileNameW), its heaps (the PEB's heap list, segment and large-block headers), its threads'
 * stacks (Toolhelp threads, their TEBs), V8's pages, and the working set of its committed pages
 * (QueryWorkingSetEx), handed to the pure classifier. Every call goes through win32.ts (koffi).
 *
 * What each snapshot costs: one VirtualQueryEx per block (a few hundred to a few thousand), one
 * K32GetMappedFileNameW per image or view, one 48-byte ReadProcessMemory per MEM_PRIVATE allocation (headers), a
 * Toolhelp snapshot of the system's threads plus one OpenThread and two small reads per thread of the target, and
 * with working-set numbers one QueryWorkingSetEx entry (16 bytes) per committed page, 65,536 pages a call.
 *
 * Where Windows refuses something, the snapshot leaves it out and says so in `unseen` (never a made-up number):
 * - the heap list empty (Wine keeps none) → heaps by their segment signature (heuristic); none found → Private;
 * - QueryWorkingSetEx refused (Wine refuses it across processes: error 87) → no per-region working set; the Total
 *   row's Total WS and Private come from K32GetProcessMemoryInfo (WorkingSetSize, and the commit charge);
 * - Page Table: these calls state no per-process page-table size;
 * - .NET: its GC heap is not told apart (managed.ts says why).
 */
import { LeakwatchError, ProcessGoneError } from '../../errors.js';
import { summarize } from '../summary.js';
import type { Collector, MemoryLimit, ProcessInfo, ProcessProbe, RegionUsage, Snapshot, SnapshotOptions, Unseen } from '../types.js';
import { allocationsOf, classifyBlocks, committedPages, freeSpace, stackClaims, usageFromPages, type Allocation, type Claim } from './classify.js';
import { findHeaps, HEADER_BYTES } from './heaps.js';
import { clrModule, v8Claims } from './managed.js';
import { splitCommandLine, toDrivePath } from './paths.js';
import {
  commitLimitOf,
  decodeMemoryBlock,
  decodePeb,
  decodeProcessEntry,
  decodeProcessMemoryCounters,
  decodeSystemInfo,
  decodeThreadEntry,
  decodeUnicodeString,
  ERROR,
  fileTimeToIso,
  MBI_SIZE,
  MEM_COMMIT,
  MEM_IMAGE,
  MEM_MAPPED,
  MEM_PRIVATE,
  MEMORYSTATUSEX_SIZE,
  PEB,
  pebAddressOf,
  PERFORMANCE_INFORMATION_SIZE,
  PROCESS_BASIC_INFORMATION_SIZE,
  PROCESS_MEMORY_COUNTERS_EX_SIZE,
  PROCESS_PARAMETERS_COMMAND_LINE,
  PROCESSENTRY32W_SIZE,
  SYSTEM_INFO_SIZE,
  TEB,
  tebAddressOf,
  THREAD_BASIC_INFORMATION_SIZE,
  THREADENTRY32_SIZE,
  totalPageFileOf,
  WORKING_SET_EX_ENTRY_SIZE,
  type MemoryBlock,
  type ProcessEntry,
  type SystemInfo,
  type ThreadStack,
} from './structs.js';
import { win32, type Handle } from './win32.js';

const PROCESS_VM_READ = 0x0010;
const PROCESS_QUERY_INFORMATION = 0x0400;
const PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;
const SYNCHRONIZE = 0x0010_0000;
const THREAD_QUERY_INFORMATION = 0x0040;
const THREAD_QUERY_LIMITED_INFORMATION = 0x0800;
const TH32CS_SNAPPROCESS = 0x2;
const TH32CS_SNAPTHREAD = 0x4;
const INVALID_HANDLE_VALUE = 0xffff_ffff_ffff_ffffn;
const WAIT_OBJECT_0 = 0;
// NtQueryInformationProcess / NtQueryInformationThread classes.
const PROCESS_BASIC_INFORMATION = 0;
const PROCESS_COMMAND_LINE_INFORMATION = 60; // Windows 8.1 and later; Wine 8 answers STATUS_INVALID_INFO_CLASS
const THREAD_BASIC_INFORMATION = 0;
// QueryWorkingSetEx entries per call: 1 MiB of buffer, 256 MiB of pages.
const WORKING_SET_BATCH = 65_536;
// A heap list longer than this is no heap list (Windows caps a process at a few thousand heaps).
const MAX_HEAPS = 65_536;
// Pages a header read must not touch: reading a guard page from outside would not fault, but nothing is there.
const PAGE_NOACCESS = 0x01;
const PAGE_GUARD = 0x100;

const PAGE_TABLE_UNSEEN = "Windows states no per-process page-table size to these calls (VMMap's System row needs its kernel driver)";

if (process.arch !== 'x64' && process.arch !== 'arm64') {
  throw new LeakwatchError(`the Windows collector reads 64-bit processes and needs 64-bit Node (this is ${process.arch})`);
}

const api = () => win32();

const systemInfo = (() => {
  let cached: SystemInfo | undefined;
  return () => {
    if (!cached) {
      const bytes = Buffer.alloc(SYSTEM_INFO_SIZE);
      api().GetNativeSystemInfo(bytes);
      cached = decodeSystemInfo(bytes);
    }
    return cached;
  };
})();

/** Runs `use` with a handle, closing it afterwards. */
function withHandle<T>(handle: Handle | null, use: (handle: Handle) => T): T | undefined {
  if (!handle) return undefined;
  try {
    return use(handle);
  } finally {
    api().CloseHandle(handle);
  }
}

function creationTimeOf(handle: Handle): string | undefined {
  const [creation, exit, kernel, user] = [0, 0, 0, 0].map(() => Buffer.alloc(8));
  return api().GetProcessTimes(handle, creation, exit, kernel, user) ? fileTimeToIso(creation.readBigUInt64LE(0)) : undefined;
}

const hasExited = (handle: Handle) => api().WaitForSingleObject(handle, 0) === WAIT_OBJECT_0;

function readMemory(handle: Handle, address: number, length: number): Buffer | undefined {
  const bytes = Buffer.alloc(length);
  return api().ReadProcessMemory(handle, address, bytes, length, null) ? bytes : undefined;
}

/** Opens the target for a snapshot; one line for every way that fails. Checks it is a 64-bit process. */
function openTarget(pid: number): Handle {
  const handle = api().OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ | SYNCHRONIZE, 0, pid);
  if (!handle) {
    const error = api().GetLastError();
    if (error === ERROR.INVALID_PARAMETER) throw new ProcessGoneError(`no process with pid ${pid}`, 'exited');
    if (error === ERROR.ACCESS_DENIED) {
      throw new LeakwatchError(`permission denied opening process ${pid}: it runs as another user, elevated, or protected; run leakwatch as administrator (a protected process cannot be read even then)`);
    }
    throw new LeakwatchError(`cannot open process ${pid} (Windows error ${error})`);
  }
  const wow64 = Buffer.alloc(4);
  if (api().IsWow64Process(handle, wow64) && wow64.readUInt32LE(0) !== 0) {
    api().CloseHandle(handle);
    throw new LeakwatchError(`process ${pid} is a 32-bit process (WOW64): leakwatch reads 64-bit processes only`);
  }
  return handle;
}

/** The whole address space, block by block, from 0 up to the highest application address. */
function walkAddressSpace(handle: Handle, pid: number): MemoryBlock[] {
  const { maximumApplicationAddress } = systemInfo();
  const info = Buffer.alloc(MBI_SIZE);
  const blocks: MemoryBlock[] = [];
  for (let address = 0; address <= maximumApplicationAddress; ) {
    if (!Number(api().VirtualQueryEx(handle, address, info, MBI_SIZE))) {
      const error = api().GetLastError();
      // Past the last block (ERROR_INVALID_PARAMETER) is the end of the walk.
      if (error === ERROR.INVALID_PARAMETER && blocks.length > 0) break;
      if (hasExited(handle)) throw exitedDuringRead(pid);
      throw new LeakwatchError(`cannot read the memory map of process ${pid} (VirtualQueryEx: Windows error ${error})`);
    }
    const block = decodeMemoryBlock(info);
    if (block.size === 0) break;
    blocks.push(block);
    address = block.base + block.size;
  }
  return blocks;
}

const exitedDuringRead = (pid: number) => new ProcessGoneError(`process ${pid} exited during the read`, 'exited');

/** `C:` → `\Device\HarddiskVolume3` for every drive letter in use. */
function dosDevices(): Map<string, string> {
  const devices = new Map<string, string>();
  const mask = api().GetLogicalDrives();
  const target = Buffer.alloc(2048);
  for (let i = 0; i < 26; i++) {
    if (!(mask & (1 << i))) continue;
    const drive = `${String.fromCharCode(65 + i)}:`;
    const length = api().QueryDosDeviceW(drive, target, target.length / 2);
    // The answer is a list of strings; the first is the current target.
    if (length > 0) devices.set(drive, target.toString('utf16le', 0, length * 2).split('\0')[0]);
  }
  return devices;
}

/** The file behind each image and view, by allocation base; views of no file (pagefile-backed sections) are absent. */
function mappedFiles(handle: Handle, allocations: Allocation[]): Map<number, string> {
  const files = new Map<number, string>();
  const name = Buffer.alloc(2 * 32_768);
  let devices: Map<string, string> | undefined;
  for (const a of allocations) {
    if (a.type !== MEM_IMAGE && a.type !== MEM_MAPPED) continue;
    const length = api().K32GetMappedFileNameW(handle, a.base, name, name.length / 2);
    if (length === 0) continue;
    // Wine counts the terminating NUL in the length of some names: the path ends at the first one.
    const path = name.toString('utf16le', 0, length * 2).split('\0')[0];
    devices ??= path.startsWith('\\Device\\') ? dosDevices() : new Map();
    files.set(a.base, toDrivePath(path, devices));
  }
  return files;
}

/** The first bytes of every MEM_PRIVATE allocation whose first page is committed and readable. */
function allocationHeaders(handle: Handle, blocks: MemoryBlock[]): Map<number, Buffer> {
  const headers = new Map<number, Buffer>();
  for (const b of blocks) {
    if (b.type !== MEM_PRIVATE || b.base !== b.allocationBase || b.state !== MEM_COMMIT) continue;
    if (b.protect === 0 || b.protect & (PAGE_NOACCESS | PAGE_GUARD)) continue;
    const header = readMemory(handle, b.base, HEADER_BYTES);
    if (header) headers.set(b.base, header);
  }
  return headers;
}

const ntSuccess = (status: number) => status >= 0;

function pebAddress(handle: Handle): number | undefined {
  const info = Buffer.alloc(PROCESS_BASIC_INFORMATION_SIZE);
  return ntSuccess(api().NtQueryInformationProcess(handle, PROCESS_BASIC_INFORMATION, info, info.length, null)) ? pebAddressOf(info) : undefined;
}

/** The PEB's heap list (undefined when the PEB cannot be read) and its ProcessHeap (0 when unknown). */
function pebHeaps(handle: Handle): { heaps: number[] | undefined; processHeap: number; processParameters: number } {
  const address = pebAddress(handle);
  const bytes = address === undefined ? undefined : readMemory(handle, address, PEB.size);
  if (!bytes) return { heaps: undefined, processHeap: 0, processParameters: 0 };
  const peb = decodePeb(bytes);
  const count = Math.min(peb.numberOfHeaps, MAX_HEAPS);
  const list = count > 0 && peb.processHeaps !== 0 ? readMemory(handle, peb.processHeaps, count * 8) : undefined;
  const heaps = count === 0 ? [] : list ? Array.from({ length: count }, (_, i) => Number(list.readBigUInt64LE(i * 8))).filter((h) => h !== 0) : undefined;
  return { heaps, processHeap: peb.processHeap, processParameters: peb.processParameters };
}

/** The command line: NtQueryInformationProcess where Windows has that class (8.1+), else from the PEB. */
function commandLineOf(handle: Handle, processParameters: number | undefined): string | undefined {
  const info = Buffer.alloc(65_536);
  if (ntSuccess(api().NtQueryInformationProcess(handle, PROCESS_COMMAND_LINE_INFORMATION, info, info.length, null))) {
    const { length } = decodeUnicodeString(info);
    return info.toString('utf16le', 16, 16 + length);
  }
  const parameters = processParameters ?? pebHeaps(handle).processParameters;
  const header = parameters ? readMemory(handle, parameters + PROCESS_PARAMETERS_COMMAND_LINE, 16) : undefined;
  if (!header) return undefined;
  const { length, buffer } = decodeUnicodeString(header);
  return length === 0 ? '' : readMemory(handle, buffer, length)?.toString('utf16le');
}

/** Every entry of a Toolhelp snapshot, decoded; empty when the snapshot cannot be taken. */
function toolhelp<T>(flags: number, size: number, decode: (bytes: Buffer) => T): T[] {
  const snapshot = api().CreateToolhelp32Snapshot(flags, 0);
  if (!snapshot || snapshot === INVALID_HANDLE_VALUE) return [];
  const [first, next] = flags === TH32CS_SNAPPROCESS ? [api().Process32FirstW, api().Process32NextW] : [api().Thread32First, api().Thread32Next];
  return withHandle(snapshot, (h) => {
    const entries: T[] = [];
    const entry = Buffer.alloc(size);
    entry.writeUInt32LE(size, 0);
    for (let ok = first(h, entry); ok; ok = next(h, entry)) entries.push(decode(entry));
    return entries;
  })!;
}

/** Each thread's stack range from its TEB; threads that cannot be opened or read are left out. */
function threadStacks(handle: Handle, pid: number): ThreadStack[] {
  const stacks: ThreadStack[] = [];
  const info = Buffer.alloc(THREAD_BASIC_INFORMATION_SIZE);
  for (const { tid, ownerPid } of toolhelp(TH32CS_SNAPTHREAD, THREADENTRY32_SIZE, decodeThreadEntry)) {
    if (ownerPid !== pid) continue;
    const thread = api().OpenThread(THREAD_QUERY_LIMITED_INFORMATION, 0, tid) ?? api().OpenThread(THREAD_QUERY_INFORMATION, 0, tid);
    const teb = withHandle(thread, (t) => (ntSuccess(api().NtQueryInformationThread(t, THREAD_BASIC_INFORMATION, info, info.length, null)) ? tebAddressOf(info) : undefined));
    if (!teb) continue;
    const tib = readMemory(handle, teb, TEB.stackLimit + 8);
    const deallocation = readMemory(handle, teb + TEB.deallocationStack, 8);
    if (!tib) continue;
    stacks.push({
      tid,
      stackBase: Number(tib.readBigUInt64LE(TEB.stackBase)),
      stackLimit: Number(tib.readBigUInt64LE(TEB.stackLimit)),
      deallocationStack: deallocation ? Number(deallocation.readBigUInt64LE(0)) : 0,
    });
  }
  return stacks;
}

/**
 * Working-set numbers per block from QueryWorkingSetEx over every committed page; undefined with the Windows error
 * when it is refused.
 */
function workingSet(handle: Handle, blocks: MemoryBlock[]): RegionUsage[] | number {
  const { pageSize } = systemInfo();
  const pages = [...committedPages(blocks, pageSize)];
  const attributes = new Uint32Array(pages.length);
  const buffer = Buffer.alloc(Math.min(pages.length, WORKING_SET_BATCH) * WORKING_SET_EX_ENTRY_SIZE);
  for (let from = 0; from < pages.length; from += WORKING_SET_BATCH) {
    const count = Math.min(WORKING_SET_BATCH, pages.length - from);
    buffer.fill(0);
    for (let i = 0; i < count; i++) buffer.writeBigUInt64LE(BigInt(pages[from + i]), i * WORKING_SET_EX_ENTRY_SIZE);
    if (!api().K32QueryWorkingSetEx(handle, buffer, count * WORKING_SET_EX_ENTRY_SIZE)) return api().GetLastError();
    for (let i = 0; i < count; i++) attributes[from + i] = buffer.readUInt32LE(i * WORKING_SET_EX_ENTRY_SIZE + 8);
  }
  return usageFromPages(blocks, attributes, pageSize);
}

function processCounters(handle: Handle) {
  const bytes = Buffer.alloc(PROCESS_MEMORY_COUNTERS_EX_SIZE);
  bytes.writeUInt32LE(bytes.length, 0);
  return api().K32GetProcessMemoryInfo(handle, bytes, bytes.length) ? decodeProcessMemoryCounters(bytes) : undefined;
}

/** Closes a probe's handle when the probe is dropped without having seen its process exit. */
const handles = new FinalizationRegistry<Handle>((handle) => api().CloseHandle(handle));

class WindowsProbe implements ProcessProbe {
  /** Windows has no exec(): a process keeps its program. */
  readonly execs = 0;
  /** Held between samples: while it is open, the pid cannot go to another process. */
  private handle: Handle | undefined;
  private startTime: string | undefined;
  private command: string | undefined;

  constructor(readonly pid: number) {}

  sample(options: SnapshotOptions): Snapshot {
    const handle = this.open();
    try {
      return this.read(handle, options);
    } catch (error) {
      if (error instanceof ProcessGoneError) this.close();
      throw error;
    }
  }

  private open(): Handle {
    if (this.handle !== undefined) {
      if (hasExited(this.handle)) {
        this.close();
        throw new ProcessGoneError(`process ${this.pid} has exited`, 'exited');
      }
      return this.handle;
    }
    const handle = openTarget(this.pid);
    const startTime = creationTimeOf(handle);
    if (hasExited(handle) || startTime === undefined) {
      api().CloseHandle(handle);
      throw new ProcessGoneError(`process ${this.pid} has exited`, 'exited');
    }
    // Reopened after a close: another process under the same pid is not the one this probe watched.
    if (this.startTime !== undefined && startTime !== this.startTime) {
      api().CloseHandle(handle);
      throw new ProcessGoneError(`pid ${this.pid} now belongs to another process`, 'pid-reused');
    }
    this.handle = handle;
    this.startTime = startTime;
    handles.register(this, handle, this);
    return handle;
  }

  /** Lets go of the process (a one-off snapshot, or the process exited). */
  close(): void {
    if (this.handle === undefined) return;
    handles.unregister(this);
    api().CloseHandle(this.handle);
    this.handle = undefined;
  }

  private read(handle: Handle, { usage }: SnapshotOptions): Snapshot {
    const pid = this.pid;
    const takenAt = new Date().toISOString();
    const blocks = walkAddressSpace(handle, pid);
    const allocations = allocationsOf(blocks);
    const files = mappedFiles(handle, allocations);
    const headers = allocationHeaders(handle, blocks);
    const peb = pebHeaps(handle);
    this.command ??= commandLineOf(handle, peb.processParameters || undefined);
    const unseen: Unseen = { pageTable: PAGE_TABLE_UNSEEN };

    const heaps = findHeaps({ pebHeaps: peb.heaps, processHeap: peb.processHeap, allocations, headers, read: (a, n) => readMemory(handle, a, n) });
    if (peb.heaps === undefined) unseen.heaps = "the process's PEB could not be read: heaps found by their segment signature (heuristic)";
    else if (heaps.source === 'signature') unseen.heaps = "the PEB's heap list is empty (Wine keeps none): heaps found by their segment signature (heuristic)";
    if (heaps.heaps.length === 0) unseen.heaps = 'no heap found (empty PEB heap list, no segment signature): heap memory is in Private';

    // Stacks first: a claim is never taken over.
    const claims = new Map<number, Claim>(stackClaims(threadStacks(handle, pid), allocations));
    for (const found of [heaps.claims, v8Claims(allocations, headers)]) for (const [base, claim] of found) if (!claims.has(base)) claims.set(base, claim);

    const clr = clrModule(allocations.filter((a) => a.type === MEM_IMAGE).map((a) => files.get(a.base) ?? ''));
    if (clr) unseen.managedHeap = `.NET runtime loaded (${clr}): its GC heap is not told apart from Private (only the runtime's debugging interface says where it is)`;

    let perBlock: RegionUsage[] | undefined;
    if (usage) {
      // Our own process through its pseudo-handle: Wine answers QueryWorkingSetEx for that one only.
      const ws = workingSet(pid === process.pid ? api().GetCurrentProcess() : handle, blocks);
      if (typeof ws === 'number') unseen.workingSet = `QueryWorkingSetEx was refused (Windows error ${ws}; Wine refuses it across processes): no per-region working set; Total WS and Private of the total are the process's own figures`;
      else perBlock = ws;
    }
    const regions = classifyBlocks({ blocks, files, claims, usage: perBlock && ((_, i) => perBlock![i]) });

    const { minimumApplicationAddress, maximumApplicationAddress, allocationGranularity } = systemInfo();
    const space = freeSpace(blocks, minimumApplicationAddress, maximumApplicationAddress + 1, allocationGranularity);
    const summary = summarize(regions, undefined, space.free);
    if (usage && !perBlock) {
      const counters = processCounters(handle);
      // The commit charge: PrivateUsage, which Wine answers 0 for, else PagefileUsage (the same figure on Windows).
      // A 0 in both is "not known", never a figure.
      const commitCharge = counters && (counters.privateUsage || counters.pagefileUsage);
      if (counters && counters.workingSetSize > 0) summary.total.totalWs = counters.workingSetSize;
      if (commitCharge) summary.total.private = commitCharge;
    }
    if (hasExited(handle)) throw exitedDuringRead(pid);

    const managedHeaps = regions.some((r) => r.details === 'V8 heap') ? [{ runtime: 'v8' as const, method: 'heuristic' as const }] : [];
    return {
      pid,
      startTime: this.startTime!,
      command: this.command ?? '',
      takenAt,
      ...summary,
      managedHeaps,
      unseen,
      unusable: space.unusable,
      regions,
    };
  }
}

/** Every process of a Toolhelp snapshot that is still running, with its creation time (when it can be opened). */
function processEntries(): (ProcessEntry & { startTime: string | undefined })[] {
  return toolhelp(TH32CS_SNAPPROCESS, PROCESSENTRY32W_SIZE, decodeProcessEntry).map((entry) => ({ ...entry, startTime: startTimeOf(entry.pid) }));
}

function startTimeOf(pid: number): string | undefined {
  return withHandle(api().OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid), creationTimeOf);
}

/**
 * Direct children. Windows keeps a process's parent pid after the parent exits, and pids are reused: a process
 * counts as a child only when it was created after the parent was.
 */
function childrenOf(pid: number, entries = processEntries()): number[] {
  const parent = entries.find((e) => e.pid === pid);
  if (!parent?.startTime) return [];
  return entries.filter((e) => e.parentPid === pid && e.pid !== pid && e.startTime !== undefined && e.startTime >= parent.startTime!).map((e) => e.pid);
}

/**
 * Windows has no process groups: the "group" of a `run` command is the tree of processes it started, the command
 * itself (while it runs) and its descendants, by parent pid and creation time. Once the command has exited its
 * start time is gone, so its direct children are found by parent pid alone (a reused pid could slip in).
 */
function groupMembers(leader: number): number[] {
  const entries = processEntries();
  const members: number[] = [];
  const leaderEntry = entries.find((e) => e.pid === leader);
  if (leaderEntry) members.push(leader);
  const queue = leaderEntry ? childrenOf(leader, entries) : entries.filter((e) => e.parentPid === leader).map((e) => e.pid);
  while (queue.length > 0) {
    const pid = queue.shift()!;
    if (members.includes(pid)) continue;
    members.push(pid);
    queue.push(...childrenOf(pid, entries));
  }
  return members;
}

/** Processes this user can open (others are left out, as on Linux a process whose cmdline cannot be read is). */
function listProcesses(): ProcessInfo[] {
  const list: ProcessInfo[] = [];
  for (const entry of toolhelp(TH32CS_SNAPPROCESS, PROCESSENTRY32W_SIZE, decodeProcessEntry)) {
    if (entry.pid === 0) continue;
    const limited = PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE;
    const handle = api().OpenProcess(limited | PROCESS_VM_READ, 0, entry.pid) ?? api().OpenProcess(limited, 0, entry.pid);
    const info = withHandle(handle, (h) => {
      const startTime = creationTimeOf(h);
      if (startTime === undefined || hasExited(h)) return undefined;
      const commandLine = commandLineOf(h, undefined);
      const argv = commandLine ? splitCommandLine(commandLine) : [entry.exeFile];
      return { pid: entry.pid, parentPid: entry.parentPid, name: entry.exeFile, argv, startTime };
    });
    if (info) list.push(info);
  }
  return list;
}

/**
 * The system's commit limit (K32GetPerformanceInfo, else GlobalMemoryStatusEx's ullTotalPageFile), the Windows
 * counterpart of Linux's CommitLimit. A job object's memory limit would be lower, but Windows reads a job's limits
 * only through a handle to the job, which another process's job does not give out: a target in a job with a limit
 * is not told.
 */
function memoryLimit(): MemoryLimit | undefined {
  const info = Buffer.alloc(PERFORMANCE_INFORMATION_SIZE);
  info.writeUInt32LE(info.length, 0);
  if (api().K32GetPerformanceInfo(info, info.length)) return { bytes: commitLimitOf(info), source: 'system commit limit' };
  const status = Buffer.alloc(MEMORYSTATUSEX_SIZE);
  status.writeUInt32LE(status.length, 0);
  return api().GlobalMemoryStatusEx(status) ? { bytes: totalPageFileOf(status), source: 'system commit limit' } : undefined;
}

export const windowsCollector: Collector = {
  platform: `win32-${process.arch}`,
  snapshot: (pid, options) => {
    const probe = new WindowsProbe(pid);
    try {
      return probe.sample(options);
    } finally {
      probe.close();
    }
  },
  open: (pid) => new WindowsProbe(pid),
  children: (pid) => childrenOf(pid),
  startTimeOf,
  memoryLimit,
  processes: listProcesses,
  groupMembers,
};
