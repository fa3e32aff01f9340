/**
 * Which processes a watch is about: a pid, every process matching a name, or the pid in a pid file. Soak targets
 * are services: found by name or pid file, and restarted (crash, OOM kill, watchdog) under a new pid.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Collector, ProcessInfo } from '../collector/types.js';
import { LeakwatchError } from '../errors.js';

export type TargetSelector =
  | { kind: 'pid'; pid: number }
  /** Without a `/`: a glob on the process name (or its program's file name); with one: a part of the command line. */
  | { kind: 'name'; pattern: string; all: boolean }
  | { kind: 'pidfile'; file: string };

/** How the session's target was chosen, for people (and the heartbeat). */
export function describeSelector(selector: TargetSelector): string {
  switch (selector.kind) {
    case 'pid':
      return `pid ${selector.pid}`;
    case 'name':
      return `${selector.all ? 'every process' : 'the process'} matching '${selector.pattern}'`;
    case 'pidfile':
      return `the pid in ${selector.file}`;
  }
}

/** Why a watch that does not wait (no --follow) has nothing to watch. */
export function noTargetMessage(selector: Exclude<TargetSelector, { kind: 'pid' }>): string {
  return selector.kind === 'name'
    ? `no process matches '${selector.pattern}' (add --follow to wait for one)`
    : `${selector.file} names no running process (missing, no pid, or its process is gone; add --follow to wait for one)`;
}

/** `redis-*`, `python?`: shell-style glob, anchored, case-sensitive like process names. */
function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** Whether a process matches a `--name` pattern. */
export function matchesName(pattern: string, process: Pick<ProcessInfo, 'name' | 'argv'>): boolean {
  if (pattern.includes('/')) return process.argv.join(' ').includes(pattern);
  const glob = globToRegExp(pattern);
  const program = process.argv[0] === undefined ? '' : path.basename(process.argv[0]);
  return glob.test(process.name) || glob.test(program);
}

/** leakwatch itself and the processes it runs under (a shell, npx): never a target, whatever their name. */
function ownLineage(list: ProcessInfo[]): Set<number> {
  const parents = new Map(list.map((p) => [p.pid, p.parentPid]));
  const lineage = new Set<number>();
  for (let pid: number | undefined = process.pid; pid !== undefined && pid > 1 && !lineage.has(pid); pid = parents.get(pid)) lineage.add(pid);
  return lineage;
}

/**
 * The processes matching a name, oldest first. With `topmost`, a match whose parent also matches is left out: it
 * is sampled as that parent's child (a server's workers, with --children).
 */
export function findByName(collector: Collector, pattern: string, topmost: boolean): ProcessInfo[] {
  const list = collector.processes();
  const own = ownLineage(list);
  const matches = list.filter((p) => !own.has(p.pid) && matchesName(pattern, p));
  const matched = new Set(matches.map((p) => p.pid));
  return matches.filter((p) => !topmost || !matched.has(p.parentPid)).sort((a, b) => a.startTime.localeCompare(b.startTime) || a.pid - b.pid);
}

/** The pid a pid file holds and when the file was written, or undefined when it is missing, empty or holds no pid. */
export function readPidFile(file: string): { pid: number; writtenAt: number } | undefined {
  let text: string;
  let writtenAt: number;
  try {
    text = readFileSync(file, 'utf8');
    writtenAt = statSync(file).mtimeMs;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LeakwatchError(`cannot read pid file ${file}: ${(error as Error).message}`);
  }
  const match = /^\s*(\d+)\s*$/.exec(text.split('\n')[0] ?? '');
  return match ? { pid: Number(match[1]), writtenAt } : undefined;
}

// Process start times are known to the second (the boot time's precision): the slack when comparing with a file's.
const START_TIME_SLACK_MS = 1000;

/**
 * The targets alive now. A pid selector always names its one pid (whether it lives is the sampler's business);
 * `--name` without `--all` matching several processes is a usage error that lists them.
 */
export function findTargets(collector: Collector, selector: TargetSelector, topmost: boolean): number[] {
  switch (selector.kind) {
    case 'pid':
      return [selector.pid];
    case 'pidfile': {
      // A stale pid file whose pid now belongs to a process started after the file was written names someone else.
      const written = readPidFile(selector.file);
      const startTime = written && collector.startTimeOf(written.pid);
      return written && startTime !== undefined && Date.parse(startTime) <= written.writtenAt + START_TIME_SLACK_MS ? [written.pid] : [];
    }
    case 'name': {
      const matches = findByName(collector, selector.pattern, topmost);
      if (matches.length > 1 && !selector.all) {
        const listed = matches.slice(0, 10).map((p) => `${p.pid} (${p.argv.join(' ').slice(0, 60)})`).join(', ');
        throw new LeakwatchError(`${matches.length} processes match '${selector.pattern}': ${listed}${matches.length > 10 ? ', …' : ''}; name one with a more specific pattern, or watch them all as one session with --all`);
      }
      return matches.map((p) => p.pid);
    }
  }
}
