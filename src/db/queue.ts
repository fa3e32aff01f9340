/**
 * Ticks waiting for the database. A tick is written at once while the database takes writes; when a write fails
 * because of an outage (another connection holds the lock, the disk is full, the file became read-only) the tick, and
 * every tick after it, waits here in order and the queue is retried with backoff; once the database takes writes
 * again, the waiting ticks are written one transaction each, oldest first: the same seqs, nothing lost or reordered.
 *
 * Bounded: an outage is waited out for at most 10 minutes, with at most 10,000 ticks waiting (and 200,000 rows, about
 * 200 MB: a waiting row takes ~1 KB of memory); past either the caller gives up (the watch ends with exit 3). For tests the limits can be shortened with
 * LEAKWATCH_OUTAGE_GIVE_UP (a duration: 2s) and LEAKWATCH_OUTAGE_MAX_TICKS (a count).
 */
import type Database from 'better-sqlite3';
import { LeakwatchError } from '../errors.js';
import { type OutageCause, outageCause, OUTAGE_WORDS } from './faults.js';
import type { PreparedTick, SessionWriter } from './store.js';
import { formatDuration, formatElapsed, parseDuration, plural } from '../vocabulary.js';

export interface OutageLimits {
  giveUpAfterMs: number;
  maxTicks: number;
  maxRows: number;
}

export const DEFAULT_OUTAGE_LIMITS: OutageLimits = { giveUpAfterMs: 10 * 60_000, maxTicks: 10_000, maxRows: 200_000 };

/** The limits, as shortened by LEAKWATCH_OUTAGE_GIVE_UP / LEAKWATCH_OUTAGE_MAX_TICKS (for tests). */
export function outageLimits(env: NodeJS.ProcessEnv = process.env): OutageLimits {
  const limits = { ...DEFAULT_OUTAGE_LIMITS };
  if (env.LEAKWATCH_OUTAGE_GIVE_UP) limits.giveUpAfterMs = parseDuration(env.LEAKWATCH_OUTAGE_GIVE_UP, 'LEAKWATCH_OUTAGE_GIVE_UP');
  if (env.LEAKWATCH_OUTAGE_MAX_TICKS) {
    limits.maxTicks = Number(env.LEAKWATCH_OUTAGE_MAX_TICKS);
    if (!Number.isInteger(limits.maxTicks) || limits.maxTicks < 1) throw new LeakwatchError(`LEAKWATCH_OUTAGE_MAX_TICKS needs a whole number of at least 1, got '${env.LEAKWATCH_OUTAGE_MAX_TICKS}'`);
  }
  return limits;
}

/** An outage as the user hears of it. Times are on the caller's clock (the session's elapsed time). */
export interface OutageState {
  cause: OutageCause;
  /** SQLite's own words for the failure. */
  detail: string;
  sinceMs: number;
  /** Ticks waiting to be written. */
  waiting: number;
}

export interface QueueOptions {
  limits: OutageLimits;
  /** busy_timeout while sampling: short enough that a lock never stalls the sampling for long. */
  tickBusyMs: number;
  /** The caller's clock, in ms. */
  now: () => number;
  /** An outage worth telling: a lock that lasted a second, any full disk or read-only file. */
  onOutage?(outage: OutageState): void;
  /** The ticks that waited through an announced outage are written. */
  onCaughtUp?(outage: OutageState): void;
}

// A lock held for less than this is ordinary contention (another writer's transaction): not worth a line.
const LOCK_NOTICE_MS = 1000;
// Retry delays: 250 ms, doubling, at most 2 s apart, so the queue is written soon after the database is back.
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 2000;

export class WriteQueue {
  private ticks: PreparedTick[] = [];
  /** Index of the oldest waiting tick in `ticks`. */
  private head = 0;
  private rows = 0;
  private outage: (Omit<OutageState, 'waiting'> & { announced: boolean }) | undefined;
  private failures = 0;
  private nextAttemptAt = 0;
  private busyMs: number | undefined;
  /** Ticks stored. */
  written = 0;

  constructor(
    private readonly writer: SessionWriter,
    private readonly client: Database.Database,
    private readonly options: QueueOptions,
  ) {}

  get waiting(): number {
    return this.ticks.length - this.head;
  }

  /** The outage, once it is worth telling (see onOutage); undefined while writes go through. */
  get state(): OutageState | undefined {
    return this.outage?.announced ? this.snapshot() : undefined;
  }

  /** Stores the tick, or queues it behind an outage (written by `flush`). Throws a failure that is no outage. */
  add(tick: PreparedTick): void {
    this.ticks.push(tick);
    this.rows += tick.rows;
    if (!this.outage) this.flush();
  }

  /**
   * Writes the waiting ticks, oldest first, until all are written (true) or an outage stops it (false: retry after
   * `retryInMs`). `busyMs` is how long a lock is waited for, per tick. Throws a failure that is no outage; the tick
   * that failed stays first in the queue.
   */
  flush(busyMs = this.options.tickBusyMs): boolean {
    if (busyMs !== this.busyMs) {
      this.client.pragma(`busy_timeout = ${busyMs}`);
      this.busyMs = busyMs;
    }
    if (this.outage?.cause === 'full') this.makeRoom();
    const waited = this.waiting;
    while (this.head < this.ticks.length) {
      const tick = this.ticks[this.head];
      try {
        this.writer.write(tick);
      } catch (error) {
        const cause = outageCause(error);
        if (!cause) throw error;
        this.failed(cause, (error as Error).message);
        return false;
      }
      this.ticks[this.head++] = undefined as unknown as PreparedTick;
      this.rows -= tick.rows;
      this.written++;
      // Drop the written part now and then: shifting one by one would cost O(n) per tick.
      if (this.head > 1024 && this.head * 2 > this.ticks.length) {
        this.ticks = this.ticks.slice(this.head);
        this.head = 0;
      }
    }
    if (this.outage) {
      const over = { ...this.snapshot(), waiting: waited };
      const announced = this.outage.announced;
      this.outage = undefined;
      this.failures = 0;
      if (announced) this.options.onCaughtUp?.(over);
    }
    return true;
  }

  /**
   * On a full disk the WAL is often what fills it: it holds every version of the pages written since the last
   * checkpoint and never shrinks by itself. A checkpoint moves the pages into the database file (one version each)
   * and truncates the WAL, which can free enough for the waiting ticks. It fails harmlessly when even that is not
   * possible.
   */
  private makeRoom(): void {
    try {
      this.client.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // Still full: the next retry tries again.
    }
  }

  private failed(cause: OutageCause, detail: string): void {
    const now = this.options.now();
    this.outage ??= { cause, detail, sinceMs: now, announced: false };
    Object.assign(this.outage, { cause, detail });
    this.failures++;
    this.nextAttemptAt = now + Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (this.failures - 1));
    if (!this.outage.announced && (cause !== 'locked' || now - this.outage.sinceMs >= LOCK_NOTICE_MS)) {
      this.outage.announced = true;
      this.options.onOutage?.(this.snapshot());
    }
  }

  private snapshot(): OutageState {
    const { cause, detail, sinceMs } = this.outage!;
    return { cause, detail, sinceMs, waiting: this.waiting };
  }

  /** In how many ms the next attempt is due during an outage; undefined when none is. */
  retryInMs(): number | undefined {
    return this.outage ? Math.max(0, this.nextAttemptAt - this.options.now()) : undefined;
  }

  /** When the current outage reaches its time limit (caller's clock); undefined without one. */
  deadline(): number | undefined {
    return this.outage && this.outage.sinceMs + this.options.limits.giveUpAfterMs;
  }

  /** Why waiting longer is not allowed (a limit is reached), or undefined. */
  giveUpReason(): string | undefined {
    if (!this.outage) return undefined;
    const { limits } = this.options;
    const { cause, detail, sinceMs } = this.outage;
    const what = `the database was ${OUTAGE_WORDS[cause]} from ${formatElapsed(sinceMs)} (SQLite: ${detail})`;
    if (this.options.now() - sinceMs >= limits.giveUpAfterMs) return `${what} for more than ${formatDuration(limits.giveUpAfterMs)}: gave up waiting`;
    if (this.waiting >= limits.maxTicks) return `${what} until ${plural(this.waiting, 'sample')} were waiting in memory, the most it keeps: gave up waiting`;
    if (this.rows >= limits.maxRows) return `${what} until ${this.rows} rows were waiting in memory, the most it keeps: gave up waiting`;
    return undefined;
  }
}
