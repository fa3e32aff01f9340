/**
 * The leak analysis run on the data so far during a watch: the status line shows `suspected` / `leak` as soon as
 * the evidence is strong enough, and the session keeps when each verdict was first reached.
 */

import { analyzeTrend, DEFAULT_OPTIONS } from '../analysis/trend.js';
import type { Snapshot } from '../collector/types.js';
import { GATED_TYPES, type MemoryType } from '../vocabulary.js';

// Re-analyse at most every 10 s, and at most 100 times over the session: the cost stays ~1% of a core at 12 h.
const MIN_INTERVAL_MS = 10_000;
const MAX_RUNS_PER_ELAPSED = 100;

/** Whether the analysis of a session is due again, `elapsedMs` into it, having last run at `lastRunMs`. */
export const analysisDue = (elapsedMs: number, lastRunMs: number) => elapsedMs - lastRunMs >= Math.max(MIN_INTERVAL_MS, elapsedMs / MAX_RUNS_PER_ELAPSED);

export type Alert = 'suspected' | 'leak';

export class OnlineAnalysis {
  private readonly t: number[] = [];
  private readonly values = new Map<MemoryType, number[]>(GATED_TYPES.map((type) => [type, []]));
  private lastRunMs = -Infinity;
  private alerts: Partial<Record<MemoryType, Alert>> = {};
  private readonly reached = new Set<string>();

  /**
   * Adds one tick's session totals; re-analyses when due. `onFirst` is called the first time a type reaches each
   * alert level (a type that goes straight to `leak` has also reached `suspected`).
   */
  add(elapsedMs: number, totals: Snapshot['types'], onFirst: (type: MemoryType, verdict: Alert) => void): Partial<Record<MemoryType, Alert>> {
    this.t.push(elapsedMs / 1000);
    for (const [type, values] of this.values) values.push(totals[type].committed);
    if (!analysisDue(elapsedMs, this.lastRunMs)) return this.alerts;
    this.lastRunMs = elapsedMs;
    const alerts: Partial<Record<MemoryType, Alert>> = {};
    for (const [type, values] of this.values) {
      const { verdict } = analyzeTrend({ t: this.t, v: values }, { ...DEFAULT_OPTIONS, managed: type === 'managedHeap' });
      if (verdict !== 'leak' && verdict !== 'suspected') continue;
      alerts[type] = verdict;
      for (const level of verdict === 'leak' ? (['suspected', 'leak'] as const) : (['suspected'] as const)) {
        if (this.reached.has(`${type}:${level}`)) continue;
        this.reached.add(`${type}:${level}`);
        onFirst(type, level);
      }
    }
    this.alerts = alerts;
    return alerts;
  }
}
