/** Writing sessions: one transaction per tick, so a sample written is a sample kept. */
import { and, eq, isNull } from 'drizzle-orm';
import type { Snapshot } from '../collector/types.js';
import type { Db } from './open.js';
import { lastSampleAt } from './read.js';
import { diffRegions, regionMap, type StoredRegion } from './region-deltas.js';
import { processes, regions, SAMPLE_COLUMNS, sampleKey, type SampleKey, samples, sessions, sessionVerdicts } from './schema.js';
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

// A full region list at least this often, so rebuilding a tick's regions never replays more than this many ticks.
const FULL_LIST_EVERY_TICKS = 300;
// SQLite's bound-parameter limit is 32766; 12 columns per region row.
const REGION_ROWS_PER_INSERT = 1000;

interface ProcessState {
  id: number;
  regions: Map<string, StoredRegion>;
  lastFullSeq: number;
  deltaRowsSinceFull: number;
}

function storedRegion(r: Snapshot['regions'][number]): StoredRegion {
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

/** The wide sample row: every type's numbers, NULL where the sample did not know them. */
function typeValues(snapshot: Snapshot): Record<SampleKey, number | null> {
  const values = {} as Record<SampleKey, number | null>;
  for (const type of MEMORY_TYPES) {
    for (const column of SAMPLE_COLUMNS) values[sampleKey(type, column)] = snapshot.types[type][column] ?? null;
  }
  return values;
}

export class SessionWriter {
  private readonly processes = new Map<string, ProcessState>();

  private constructor(
    private readonly db: Db,
    readonly id: number,
    private readonly fullListEvery: number,
  ) {}

  static create(db: Db, session: NewSession, fullListEvery = FULL_LIST_EVERY_TICKS): SessionWriter {
    const row = db.insert(sessions).values(session).returning({ id: sessions.id }).get();
    return new SessionWriter(db, row.id, fullListEvery);
  }

  /** Stores one tick of every watched process in a single transaction. */
  recordTick(tick: Tick): void {
    this.db.transaction((tx) => {
      for (const sample of tick.samples) {
        const { snapshot } = sample;
        const state = this.processState(tx as unknown as Db, sample, tick.seq);
        const { id: sampleId } = tx
          .insert(samples)
          .values({
            sessionId: this.id,
            processId: state.id,
            seq: tick.seq,
            takenAt: tick.takenAt,
            elapsedMs: tick.elapsedMs,
            withUsage: sample.withUsage,
            ...typeValues(snapshot),
          })
          .returning({ id: samples.id })
          .get();
        const current = snapshot.regions.map(storedRegion);
        const deltas = diffRegions(state.regions, current);
        const rows: (typeof regions.$inferInsert)[] = deltas.map((d) => ({ ...d, sampleId }));
        const full = state.lastFullSeq < 0 || tick.seq - state.lastFullSeq >= this.fullListEvery ||
          state.deltaRowsSinceFull + deltas.length > current.length;
        // On a full tick the deltas are stored too: any full list can then be checked against a rebuild.
        if (full) for (const r of current) rows.push({ ...r, kind: 'full', sampleId });
        for (let i = 0; i < rows.length; i += REGION_ROWS_PER_INSERT) {
          tx.insert(regions).values(rows.slice(i, i + REGION_ROWS_PER_INSERT)).run();
        }
        state.regions = regionMap(current);
        if (full) {
          state.lastFullSeq = tick.seq;
          state.deltaRowsSinceFull = 0;
        } else {
          state.deltaRowsSinceFull += deltas.length;
        }
        tx.update(processes).set({ lastSeq: tick.seq, ...(sample.execd && { command: snapshot.command }) }).where(eq(processes.id, state.id)).run();
      }
    });
    // A process not in this tick has gone (or left the watched tree): what is kept for it (its last region list) is
    // dropped, or a fork storm grows leakwatch by every process it ever saw. Should it come back, its row is found
    // again and a full region list restarts its deltas.
    const sampled = new Set(tick.samples.map(({ snapshot }) => `${snapshot.pid}@${snapshot.startTime}`));
    for (const key of this.processes.keys()) if (!sampled.has(key)) this.processes.delete(key);
  }

  private processState(tx: Db, { snapshot, parentPid }: ProcessSample, seq: number): ProcessState {
    const key = `${snapshot.pid}@${snapshot.startTime}`;
    let state = this.processes.get(key);
    if (!state) {
      const { id } = tx
        .insert(processes)
        .values({ sessionId: this.id, pid: snapshot.pid, startTime: snapshot.startTime, parentPid, command: snapshot.command, firstSeq: seq, lastSeq: seq })
        .onConflictDoUpdate({ target: [processes.sessionId, processes.pid, processes.startTime], set: { lastSeq: seq } })
        .returning({ id: processes.id })
        .get();
      state = { id, regions: new Map(), lastFullSeq: -1, deltaRowsSinceFull: 0 };
      this.processes.set(key, state);
    }
    return state;
  }

  /** Records the first time the online analysis reached a verdict for a type (later calls for it are ignored). */
  recordVerdict(type: string, verdict: 'suspected' | 'leak', at: number, seq: number): void {
    this.db.insert(sessionVerdicts).values({ sessionId: this.id, type, verdict, firstReachedAt: at, firstReachedSeq: seq }).onConflictDoNothing().run();
  }

  end(reason: EndReason, details: { endedAt: number; exitCode?: number | null; error?: string }): void {
    this.db
      .update(sessions)
      .set({ endReason: reason, endedAt: details.endedAt, exitCode: details.exitCode ?? null, error: details.error ?? null })
      .where(eq(sessions.id, this.id))
      .run();
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
