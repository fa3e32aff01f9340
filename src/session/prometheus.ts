/**
 * `analyze --prometheus`: series that a Prometheus server holds, judged by the same analysis as a session (one
 * finding per series), and with `--save` stored as imported sessions so `report` and `compare` work on them.
 */
import { analyzeSession } from '../analysis/session.js';
import type { Finding } from '../analysis/types.js';
import { type PromSeries, queryRange, type RangeQuery } from '../import/prometheus.js';
import { MEMORY_TYPES, type MemoryType } from '../vocabulary.js';

export interface JudgedSeries {
  labels: Record<string, string>;
  /** The memory type the series was judged (and would be stored) as. */
  type: MemoryType;
  points: number;
  /** First and last point, Unix seconds. */
  from: number;
  to: number;
  finding: Finding;
  /** The imported session holding it (with --save). */
  session?: number;
}

/**
 * What a series measures: its own `type` label when it names a memory type (leakwatch's exported metrics carry
 * one), otherwise what the user said (a process's RSS or heap: Private by default).
 */
export const seriesType = (labels: Record<string, string>, fallback: MemoryType): MemoryType =>
  (MEMORY_TYPES as readonly string[]).includes(labels.type) ? (labels.type as MemoryType) : fallback;

/** One series' finding: the analysis of a session whose only non-empty type is this series. */
export function judgeSeries(series: PromSeries, type: MemoryType): Finding {
  const t = series.t.map((at) => at - series.t[0]);
  const empty = new Float64Array(t.length);
  const committed = Object.fromEntries(MEMORY_TYPES.map((m): [MemoryType, ArrayLike<number>] => [m, m === type ? series.v : empty])) as Record<MemoryType, ArrayLike<number>>;
  return analyzeSession({ t, committed, limit: undefined, lives: [] }, [type], () => [])[0];
}

/** Fetches the range, judges each series and, with `save`, stores each as a session (all in one transaction). */
export async function analyzePrometheus(range: RangeQuery, options: { type: MemoryType; save?: { db: string; label?: string } }): Promise<JudgedSeries[]> {
  const series = await queryRange(range);
  const judged = series.map((s): JudgedSeries => {
    const type = seriesType(s.labels, options.type);
    return { labels: s.labels, type, points: s.t.length, from: s.t[0], to: s.t[s.t.length - 1], finding: judgeSeries(s, type) };
  });
  if (options.save && series.length > 0) {
    const save = options.save;
    const [{ withWritableDatabase }, { storeForeignSnapshots }, { labelsText }] = await Promise.all([
      import('./database.js'),
      import('../db/imported.js'),
      import('../import/prometheus.js'),
    ]);
    const ids = await withWritableDatabase(save.db, (db) => db.$client.transaction(() => series.map((s, i) => {
      const text = labelsText(s.labels);
      const ticks = s.t.map((at, tick) => ({
        takenAt: Math.round(at * 1000),
        elapsedMs: Math.round((at - s.t[0]) * 1000),
        types: { [judged[i].type]: { size: Math.round(s.v[tick]), committed: Math.round(s.v[tick]) } },
      }));
      return storeForeignSnapshots(db, { command: `Prometheus ${range.server.origin}: ${text}`, platform: 'prometheus', label: save.label ?? text }, ticks);
    }))());
    ids.forEach((id, i) => (judged[i] = { ...judged[i], session: id }));
  }
  return judged;
}
