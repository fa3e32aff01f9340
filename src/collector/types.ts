import type { MemoryType } from '../vocabulary.js';

/** VMMap's column set, all in bytes. Optional fields are left out when the platform cannot know them. */
export interface TypeTotals {
  size: number;
  committed: number;
  private?: number;
  totalWs?: number;
  privateWs?: number;
  shareableWs?: number;
  sharedWs?: number;
  lockedWs?: number;
  blocks?: number;
  largest?: number;
}

/** How a region's type was decided: from a fact the OS states, or from a layout pattern that usually holds. */
export type Method = 'exact' | 'heuristic';

/** Working-set numbers of one region; absent when only the cheap map listing was read. */
export interface RegionUsage {
  private: number;
  totalWs: number;
  privateWs: number;
  shareableWs: number;
  sharedWs: number;
  lockedWs: number;
}

export interface Region extends Partial<RegionUsage> {
  /** Hex address strings, as the OS prints them (exact even above 2^53). */
  start: string;
  end: string;
  type: Exclude<MemoryType, 'pageTable' | 'free'>;
  /** e.g. `rw-p` on Linux; on Windows the block's current protection: `rw-`, `r-x`, `rc-` (copy-on-write), `rw-+guard`, `reserved`. */
  protection: string;
  size: number;
  committed: number;
  /** File path, `[thread 1234 stack]`, `glibc arena`, `V8 heap`, … */
  details: string;
  method: Method;
}

export interface ManagedRuntime {
  runtime: 'v8' | 'jvm';
  method: Method;
}

/** One look at a process: the interface between the collector and everything after it. */
export interface Snapshot {
  pid: number;
  /** Process start time (ISO 8601). Together with pid it identifies the process across pid reuse. */
  startTime: string;
  command: string;
  takenAt: string;
  types: Record<MemoryType, TypeTotals>;
  /** Sum over the mapped types (all but Page Table and Free): matches the kernel's own totals of the mappings. */
  total: TypeTotals;
  /** Runtimes whose managed heap was found, and how. */
  managedHeaps: ManagedRuntime[];
  /**
   * Linux: whether glibc's mmapped chunks (large mallocs) were looked for in the process's memory: 'refused' when it
   * could not be read (/proc/PID/mem needs the right to attach), and then they are counted as Private. Absent on
   * Windows, which has no such chunks (`unseen` says what a Windows snapshot could not see).
   */
  heapChunks?: 'read' | 'refused';
  /**
   * Windows: what was looked for and not seen, each with why, so that a reader never takes a 0 or a missing column
   * for a measurement. Absent when everything was seen (and on Linux).
   */
  unseen?: Unseen;
  /**
   * Windows: the part of Free that VMMap calls Unusable: free space from the end of an allocation up to the next
   * allocation-granularity boundary (64 KiB), where no allocation can start. It is counted in Free too.
   */
  unusable?: { size: number; blocks: number };
  regions: Region[];
}

/** What a snapshot could not see, by what it concerns; each value says why in a sentence. */
export interface Unseen {
  /** The heaps (or some of them) were not found: their memory is in Private. */
  heaps?: string;
  /** Per-region working-set numbers could not be read: regions and types have no WS columns. */
  workingSet?: string;
  /** The page-table size is not known: Page Table's 0 means "not known". */
  pageTable?: string;
  /** A runtime's managed heap is not told apart: its memory is in Private. */
  managedHeap?: string;
}

export interface SnapshotOptions {
  /** Read per-region working-set numbers (Linux: smaps). Costlier; without it WS columns are left out. */
  usage: boolean;
}

/** A process being watched: keeps what one sample learns that helps the next (e.g. VmFlags from the last smaps). */
export interface ProcessProbe {
  readonly pid: number;
  /** How often the process has exec()d a program since the probe's first sample: same pid, new memory and command. */
  readonly execs: number;
  /** Throws ProcessGoneError when the process exited or its pid now belongs to another process. */
  sample(options: SnapshotOptions): Snapshot;
}

/** The lowest memory limit the process can run into, and which one it is. */
export interface MemoryLimit {
  bytes: number;
  source: 'cgroup memory limit' | 'RLIMIT_AS' | 'system commit limit';
}

/** A running process as a process list shows it: what finding a target by name needs. */
export interface ProcessInfo {
  pid: number;
  parentPid: number;
  /** The kernel's name for it (Linux: comm, at most 15 characters). */
  name: string;
  /** The arguments, as started. */
  argv: string[];
  startTime: string;
}

/** One implementation per platform, chosen once by `loadCollector`. */
export interface ProcessUsage {
  cpuSeconds: number;
  residentBytes: number;
}

export interface Collector {
  /** The platform its samples are of (`linux-x64`, `win32-x64`): what a session recorded with it is stored as. */
  readonly platform: string;
  /** One look at a process. */
  snapshot(pid: number, options: SnapshotOptions): Snapshot;
  /** A probe for sampling the same process repeatedly. */
  open(pid: number): ProcessProbe;
  /** Direct children's pids (empty when the process is gone). */
  children(pid: number): number[];
  /** The process's start time (as in Snapshot.startTime), or undefined when no such process exists. */
  startTimeOf(pid: number): string | undefined;
  /** The lowest known memory limit for the process, or undefined when none is known. */
  memoryLimit(pid: number): MemoryLimit | undefined;
  /**
   * What a process costs (leakwatch's own collector, for the exporter): CPU time so far and resident memory; undefined
   * when it is gone or another process now has the pid. Absent where the platform's collector does not say.
   */
  usageOf?(pid: number, startTime: string): ProcessUsage | undefined;
  /** Every live (not zombie) user process visible to this user, kernel threads left out. */
  processes(): ProcessInfo[];
  /** The live (not zombie) processes of a process group. */
  groupMembers(pgid: number): number[];
  /** Ends what the collector started (a remote one's far side); absent when there is nothing to end. */
  close?(): void;
}
