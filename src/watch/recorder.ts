/**
 * The watch loop: on each tick, sample the target (and its descendants), store the tick, and stop on the first
 * end condition: duration, target exit, pid reuse, a signal, or an error. Reads and writes are synchronous, so a
 * signal is handled between ticks: the sample in progress is always finished and committed first.
 */
import { hostname } from 'node:os';
import type { Collector, MemoryType, ProcessProbe, Snapshot } from '../collector/types.js';
import type { Db } from '../db/open.js';
import { closeAbandonedSessions, SessionWriter, type EndReason, type ProcessSample } from '../db/store.js';
import { LeakwatchError, ProcessGoneError } from '../errors.js';
import { SmapsBudget } from './budget.js';
import { OnlineAnalysis } from './online.js';
import { startTicker, type Schedule } from './schedule.js';

export interface WatchSpec {
  pid: number;
  schedule: Schedule;
  durationMs: number | undefined;
  followChildren: boolean;
  label: string | undefined;
  mode: 'watch' | 'run';
  /** For `run`: the command leakwatch started (else the target's own command line is used). */
  command: string | undefined;
  /** For `run`: the child leakwatch started. */
  child: StartedChild | undefined;
}

export interface StartedChild {
  /** Resolves with the exit code (128 + signal number when killed by a signal) once the child has exited. */
  exited: Promise<number>;
  /** Ends the child (when the watch ends first) and resolves with its exit code. */
  terminate(): Promise<number>;
}

export interface TickStatus {
  elapsedMs: number;
  ticks: number;
  processes: number;
  /** The latest and the first session totals (summed over processes), per type. */
  latest: Snapshot['types'];
  first: Snapshot['types'];
  /** Gated types the online analysis currently finds suspected or leaking. */
  alerts: Partial<Record<MemoryType, 'suspected' | 'leak'>>;
}

export interface WatchResult {
  session: number;
  samples: number;
  endReason: EndReason;
  exitCode: number | null;
  skippedTicks: number;
  error?: string;
}

export interface WatchHooks {
  onTick?(status: TickStatus): void;
  /** Lets the caller stop the watch (signals): the current tick finishes first. */
  onReady?(stop: (reason: EndReason) => void): void;
}

/** Session totals: each type's numbers summed over the sampled processes. */
function sumTypes(snapshots: Snapshot[]): Snapshot['types'] {
  const total = structuredClone(snapshots[0].types);
  for (const s of snapshots.slice(1)) {
    for (const type of Object.keys(total) as (keyof Snapshot['types'])[]) {
      for (const [column, value] of Object.entries(s.types[type]) as [keyof Snapshot['types'][typeof type], number][]) {
        total[type][column] = (total[type][column] ?? 0) + value;
      }
    }
  }
  return total;
}

export async function recordSession(collector: Collector, db: Db, spec: WatchSpec, hooks: WatchHooks = {}): Promise<WatchResult> {
  const host = hostname();
  const ownStartTime = collector.startTimeOf(process.pid);
  if (ownStartTime === undefined) throw new Error('cannot read leakwatch\'s own process start time');
  closeAbandonedSessions(db, host, (pid, startTime) => collector.startTimeOf(pid) === startTime);

  const budget = new SmapsBudget();
  const probes = new Map<number, ProcessProbe>();
  const parents = new Map<number, number | undefined>([[spec.pid, undefined]]);
  const root = collector.open(spec.pid);
  probes.set(spec.pid, root);
  const clockStart = performance.now();
  // The first sample is taken before the session exists: a bad pid is a usage error, not an empty session.
  const firstRoot = root.sample({ usage: true });
  budget.record(spec.pid, 0, performance.now() - clockStart);

  const limit = collector.memoryLimit(spec.pid);
  const writer = SessionWriter.create(db, {
    label: spec.label,
    command: spec.command ?? firstRoot.command,
    mode: spec.mode,
    targetPid: spec.pid,
    targetStartTime: firstRoot.startTime,
    host,
    platform: `${process.platform}-${process.arch}`,
    intervalMs: spec.schedule.kind === 'every' ? spec.schedule.ms : null,
    cron: spec.schedule.kind === 'cron' ? spec.schedule.expression : null,
    followChildren: spec.followChildren,
    startedAt: Date.now(),
    collectorPid: process.pid,
    collectorStartTime: ownStartTime,
    limitBytes: limit?.bytes,
    limitSource: limit?.source,
  });

  let seq = 0;
  let skippedTicks = 0;
  const online = new OnlineAnalysis();
  let firstTotals: Snapshot['types'] | undefined;
  let finish!: (end: { reason: EndReason; error?: string }) => void;
  const ended = new Promise<{ reason: EndReason; error?: string }>((resolve) => (finish = resolve));
  let stopped = false;
  const stop = (reason: EndReason, error?: string) => {
    if (stopped) return;
    stopped = true;
    finish({ reason, error });
  };

  /** The target and, when following children, every descendant alive now (breadth-first). */
  const currentPids = (): number[] => {
    if (!spec.followChildren) return [spec.pid];
    const pids = [spec.pid];
    for (let i = 0; i < pids.length; i++) {
      for (const child of collector.children(pids[i])) {
        parents.set(child, pids[i]);
        pids.push(child);
      }
    }
    return pids;
  };

  const sampleProcess = (pid: number, pending: Snapshot | undefined): ProcessSample | undefined => {
    let probe = probes.get(pid);
    if (!probe) probes.set(pid, (probe = collector.open(pid)));
    if (pending) return { snapshot: pending, withUsage: true, parentPid: parents.get(pid) };
    const now = performance.now() - clockStart;
    const usage = budget.allows(pid, now);
    try {
      const snapshot = probe.sample({ usage });
      if (usage) budget.record(pid, now, performance.now() - clockStart - now);
      return { snapshot, withUsage: usage, parentPid: parents.get(pid) };
    } catch (error) {
      if (pid === spec.pid) throw error;
      // A descendant that exited (or cannot be read) drops out of the session; the target's own fate decides the end.
      if (!(error instanceof LeakwatchError)) throw error;
      probes.delete(pid);
      budget.forget(pid);
      return undefined;
    }
  };

  const tick = () => {
    if (stopped) return;
    const takenAt = Date.now();
    const elapsedMs = Math.round(performance.now() - clockStart);
    try {
      const pids = currentPids();
      for (const pid of probes.keys()) if (!pids.includes(pid)) probes.delete(pid);
      const samples = pids
        .map((pid) => sampleProcess(pid, seq === 0 && pid === spec.pid ? firstRoot : undefined))
        .filter((s): s is ProcessSample => s !== undefined);
      writer.recordTick({ seq, takenAt, elapsedMs, samples });
      const totals = sumTypes(samples.map((s) => s.snapshot));
      firstTotals ??= totals;
      const alerts = online.add(elapsedMs, totals, (type, verdict) => writer.recordVerdict(type, verdict, takenAt, seq));
      seq++;
      hooks.onTick?.({ elapsedMs, ticks: seq, processes: samples.length, latest: totals, first: firstTotals, alerts });
    } catch (error) {
      if (error instanceof ProcessGoneError) stop(error.reason === 'pid-reused' ? 'pid-reused' : 'target-exited');
      else stop('error', (error as Error).message);
    }
  };

  hooks.onReady?.((reason) => stop(reason));
  spec.child?.exited.then(() => stop('target-exited'));
  const durationTimer = spec.durationMs === undefined ? undefined : setTimeout(() => stop('duration'), spec.durationMs);
  const ticker = startTicker(spec.schedule, tick, (count) => (skippedTicks += count));
  const end = await ended;
  ticker.stop();
  clearTimeout(durationTimer);
  // `run` owns its child: a watch that ends first (duration, signal) ends the child too, and records how it exited.
  const exitCode = spec.child ? await (end.reason === 'target-exited' ? spec.child.exited : spec.child.terminate()) : null;
  writer.end(end.reason, { endedAt: Date.now(), exitCode, error: end.error });
  return { session: writer.id, samples: seq, endReason: end.reason, exitCode, skippedTicks, error: end.error };
}
