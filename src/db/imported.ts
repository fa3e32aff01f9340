/** Sessions made from another tool's snapshots (VMMap), stored like a recording of one process. */
import type { Snapshot, TypeTotals } from '../collector/types.js';
import type { Db } from './open.js';
import { SessionWriter } from './store.js';
import { MEMORY_TYPES, type MemoryType } from '../vocabulary.js';

/**
 * Stores snapshots taken by another tool (VMMap) as a session of one process, one tick per snapshot, in one
 * transaction: it lands whole or not at all. Types the tool did not report are stored as empty; nothing is invented
 * for them. Returns the new session's id.
 */
export function storeForeignSnapshots(
  db: Db,
  source: { command: string; platform: string; label: string | undefined },
  ticks: { takenAt: number; elapsedMs: number; types: Partial<Record<MemoryType, TypeTotals>> }[],
): number {
  const startTime = new Date(ticks[0].takenAt).toISOString();
  return db.$client.transaction(() => {
    const writer = SessionWriter.create(db, {
      label: source.label,
      command: source.command,
      mode: 'import',
      targetPid: 0,
      targetStartTime: startTime,
      host: 'imported',
      platform: source.platform,
      followChildren: false,
      startedAt: ticks[0].takenAt,
      collectorPid: 0,
      collectorStartTime: 'imported',
    });
    ticks.forEach((tick, seq) => {
      const types = Object.fromEntries(MEMORY_TYPES.map((t) => [t, tick.types[t] ?? { size: 0, committed: 0 }])) as Snapshot['types'];
      const snapshot: Snapshot = { pid: 0, startTime, command: source.command, takenAt: new Date(tick.takenAt).toISOString(), types, total: { size: 0, committed: 0 }, managedHeaps: [], heapChunks: 'read', regions: [] };
      writer.recordTick({ seq, takenAt: tick.takenAt, elapsedMs: tick.elapsedMs, samples: [{ snapshot, withUsage: types.heap.totalWs !== undefined, parentPid: undefined }] });
    });
    writer.end('imported', { endedAt: ticks[ticks.length - 1].takenAt });
    return writer.id;
  })();
}
