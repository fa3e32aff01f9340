/**
 * The watch loop: on each tick, sample the target (and its descendants), store the tick, and stop on the first
 * end condition: duration, target exit, pid reuse, a signal, or an error. Reads and writes are synchronous, so a
 * signal is handled between ticks: the sample in progress is always finished and committed first. A database that
 * cannot take a write for a while (locked, full, read-only) does not stop the sampling: ticks wait in memory and are
 * written when it is back (see db/queue.ts); a database file deleted or replaced under the watch ends it, and what
 * the open file held is saved beside it.
 */
import { rmSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Collector, ProcessProbe, Snapshot } from '../collector/types.js';
import { databaseFault, OUTAGE_WORDS, outageCause } from '../db/faults.js';
import { type Db, fileFate, fileIdentity, rescuePath, saveCopy } from '../db/open.js';
import { outageLimits, type OutageState, WriteQueue } from '../db/queue.js';
import { closeAbandonedSessions, type EndReason, type ProcessSample, SessionWriter } from '../db/store.js';
import { LeakwatchError, ProcessGoneError } from '../errors.js';
import { SmapsBudget } from './budget.js';
import { OnlineAnalysis } from './online.js';
import { type Schedule, startTicker } from './schedule.js';
import { findTargets, noTargetMessage, type TargetSelector } from './targets.js';
import { setLongTimeout } from './timer.js';
import { formatDuration, formatElapsed, type MemoryType, plural } from '../vocabulary.js';

export interface WatchSpec {
  targets: TargetSelector;
  /** Keep the session open when the targets exit, and take up the next matching process (a restart). */
  follow: boolean;
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
  /** Its start time (as in Snapshot.startTime), read as it started: known even when it exits before the first sample. */
  startTime: string | undefined;
  /** Resolves with the exit code (128 + signal number when killed by a signal) once the child has exited. */
  exited: Promise<number>;
  /**
   * Ends the child and everything it started (when the watch ends first), `signal` first (default SIGTERM), and
   * resolves with its exit code.
   */
  terminate(signal?: NodeJS.Signals): Promise<number>;
}

export interface TickStatus {
  elapsedMs: number;
  /** Until `--duration` ends the watch; undefined without one. */
  remainingMs: number | undefined;
  ticks: number;
  processes: number;
  /** Targets that appeared after the start (restarts, or new matches with --all). */
  restarts: number;
  /** No target is alive: a `--follow` watch waits for the next one. */
  waiting: boolean;
  /** The latest session totals (summed over processes), and the first ones of the current life, per type. */
  latest: Snapshot['types'] | undefined;
  first: Snapshot['types'] | undefined;
  /** Gated types the online analysis currently finds suspected or leaking. */
  alerts: Partial<Record<MemoryType, 'suspected' | 'leak'>>;
  /** The database cannot take samples now: they wait in memory. */
  outage: OutageState | undefined;
}

export interface WatchResult {
  /** null when nothing was recorded: a `--follow` watch that never found its target, or a database that took nothing. */
  session: number | null;
  /** Samples stored. */
  samples: number;
  /** Samples taken but never stored (the database did not come back in time). */
  lost: number;
  endReason: EndReason;
  exitCode: number | null;
  skippedTicks: number;
  restarts: number;
  error?: string;
}

/** The session as it starts: for the heartbeat's first line. */
export interface SessionStart {
  session: number;
  pid: number;
  command: string;
}

export interface WatchHooks {
  onTick?(status: TickStatus): void;
  /** Called once the session exists (after the first sample of a target). */
  onStart?(start: SessionStart): void;
  /** Called when a `--follow` watch starts with no target alive: it waits for one. */
  onWaiting?(): void;
  /** Something the user should know about the numbers, said once per process (e.g. chunk headers refused). */
  onNotice?(text: string): void;
  /**
   * Lets the caller stop the watch (signals): the current tick finishes first. Called again while the samples that
   * wait for the database are being written at the end, it stops that wait.
   */
  onReady?(stop: (reason: EndReason) => void): void;
  /** What a database outage does to the recording, a line for the user: it started, it is over, the end waits. */
  onStorage?(text: string): void;
}

// With --all, how often to look for new matching processes while others are alive (a /proc scan costs ~1 ms per
// 100 processes; while no target is alive, every tick looks).
const RESCAN_MS = 5000;
// How often the database path is checked to still name the open file (a stat: microseconds).
const FILE_CHECK_MS = 1000;
// busy_timeout outside the sampling (opening, the end, the last writes): the connection's usual wait for a lock.
const BUSY_MS = 5000;
// After giving up, the waiting samples and the session's end get this long to be written.
const LAST_CHANCE_MS = 5000;

/** How long a tick's write waits for a lock: half an interval (20 ms to 2 s), so a lock never stalls the sampling. */
const tickBusyMs = (schedule: Schedule) => (schedule.kind === 'every' ? Math.min(2000, Math.max(20, Math.round(schedule.ms / 2))) : 2000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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

// How long a command that looked gone at its first sample may take to be reaped.
const REAP_WAIT_MS = 2000;

/** The child's exit code once it has exited, or undefined when it is still running after REAP_WAIT_MS. */
async function exitedSoon(child: StartedChild): Promise<number | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), REAP_WAIT_MS);
  });
  try {
    return await Promise.race([child.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Records a session of the targets `collector` samples. `local` is the collector of the machine leakwatch runs on:
 * it knows leakwatch's own process and other collectors' (the target's may sample another system, Wine's).
 */
export async function recordSession(collector: Collector, db: Db, spec: WatchSpec, hooks: WatchHooks = {}, local: Collector = collector): Promise<WatchResult> {
  const host = hostname();
  const ownStartTime = local.startTimeOf(process.pid);
  if (ownStartTime === undefined) throw new Error('cannot read leakwatch\'s own process start time');
  const file = db.$client.name;
  const limits = outageLimits();
  // A lock or a full disk must not stop the watch before it starts: readers judge such sessions by themselves.
  try {
    closeAbandonedSessions(db, host, (pid, startTime) => local.startTimeOf(pid) === startTime);
  } catch (error) {
    if (!outageCause(error)) throw error;
  }
  const opened = fileIdentity(file);
  // SQLite's files beside it (created by the first read): identified now, to know them for ours later.
  const sidecars = [`${file}-wal`, `${file}-shm`].map((path) => ({ path, opened: fileIdentity(path) }));

  const budget = new SmapsBudget();
  const probes = new Map<number, ProcessProbe>();
  const parents = new Map<number, number | undefined>();
  /** Live targets (the processes the user asked for; descendants are found from them on every tick). */
  const targets = new Set<number>();
  /** First samples taken while looking for targets, used by the next tick. */
  const pending = new Map<number, Snapshot>();
  const topmost = spec.followChildren;
  // The session's start on the wall clock and the origin of its samples' elapsed times are the same moment, before
  // the duration timer starts: a session created later (a --follow watch that waited) still spans the whole watch.
  const clockStart = performance.now();
  const startedAt = Date.now();
  const now = () => performance.now() - clockStart;

  /** Takes up targets not yet watched; a first sample of each proves it can be read. */
  const discover = (strict: boolean) => {
    for (const pid of findTargets(collector, spec.targets, topmost)) {
      if (targets.has(pid)) continue;
      const probe = collector.open(pid);
      const at = now();
      let snapshot: Snapshot;
      try {
        snapshot = probe.sample({ usage: true });
      } catch (error) {
        // At the start a target that cannot be read is a usage error; later (a restart) it may just not be up yet.
        if (strict || !(error instanceof LeakwatchError)) throw error;
        continue;
      }
      budget.record(pid, at, now() - at);
      probes.set(pid, probe);
      parents.set(pid, undefined);
      pending.set(pid, snapshot);
      targets.add(pid);
    }
  };
  let writer: SessionWriter | undefined;
  let queue: WriteQueue | undefined;
  let announcedStart = false;
  let firstTarget: { pid: number; command: string } | undefined;
  // The session row is stored with the first tick written: a watch can start while the database is locked or full.
  const startSession = (first: Pick<Snapshot, 'pid' | 'startTime' | 'command'>): SessionWriter => {
    const limit = collector.memoryLimit(first.pid);
    const created = SessionWriter.deferred(db, {
      label: spec.label,
      command: spec.command ?? first.command,
      mode: spec.mode,
      targetPid: first.pid,
      targetStartTime: first.startTime,
      host,
      platform: collector.platform,
      intervalMs: spec.schedule.kind === 'every' ? spec.schedule.ms : null,
      cron: spec.schedule.kind === 'cron' ? spec.schedule.expression : null,
      followChildren: spec.followChildren,
      startedAt,
      collectorPid: process.pid,
      collectorStartTime: ownStartTime,
      limitBytes: limit?.bytes,
      limitSource: limit?.source,
    });
    firstTarget = { pid: first.pid, command: spec.command ?? first.command };
    queue = new WriteQueue(created, db.$client, {
      limits,
      tickBusyMs: tickBusyMs(spec.schedule),
      now,
      onOutage: (outage) => hooks.onStorage?.(`the database is ${OUTAGE_WORDS[outage.cause]} (SQLite: ${outage.detail}) since ${formatElapsed(outage.sinceMs)}: `
        + `sampling goes on, the samples wait in memory until it can be written (giving up after ${formatDuration(limits.giveUpAfterMs)} or ${limits.maxTicks.toLocaleString('en-US')} samples)`),
      onCaughtUp: (outage) => hooks.onStorage?.(`caught up: the database takes writes again; the ${plural(outage.waiting, 'sample')} that waited since ${formatElapsed(outage.sinceMs)} are written`),
    });
    return created;
  };
  /** The start line once the session is stored (with the first tick written). */
  const announceStart = () => {
    if (announcedStart || writer?.id === undefined) return;
    announcedStart = true;
    hooks.onStart?.({ session: writer.id, ...firstTarget! });
  };

  // The first samples are taken before the session exists: a bad pid is a usage error, not an empty session.
  try {
    discover(!spec.follow);
  } catch (error) {
    // The command `run` started has ended before its first sample (`run -- true`): a session of no samples still
    // keeps its exit code. It is leakwatch's own child: reaped within a turn of the event loop, its start time read
    // before that. Should it still run after all, the error stands.
    const exitCode = spec.child && error instanceof ProcessGoneError ? await exitedSoon(spec.child) : undefined;
    if (exitCode === undefined || !spec.child || spec.targets.kind !== 'pid') throw error;
    const { pid } = spec.targets;
    writer = startSession({ pid, startTime: spec.child.startTime ?? collector.startTimeOf(pid) ?? new Date(startedAt).toISOString(), command: spec.command ?? '' });
    const session = writer.storeSession();
    announceStart();
    writer.end('target-exited', { endedAt: Date.now(), exitCode });
    return { session, samples: 0, lost: 0, endReason: 'target-exited', exitCode, skippedTicks: 0, restarts: 0 };
  }
  // A pid selector names its pid whether it lives or not: the sample above has already said why it cannot be read.
  if (targets.size === 0 && !spec.follow && spec.targets.kind !== 'pid') throw new LeakwatchError(noTargetMessage(spec.targets));

  let seq = 0;
  let skippedTicks = 0;
  let restarts = 0;
  let lastScanMs = now();
  let online = new OnlineAnalysis();
  let alerts: TickStatus['alerts'] = {};
  let firstTotals: Snapshot['types'] | undefined;
  let latestTotals: Snapshot['types'] | undefined;
  let finish!: (end: { reason: EndReason; error?: string }) => void;
  const ended = new Promise<{ reason: EndReason; error?: string }>((resolve) => (finish = resolve));
  let stopped = false;
  const stop = (reason: EndReason, error?: string) => {
    if (stopped) return;
    stopped = true;
    finish({ reason, error });
  };
  /** Set when the waiting samples are to be given up (a second signal, or a limit reached). */
  let gaveUp = false;
  let stopWaiting = false;
  /** The database path no longer names the open file. */
  let vanished: { fate: 'deleted' | 'replaced'; atMs: number } | undefined;
  let lastFileCheckMs = -Infinity;
  const checkFile = (atMs: number, always = false) => {
    if (!opened || vanished || (!always && atMs - lastFileCheckMs < FILE_CHECK_MS)) return;
    lastFileCheckMs = atMs;
    const fate = fileFate(file, opened);
    if (!fate) return;
    vanished = { fate, atMs };
    stop('error');
  };
  let retryTimer: NodeJS.Timeout | undefined;
  /** A write failed in a way waiting does not cure (a damaged file, a bug): nothing more is tried. */
  let writeFailed = false;
  /** Writes what waits (or the new tick), then gives up past the limits or plans the next try. */
  const store = (tick?: Parameters<WriteQueue['add']>[0]) => {
    try {
      if (tick) queue!.add(tick);
      else queue!.flush();
    } catch (error) {
      writeFailed = true;
      throw error;
    }
    announceStart();
    const giveUp = queue!.giveUpReason();
    if (giveUp) {
      gaveUp = true;
      return stop('error', giveUp);
    }
    clearTimeout(retryTimer);
    const delay = queue!.retryInMs();
    retryTimer = delay === undefined ? undefined : setTimeout(() => {
      if (stopped) return;
      try {
        store();
      } catch (error) {
        stop('error', failure(error));
      }
    }, delay);
  };
  /** A failure's one line: a database failure names its cause (and what to do), not only SQLite's words. */
  const failure = (error: unknown) => (databaseFault(error, file) ?? (error as Error)).message;

  /** The targets and, when following children, every descendant alive now (breadth-first, each pid once). */
  const currentPids = (): number[] => {
    const pids = [...targets];
    if (!spec.followChildren) return pids;
    const seen = new Set(pids);
    for (let i = 0; i < pids.length; i++) {
      for (const child of collector.children(pids[i])) {
        if (seen.has(child)) continue;
        seen.add(child);
        parents.set(child, pids[i]);
        pids.push(child);
      }
    }
    return pids;
  };

  let lastGone: ProcessGoneError['reason'] = 'exited';
  /** Processes (pid@start) whose refused chunk headers were already reported. */
  const refusalsSaid = new Set<string>();
  /** A sample of one process; undefined when a descendant (or, with several targets, a target) has gone. */
  const sampleProcess = (pid: number): ProcessSample | undefined => {
    let probe = probes.get(pid);
    if (!probe) probes.set(pid, (probe = collector.open(pid)));
    const first = pending.get(pid);
    pending.delete(pid);
    if (first) return { snapshot: first, withUsage: true, parentPid: parents.get(pid) };
    const at = now();
    const usage = budget.allows(pid, at);
    const execsBefore = probe.execs;
    try {
      const snapshot = probe.sample({ usage });
      if (usage) budget.record(pid, at, now() - at);
      // Same process, another program: its row takes the new command, and the watch goes on with it.
      const execd = probe.execs > execsBefore;
      if (execd) hooks.onNotice?.(`pid ${pid} exec'd ${snapshot.command.slice(0, 80)}`);
      return { snapshot, withUsage: usage, parentPid: parents.get(pid), execd };
    } catch (error) {
      if (!(error instanceof LeakwatchError)) throw error;
      // A target that exited ends its life; one that cannot be read any more ends the watch (its fate is unknown).
      if (targets.has(pid) && !(error instanceof ProcessGoneError)) throw error;
      if (targets.has(pid)) {
        targets.delete(pid);
        lastGone = (error as ProcessGoneError).reason;
      }
      probes.delete(pid);
      budget.forget(pid);
      return undefined;
    }
  };
  const status = (elapsedMs: number, processes: number): TickStatus => ({
    elapsedMs,
    remainingMs: spec.durationMs === undefined ? undefined : Math.max(0, spec.durationMs - elapsedMs),
    ticks: seq,
    processes,
    restarts,
    waiting: targets.size === 0,
    latest: latestTotals,
    first: firstTotals,
    alerts,
    outage: queue?.state,
  });

  const tick = () => {
    if (stopped) return;
    const takenAt = Date.now();
    const elapsedMs = Math.round(now());
    try {
      const rescan = spec.follow && (targets.size === 0 || (spec.targets.kind === 'name' && spec.targets.all && elapsedMs - lastScanMs >= RESCAN_MS));
      if (rescan) {
        const before = targets.size;
        const known = new Set(targets);
        discover(false);
        lastScanMs = elapsedMs;
        const found = [...targets].filter((pid) => !known.has(pid)).length;
        if (found > 0 && writer) {
          restarts += found;
          // A new life: its online judgement and its change since start begin afresh.
          if (before === 0) {
            online = new OnlineAnalysis();
            firstTotals = undefined;
          }
        }
      }
      const pids = currentPids();
      // What is kept per process is dropped once it has left the tree: a fork storm must not grow leakwatch.
      const inTree = new Set(pids);
      for (const pid of probes.keys()) if (!inTree.has(pid)) probes.delete(pid);
      for (const pid of parents.keys()) if (!inTree.has(pid)) parents.delete(pid);
      budget.keepOnly(inTree);
      const samples = pids.map(sampleProcess).filter((s): s is ProcessSample => s !== undefined);
      if (samples.length === 0 || targets.size === 0) {
        if (!spec.follow) return stop(lastGone === 'pid-reused' && spec.targets.kind === 'pid' ? 'pid-reused' : 'target-exited');
        if (samples.length === 0) {
          hooks.onTick?.(status(elapsedMs, 0));
          return;
        }
      }
      const sampled = new Set<string>();
      for (const { snapshot } of samples) {
        const key = `${snapshot.pid}@${snapshot.startTime}`;
        sampled.add(key);
        if (snapshot.heapChunks === 'refused' && !refusalsSaid.has(key)) {
          refusalsSaid.add(key);
          hooks.onNotice?.(`large mallocs of pid ${snapshot.pid} are counted in Private: reading /proc/${snapshot.pid}/mem was refused`);
        }
        // Windows: what a snapshot could not see is said once per process too (Page Table's is always so: left out).
        const unseen = Object.entries(snapshot.unseen ?? {}).filter(([what]) => what !== 'pageTable');
        if (unseen.length > 0 && !refusalsSaid.has(key)) {
          refusalsSaid.add(key);
          for (const [, why] of unseen) hooks.onNotice?.(`pid ${snapshot.pid}: not seen: ${why}`);
        }
      }
      for (const key of refusalsSaid) if (!sampled.has(key)) refusalsSaid.delete(key);
      writer ??= startSession(samples[0].snapshot);
      const prepared = writer.prepare({ seq, takenAt, elapsedMs, samples });
      const totals = sumTypes(samples.map((s) => s.snapshot));
      firstTotals ??= totals;
      latestTotals = totals;
      // First verdicts are stored with the tick that reached them.
      alerts = online.add(elapsedMs, totals, (type, verdict) => prepared.verdicts.push({ type, verdict, at: takenAt }));
      seq++;
      store(prepared);
      checkFile(elapsedMs);
      hooks.onTick?.(status(elapsedMs, samples.length));
    } catch (error) {
      if (error instanceof ProcessGoneError && !spec.follow) stop(error.reason === 'pid-reused' ? 'pid-reused' : 'target-exited');
      else stop('error', failure(error));
    }
  };

  hooks.onReady?.((reason) => {
    if (stopped) stopWaiting = true;
    else stop(reason);
  });
  if (targets.size === 0) hooks.onWaiting?.();
  spec.child?.exited.then(() => stop('target-exited'));
  // A duration may be longer than a Node timer can wait (--duration 30d).
  const durationTimer = spec.durationMs === undefined ? undefined : setLongTimeout(() => stop('duration'), spec.durationMs);
  const ticker = startTicker(spec.schedule, tick, (count) => (skippedTicks += count));
  const end = await ended;
  ticker.stop();
  durationTimer?.clear();
  clearTimeout(retryTimer);
  // `run` owns its child: a watch that ends first (duration, signal) ends the child and what it started too, and
  // records how it exited. Ctrl-C is passed on as what the terminal would have sent it.
  const exitCode = spec.child
    ? await (end.reason === 'target-exited' ? spec.child.exited : spec.child.terminate(end.reason === 'interrupted' ? 'SIGINT' : 'SIGTERM'))
    : null;
  const endedAt = Date.now();
  // The samples still waiting get written before the session is closed: while the outage is within its limits (a
  // second Ctrl-C stops waiting), or for a last few seconds after giving up.
  const outage = queue?.state;
  if (queue && queue.waiting > 0 && !writeFailed) {
    const deadline = gaveUp ? now() + LAST_CHANCE_MS : Math.max(queue.deadline() ?? 0, now() + LAST_CHANCE_MS);
    if (outage) hooks.onStorage?.(`writing the ${plural(queue.waiting, 'sample')} still waiting before closing the session (waiting up to ${formatDuration(Math.ceil((deadline - now()) / 1000) * 1000)}; Ctrl-C again stops waiting)`);
    for (;;) {
      try {
        queue.flush(BUSY_MS);
      } catch (failed) {
        writeFailed = true;
        end.error = `${end.error ? `${end.error}; ` : ''}${failure(failed)}`;
        break;
      }
      if (queue.waiting === 0 || stopWaiting || now() >= deadline) break;
      await sleep(Math.min(1000, deadline - now()));
    }
  }
  db.$client.pragma(`busy_timeout = ${BUSY_MS}`);
  checkFile(now(), true);
  const rescue = vanished && rescuePath(file);
  /** The end reason and the error as they stand: samples lost, a file gone. */
  const outcome = (): { reason: EndReason; error: string | undefined } => {
    const lost = queue?.waiting ?? 0;
    let error = end.error;
    if (lost > 0) {
      const cause = queue!.state ?? outage;
      error = `${error ?? (cause ? `the database stayed ${OUTAGE_WORDS[cause.cause]} (SQLite: ${cause.detail})` : 'the database did not take them')}; `
        + `${plural(lost, 'sample')} lost (never written)`;
    } else if (gaveUp) {
      error = `${error}; the samples that waited were written before closing`;
    }
    if (vanished) {
      const what = `${file} was ${vanished.fate === 'deleted' ? 'deleted' : 'replaced by another file'} while recording (noticed at ${formatElapsed(vanished.atMs)})`
        + `${vanished.fate === 'replaced' ? `; the file now at ${file} was left untouched` : ''}`;
      error = error ? `${error}; ${what}` : what;
    }
    return { reason: lost > 0 || vanished ? 'error' : end.reason, error };
  };
  const close = () => {
    const { reason, error } = outcome();
    writer?.end(reason, { endedAt, exitCode, error: rescue ? `${error}: everything it held was saved to ${rescue}` : error });
  };
  let { reason, error } = outcome();
  try {
    close();
    // The database took the end row: it may take the samples now too (it came back during the last wait).
    if (queue && queue.waiting > 0 && !writeFailed && queue.flush(0)) close();
    ({ reason, error } = outcome());
  } catch (failed) {
    const fault = databaseFault(failed, file);
    if (!fault) throw failed;
    reason = 'error';
    error = `${error ? `${error}; ` : ''}the session could not be closed (${fault.message}): the next leakwatch command on ${file} marks it interrupted at its last stored sample`;
  }
  const written = queue?.written ?? 0;
  if (rescue) {
    // The open file is all that is left of the database: it goes away with the connection, so it is copied out.
    try {
      saveCopy(db, rescue);
      error = `${error}: everything the file held, this session's ${plural(written, 'sample')} included, is saved in ${rescue}`;
      // SQLite does not checkpoint a moved file on close, so its -wal and -shm would stay behind, and a new database
      // created at the path would read that stale WAL as its own (a corrupt file).
      for (const sidecar of sidecars) if (sidecar.opened && !fileFate(sidecar.path, sidecar.opened)) rmSync(sidecar.path, { force: true });
    } catch (failed) {
      error = `${error}: everything the file held, this session's ${plural(written, 'sample')} included, is lost (saving a copy to ${rescue} failed: ${(failed as Error).message})`;
    }
  }
  return { session: writer?.id ?? null, samples: written, lost: queue?.waiting ?? 0, endReason: reason, exitCode, skippedTicks, restarts, error };
}
