/**
 * The Windows structures the collector reads, as byte offsets for a 64-bit process, and their decoders. Pure: every
 * decoder takes the bytes a call filled in. Documented layouts cite their Win32 header; the PEB and TEB fields past
 * what winternl.h documents are the ones NOTES.md §3 lists (stable since Windows Vista x64, and what Wine lays out).
 */

/** VirtualQueryEx's MEMORY_BASIC_INFORMATION (winnt.h), 48 bytes on x64. */
export const MBI_SIZE = 48;
export const MEM_COMMIT = 0x1000;
export const MEM_RESERVE = 0x2000;
export const MEM_FREE = 0x10000;
export const MEM_PRIVATE = 0x20000;
export const MEM_MAPPED = 0x40000;
export const MEM_IMAGE = 0x1000000;

/** One answer of VirtualQueryEx: a run of pages of one allocation with the same state, protection and type. */
export interface MemoryBlock {
  base: number;
  /** Where the VirtualAlloc / MapViewOfFile / image load this block belongs to began. 0 for free blocks. */
  allocationBase: number;
  /** The protection the allocation was made with (PAGE_*). */
  allocationProtect: number;
  size: number;
  /** MEM_COMMIT, MEM_RESERVE or MEM_FREE. */
  state: number;
  /** The current protection of these pages (PAGE_*; 0 where reserved). */
  protect: number;
  /** MEM_IMAGE, MEM_MAPPED or MEM_PRIVATE; 0 for free blocks. */
  type: number;
}

// Addresses of a 64-bit user address space are below 2^47 (2^57 with 5-level paging): exact as JS numbers.
const u64 = (bytes: Buffer, offset: number) => Number(bytes.readBigUInt64LE(offset));

export function decodeMemoryBlock(bytes: Buffer): MemoryBlock {
  return {
    base: u64(bytes, 0),
    allocationBase: u64(bytes, 8),
    allocationProtect: bytes.readUInt32LE(16),
    // PartitionId (u16) at 20, then padding.
    size: u64(bytes, 24),
    state: bytes.readUInt32LE(32),
    protect: bytes.readUInt32LE(36),
    type: bytes.readUInt32LE(40),
  };
}

/** GetSystemInfo's SYSTEM_INFO (sysinfoapi.h), 48 bytes on x64. */
export const SYSTEM_INFO_SIZE = 48;
export interface SystemInfo {
  pageSize: number;
  minimumApplicationAddress: number;
  /** The highest address a process can use (inclusive: 0x7ffffffeffff on x64). */
  maximumApplicationAddress: number;
  allocationGranularity: number;
}

export function decodeSystemInfo(bytes: Buffer): SystemInfo {
  return {
    pageSize: bytes.readUInt32LE(4),
    minimumApplicationAddress: u64(bytes, 8),
    maximumApplicationAddress: u64(bytes, 16),
    allocationGranularity: bytes.readUInt32LE(40),
  };
}

/** PROCESS_BASIC_INFORMATION (winternl.h), from NtQueryInformationProcess(ProcessBasicInformation = 0). */
export const PROCESS_BASIC_INFORMATION_SIZE = 48;
export const pebAddressOf = (bytes: Buffer) => u64(bytes, 8);

/** The PEB fields read, x64 offsets. */
export const PEB = {
  processParameters: 0x20,
  processHeap: 0x30,
  numberOfHeaps: 0xe8,
  processHeaps: 0xf0,
  /** Bytes to read to cover every field above. */
  size: 0xf8,
} as const;

export interface PebHeaps {
  /** The default heap (GetProcessHeap), 0 when unset. */
  processHeap: number;
  numberOfHeaps: number;
  /** Address of the array of NumberOfHeaps heap pointers. */
  processHeaps: number;
  processParameters: number;
}

export function decodePeb(bytes: Buffer): PebHeaps {
  return {
    processHeap: u64(bytes, PEB.processHeap),
    numberOfHeaps: bytes.readUInt32LE(PEB.numberOfHeaps),
    processHeaps: u64(bytes, PEB.processHeaps),
    processParameters: u64(bytes, PEB.processParameters),
  };
}

/** RTL_USER_PROCESS_PARAMETERS.CommandLine (winternl.h): a UNICODE_STRING at 0x70. */
export const PROCESS_PARAMETERS_COMMAND_LINE = 0x70;

/** A UNICODE_STRING: Length (bytes, u16), MaximumLength (u16), padding, Buffer (pointer at 8). */
export function decodeUnicodeString(bytes: Buffer, offset = 0): { length: number; buffer: number } {
  return { length: bytes.readUInt16LE(offset), buffer: u64(bytes, offset + 8) };
}

/** THREAD_BASIC_INFORMATION from NtQueryInformationThread(ThreadBasicInformation = 0): TebBaseAddress at 8. */
export const THREAD_BASIC_INFORMATION_SIZE = 48;
export const tebAddressOf = (bytes: Buffer) => u64(bytes, 8);

/** The TEB fields read, x64 offsets: NT_TIB's StackBase and StackLimit, and DeallocationStack. */
export const TEB = { stackBase: 0x08, stackLimit: 0x10, deallocationStack: 0x1478 } as const;

export interface ThreadStack {
  tid: number;
  /** The stack's top (it grows down from here). */
  stackBase: number;
  /** The lowest committed address of the stack. */
  stackLimit: number;
  /** Where the stack's reservation begins (its allocation base); 0 when not set. */
  deallocationStack: number;
}

/** PROCESSENTRY32W (tlhelp32.h), 568 bytes on x64. */
export const PROCESSENTRY32W_SIZE = 568;
export interface ProcessEntry {
  pid: number;
  parentPid: number;
  threads: number;
  /** The executable's file name (not its path). */
  exeFile: string;
}

export function decodeProcessEntry(bytes: Buffer): ProcessEntry {
  const nameBytes = bytes.subarray(44, 44 + 520);
  let end = 0;
  while (end < nameBytes.length && nameBytes.readUInt16LE(end) !== 0) end += 2;
  return {
    pid: bytes.readUInt32LE(8),
    threads: bytes.readUInt32LE(28),
    parentPid: bytes.readUInt32LE(32),
    exeFile: nameBytes.toString('utf16le', 0, end),
  };
}

/** THREADENTRY32 (tlhelp32.h), 28 bytes. */
export const THREADENTRY32_SIZE = 28;
export const decodeThreadEntry = (bytes: Buffer) => ({ tid: bytes.readUInt32LE(8), ownerPid: bytes.readUInt32LE(12) });

/** PROCESS_MEMORY_COUNTERS_EX (psapi.h), 80 bytes on x64: the process's own totals. */
export const PROCESS_MEMORY_COUNTERS_EX_SIZE = 80;
export interface ProcessMemoryCounters {
  workingSetSize: number;
  /** The process's commit charge; Windows gives the same number as PrivateUsage, Wine only here. */
  pagefileUsage: number;
  /** The process's private commit charge (what Task Manager calls Commit size); Wine answers 0. */
  privateUsage: number;
}

export function decodeProcessMemoryCounters(bytes: Buffer): ProcessMemoryCounters {
  return { workingSetSize: u64(bytes, 16), pagefileUsage: u64(bytes, 56), privateUsage: u64(bytes, 72) };
}

/** PERFORMANCE_INFORMATION (psapi.h), 104 bytes on x64: CommitLimit is in pages of PageSize bytes. */
export const PERFORMANCE_INFORMATION_SIZE = 104;
export const commitLimitOf = (bytes: Buffer) => u64(bytes, 16) * u64(bytes, 80);

/** MEMORYSTATUSEX (sysinfoapi.h), 64 bytes: ullTotalPageFile is the commit limit in bytes. */
export const MEMORYSTATUSEX_SIZE = 64;
export const totalPageFileOf = (bytes: Buffer) => u64(bytes, 24);

/**
 * PSAPI_WORKING_SET_EX_INFORMATION (psapi.h): 16 bytes per page, the address in, the attributes out. Of the
 * attributes' low 32 bits: Valid (bit 0: in the working set), ShareCount (bits 1–3), Win32Protection (4–14),
 * Shared (15), Node (16–21), Locked (22), LargePage (23), Bad (31). The rest only mean this when Valid is set.
 */
export const WORKING_SET_EX_ENTRY_SIZE = 16;
export interface PageAttributes {
  valid: boolean;
  shared: boolean;
  shareCount: number;
  locked: boolean;
}

export function decodePageAttributes(low32: number): PageAttributes {
  return {
    valid: (low32 & 1) !== 0,
    shareCount: (low32 >>> 1) & 7,
    shared: (low32 & (1 << 15)) !== 0,
    locked: (low32 & (1 << 22)) !== 0,
  };
}

/**
 * A FILETIME (100 ns ticks since 1601-01-01 UTC) as ISO 8601, to the millisecond.
 * @example fileTimeToIso(116444736000000000n) // '1970-01-01T00:00:00.000Z'
 */
export function fileTimeToIso(ticks: bigint): string {
  const EPOCH_DIFFERENCE_MS = 11_644_473_600_000n;
  return new Date(Number(ticks / 10_000n - EPOCH_DIFFERENCE_MS)).toISOString();
}

/** Win32 error codes the collector tells apart. */
export const ERROR = {
  ACCESS_DENIED: 5,
  INVALID_HANDLE: 6,
  INVALID_PARAMETER: 87,
  INSUFFICIENT_BUFFER: 122,
  BAD_LENGTH: 24,
  PARTIAL_COPY: 299,
} as const;
