/**
 * Writing sessions: one transaction per tick, so a sample written is a sample kept. A tick is first prepared (its
 * rows, region deltas included, computed in memory) and then written: a write that fails leaves the prepared tick as
 * it was, to be written again later (see queue.ts), and the next ticks' deltas still follow on from it.
 */
import { and, eq, isNull } from 'drizzle-orm';
import type { Snapshot } from '../collector/types.js';
import type { Db } from './open.js';
import { lastSampleAt } from './read.js';
import { diffRegions, type RegionDelta, regionMap, storedAddress, type StoredRegion } from './region-deltas.js';
import { processes, SAMPLE_COLUMNS, sampleKey, samples, sessions } from './schema.js';
import { MEMORY_TYPES } from '../vocabulary.js';

export type EndReason = NonNullable<typeof sessions.$inferSelect.endReason>;
export type NewSession = Omit<typeof sessions.$inferInsert, 'id' | 'endedAt' | 'endReason' | 'exitCode' | 'error'>;

export interface ProcessSample {
  snapshot: Snapshot;
  /** Whether this sample read working-set numbers (smaps) or only the map listing. */
  withUsage: boolean;
  parentPid: number | undefined;
  /** The process exec()d another program since its last sample: its row takes the new command. */
  execd?: boolean;
}

export interface Tick {
  seq: number;
  takenAt: number;
  elapsedMs: number;
  samples: ProcessSample[];
}

// A full region list at least this often, so rebuilding a tick's regions never scans more than this many ticks.
// A full list costs a row per region (a 1000-region process: ~70 KB), so it is rare: a region set that changes
// much gets a new full list sooner, once its deltas since the last one outnumber its regions DELTAS_PER_FULL times
// (a rebuild then replays at most that many rows per region: milliseconds).
const FULL_LIST_EVERY_TICKS = 3600;
const DELTAS_PER_FULL = 10;

interface ProcessState {
  /** The process row's id, once a tick that has it is stored. */
  id: number | undefined;
  /** The last tick's regions, as the collector gave them (not copied: regions are never changed), and by start. */
  list: readonly StoredRegion[];
  regions: Map<string, StoredRegion>;
  lastFullSeq: number;
  deltaRowsSinceFull: number;
}

type NewProcess = Pick<typeof processes.$inferInsert, 'pid' | 'startTime' | 'parentPid' | 'command'>;
type RegionRow = StoredRegion & { kind: 'full' | RegionDelta['kind'] };

interface PreparedSample {
  /** pid@startTime: the process this sample is of. */
  key: string;
  process: NewProcess;
  /** The sample row's values after session_id and process_id, in SAMPLE_INSERT's column order. */
  values: (number | null)[];
  regions: RegionRow[];
  execd: boolean;
}

/** A tick's rows, ready to be written in one transaction. */
export interface PreparedTick {
  seq: number;
  samples: PreparedSample[];
  /** Verdicts the online analysis reached first at this tick. */
  verdicts: { type: string; verdict: 'suspected' | 'leak'; at: number }[];
  /** How many rows it writes (samples and regions): what it costs to keep it in memory. */
  rows: number;
}

function storedRegion(r: StoredRegion): StoredRegion {
  return {
    start: r.start,
    end: r.end,
    type: r.type,
    protection: r.protection,
    size: r.size,
    committed: r.committed,
    details: r.details,
    totalWs: r.totalWs,
    privateWs: r.privateWs,
  };
}

const TYPE_COLUMNS = MEMORY_TYPES.flatMap((type) => SAMPLE_COLUMNS.map((column) => ({ type, column, name: samples[sampleKey(type, column)].name })));
const SAMPLE_INSERT = `INSERT INTO samples (session_id, process_id, seq, taken_at, elapsed_ms, with_usage, ${TYPE_COLUMNS.map((c) => c.name).join(', ')})
  VALUES (${new Array(6 + TYPE_COLUMNS.length).fill('?').join(', ')})`;

/** The wide sample row after its session and process: tick, then every type's numbers, NULL where the sample did not know them. */
function sampleValues(tick: Tick, snapshot: Snapshot, withUsage: boolean): (number | null)[] {
  const values: (number | null)[] = [tick.seq, tick.takenAt, tick.elapsedMs, withUsage ? 1 : 0];
  for (const { type, column } of TYPE_COLUMNS) values.push(snapshot.types[type][column] ?? null);
  return values;
}

/** The write path's statements, prepared once for the life of the writer (drizzle would build each insert anew). */
function statements(db: Db) {
  const client = db.$client;
  return {
    process: client.prepare(`INSERT INTO processes (session_id, pid, start_time, parent_pid, command, first_seq, last_seq) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (session_id, pid, start_time) DO UPDATE SET last_seq = excluded.last_seq RETURNING id`).pluck(),
    sample: client.prepare(SAMPLE_INSERT),
    region: client.prepare(`INSERT INTO regions (sample_id, kind, start, "end", type, protection, size, committed, total_ws, private_ws, details)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    lastSeq: client.prepare('UPDATE processes SET last_seq = ? WHERE id = ?'),
    exec: client.prepare('UPDATE processes SET last_seq = ?, command = ? WHERE id = ?'),
    execRow: client.prepare('INSERT INTO process_execs (process_id, seq, command) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
    verdict: client.prepare(`INSERT INTO session_verdicts (session_id, type, verdict, first_reached_at, first_reached_seq) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT DO NOTHING`),
  };
}

/**
 * Moves a process's last regions on to this tick's. When the (unique) starts are the same, in the same order, the
 * map is updated in place where a region is not the very object it holds: the map regionMap would build, in the
 * same order (which the order of `removed` rows follows), without building it.
 */
function advance(state: ProcessState, next: readonly StoredRegion[]): void {
  const last = state.list;
  const sameStarts = last.length === next.length && next.every((r, i) => r.start === last[i].start);
  if (sameStarts) next.forEach((r, i) => last[i] !== r && state.regions.set(r.start, r));
  else state.regions = regionMap(next);
  state.list = next;
}

export class SessionWriter {
  private readonly processes = new Map<string, ProcessState>();
  private statements: ReturnType<typeof statements> | undefined;

  private constructor(
    private readonly db: Db,
    private sessionId: number | undefined,
    /** The session row, until it is stored with the first tick (a deferred writer). */
    private readonly sessionRow: NewSession | undefined,
    private readonly fullListEvery: number,
  ) {}

  /** Stores the session row now. */
  static create(db: Db, session: NewSession, fullListEvery = FULL_LIST_EVERY_TICKS): SessionWriter & { readonly id: number } {
    const row = db.insert(sessions).values(session).returning({ id: sessions.id }).get();
    return new SessionWriter(db, row.id, undefined, fullListEvery) as SessionWriter & { readonly id: number };
  }

  /** Stores the session row with the first tick written: a watch can start while the database is locked or full. */
  static deferred(db: Db, session: NewSession, fullListEvery = FULL_LIST_EVERY_TICKS): SessionWriter {
    return new SessionWriter(db, undefined, session, fullListEvery);
  }

  /** Stores the session row now if it is not yet: a session that ends before its first tick (`run -- true`). */
  storeSession(): number {
    this.sessionId ??= this.db.insert(sessions).values(this.sessionRow!).returning({ id: sessions.id }).get().id;
    return this.sessionId;
  }

  /** The session's id; undefined until its row is stored. */
  get id(): number | undefined {
    return this.sessionId;
  }

  /** Stores one tick of every watched process in a single transaction. */
  recordTick(tick: Tick): void {
    this.write(this.prepare(tick));
  }

  /**
   * A tick's rows: one sample per process, its region deltas since the process's previous prepared tick, and every
   * so often the full region list. Ticks must be written in the order they are prepared.
   */
  prepare(tick: Tick): PreparedTick {
    let rows = 0;
    const prepared = tick.samples.map(({ snapshot, parentPid, withUsage, execd }): PreparedSample => {
      const key = `${snapshot.pid}@${snapshot.startTime}`;
      let state = this.processes.get(key);
      if (!state) this.processes.set(key, (state = { id: undefined, list: [], regions: new Map(), lastFullSeq: -1, deltaRowsSinceFull: 0 }));
      const current = snapshot.regions;
      const deltas = diffRegions(state.regions, current).map((d) => ({ ...storedRegion(d), kind: d.kind }));
      const first = state.lastFullSeq < 0;
      const full = first || tick.seq - state.lastFullSeq >= this.fullListEvery ||
        state.deltaRowsSinceFull + deltas.length > DELTAS_PER_FULL * current.length;
      // On a later full tick the deltas are stored too: any full list can then be checked against a rebuild. A
      // process's first tick has only `added` deltas, every region again: its full list alone says the same.
      const regionRows: RegionRow[] = first ? [] : deltas;
      if (full) for (const r of current) regionRows.push({ ...storedRegion(r), kind: 'full' });
      advance(state, current);
      if (full) {
        state.lastFullSeq = tick.seq;
        state.deltaRowsSinceFull = 0;
      } else {
        state.deltaRowsSinceFull += deltas.length;
      }
      rows += 1 + regionRows.length;
      return {
        key,
        process: { pid: snapshot.pid, startTime: snapshot.startTime, parentPid, command: snapshot.command },
        values: sampleValues(tick, snapshot, withUsage),
        regions: regionRows,
        execd: execd === true,
      };
    });
    // A process not in this tick has gone (or left the watched tree): what is kept for it (its last region list) is
    // dropped, or a fork storm grows leakwatch by every process it ever saw. Should it come back, its row is found
    // again (an upsert) and a full region list restarts its deltas.
    const sampled = new Set(prepared.map((sample) => sample.key));
    for (const key of this.processes.keys()) if (!sampled.has(key)) this.processes.delete(key);
    return { seq: tick.seq, samples: prepared, verdicts: [], rows };
  }

  /**
   * Writes a prepared tick in one transaction, taking the write lock first (BEGIN IMMEDIATE: the lock is waited for
   * under busy_timeout, never found busy half-way). When it throws, nothing of it is stored and the writer's state
   * is as before: the same tick can be written again.
   */
  write(tick: PreparedTick): void {
    let sessionId = this.sessionId;
    const newIds = new Map<string, number>();
    const statement = (this.statements ??= statements(this.db));
    this.db.$client.transaction(() => {
      sessionId ??= this.db.insert(sessions).values(this.sessionRow!).returning({ id: sessions.id }).get().id;
      for (const sample of tick.samples) {
        let processId = this.processes.get(sample.key)?.id ?? newIds.get(sample.key);
        if (processId === undefined) {
          const { pid, startTime, parentPid, command } = sample.process;
          processId = statement.process.get(sessionId, pid, startTime, parentPid ?? null, command, tick.seq, tick.seq) as number;
          newIds.set(sample.key, processId);
        }
        const sampleId = statement.sample.run(sessionId, processId, ...sample.values).lastInsertRowid;
        for (const r of sample.regions) {
          statement.region.run(sampleId, r.kind, storedAddress(r.start), storedAddress(r.end), r.type, r.protection, r.size, r.committed, r.totalWs ?? null, r.privateWs ?? null, r.details);
        }
        if (sample.execd) {
          statement.exec.run(tick.seq, sample.process.command, processId);
          statement.execRow.run(processId, tick.seq, sample.process.command);
        } else {
          statement.lastSeq.run(tick.seq, processId);
        }
      }
      for (const v of tick.verdicts) statement.verdict.run(sessionId, v.type, v.verdict, v.at, tick.seq);
    }).immediate();
    // Committed: only now do the new rows' ids count.
    this.sessionId = sessionId;
    // A process a later prepared tick no longer has was dropped meanwhile: nothing to remember for it.
    for (const [key, id] of newIds) {
      const state = this.processes.get(key);
      if (state) state.id = id;
    }
  }

  /** Closes the session; false when its row was never stored (no tick was written). */
  end(reason: EndReason, details: { endedAt: number; exitCode?: number | null; error?: string }): boolean {
    if (this.sessionId === undefined) return false;
    this.db
      .update(sessions)
      .set({ endReason: reason, endedAt: details.endedAt, exitCode: details.exitCode ?? null, error: details.error ?? null })
      .where(eq(sessions.id, this.sessionId))
      .run();
    return true;
  }
}

/**
 * Sessions left open by a collector that no longer runs (kill -9, power loss) become `interrupted`, ending at
 * their last sample. Only sessions of this host are judged: a pid means nothing on another machine.
 */
export function closeAbandonedSessions(db: Db, host: string, collectorAlive: (pid: number, startTime: string) => boolean): number {
  const open = db
    .select({ id: sessions.id, pid: sessions.collectorPid, startTime: sessions.collectorStartTime, startedAt: sessions.startedAt })
    .from(sessions)
    .where(and(isNull(sessions.endedAt), eq(sessions.host, host)))
    .all();
  let closed = 0;
  for (const session of open) {
    if (collectorAlive(session.pid, session.startTime)) continue;
    db.update(sessions)
      .set({ endReason: 'interrupted', endedAt: lastSampleAt(db, session.id) ?? session.startedAt })
      .where(eq(sessions.id, session.id))
      .run();
    closed++;
  }
  return closed;
}
