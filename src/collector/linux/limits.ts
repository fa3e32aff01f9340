/**
 * The memory limits a process can run into, lowest first: its cgroup's memory limit (v2 memory.max or v1
 * memory.limit_in_bytes, walking up the hierarchy), RLIMIT_AS (address space), and the system's CommitLimit.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { MemoryLimit } from '../types.js';

// cgroup v1 writes "no limit" as a page-rounded 2^63 − 1.
const UNLIMITED = 2 ** 62;

/** `Max address space` soft limit from /proc/PID/limits, undefined when unlimited. */
export function parseAddressSpaceLimit(limitsText: string): number | undefined {
  const m = /^Max address space\s+(\S+)/m.exec(limitsText);
  return m && m[1] !== 'unlimited' ? Number(m[1]) : undefined;
}

/** A `Key:   N kB` line of /proc/meminfo, in bytes. */
export function parseMeminfo(meminfoText: string, key: string): number | undefined {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(meminfoText);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** The memory cgroup path from /proc/PID/cgroup: v2's `0::/path`, else v1's `N:…memory…:/path`. */
export function parseMemoryCgroup(cgroupText: string): { version: 1 | 2; path: string } | undefined {
  const lines = cgroupText.split('\n');
  const v1 = lines.map((l) => l.split(':')).find((f) => f.length >= 3 && f[1].split(',').includes('memory'));
  if (v1) return { version: 1, path: v1.slice(2).join(':') };
  const v2 = lines.find((l) => l.startsWith('0::'));
  return v2 ? { version: 2, path: v2.slice(3) } : undefined;
}

function readNumber(file: string): number | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim();
    return text === 'max' ? undefined : Number(text);
  } catch {
    return undefined; // not mounted here, or not visible from this cgroup namespace
  }
}

/** The lowest limit on the way from the process's cgroup up to the root. */
function cgroupLimit(pid: number): number | undefined {
  let cgroupText: string;
  try {
    cgroupText = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return undefined;
  }
  const cgroup = parseMemoryCgroup(cgroupText);
  if (!cgroup) return undefined;
  const [mount, file] = cgroup.version === 2 ? ['/sys/fs/cgroup', 'memory.max'] : ['/sys/fs/cgroup/memory', 'memory.limit_in_bytes'];
  let lowest: number | undefined;
  for (let dir = cgroup.path; ; dir = path.posix.dirname(dir)) {
    const limit = readNumber(path.join(mount, dir, file));
    if (limit !== undefined && limit < UNLIMITED) lowest = Math.min(lowest ?? limit, limit);
    if (dir === '/' || dir === '.') break;
  }
  return lowest;
}

export function memoryLimit(pid: number): MemoryLimit | undefined {
  const read = (file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  const candidates: MemoryLimit[] = [];
  const cgroup = cgroupLimit(pid);
  if (cgroup !== undefined) candidates.push({ bytes: cgroup, source: 'cgroup memory limit' });
  const addressSpace = parseAddressSpaceLimit(read(`/proc/${pid}/limits`));
  if (addressSpace !== undefined) candidates.push({ bytes: addressSpace, source: 'RLIMIT_AS' });
  const commitLimit = parseMeminfo(read('/proc/meminfo'), 'CommitLimit');
  if (commitLimit !== undefined) candidates.push({ bytes: commitLimit, source: 'system commit limit' });
  return candidates.sort((a, b) => a.bytes - b.bytes)[0];
}
