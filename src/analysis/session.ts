/** A whole session's findings: the trend of each type, plus where the growth is and how long until a limit. */
import type { MemoryLimit } from '../collector/types.js';
import { analyzeTrend, DEFAULT_OPTIONS } from './trend.js';
import type { RegionGrowth } from '../db/regions.js';
import type { AnalysisOptions, Finding, Series } from './types.js';
import { formatBytes, formatElapsed, type MemoryType, type Row, ROW_LABELS, SUM_NAMES, SUMS, typesOf } from '../vocabulary.js';

/** A row's values per tick: the type's own, or the sum of the types it adds up. */
export function rowValues(columns: Record<MemoryType, ArrayLike<number>>, row: Row): number[] {
  const types = typesOf(row).map((type) => columns[type]);
  const values = new Array<number>(types[0].length).fill(0);
  for (const column of types) for (let i = 0; i < values.length; i++) values[i] += column[i];
  return values;
}

export interface SessionData {
  /** Seconds since the session started, one per tick. */
  t: ArrayLike<number>;
  /** The judged metric's bytes per type and tick, summed over the session's processes (e.g. one Float64Array each). */
  committed: Record<MemoryType, ArrayLike<number>>;
  limit: MemoryLimit | undefined;
  /** Tick indices where a new program started: a restart (a new target process) or an exec(); empty when none did. */
  lives: number[];
}

const TOP_REGIONS = 5;

function timeToLimit(slopeBytesPerHour: number, limit: MemoryLimit | undefined, currentTotal: number): number | null {
  if (!limit || !(slopeBytesPerHour > 0)) return null;
  return Math.max(0, ((limit.bytes - currentTotal) / slopeBytesPerHour) * 3600);
}

/**
 * @param regionGrowthSince region growth per (type, label) from a time (seconds) to the end, largest first.
 */
export function analyzeSession(
  data: SessionData,
  rows: readonly Row[],
  regionGrowthSince: (seconds: number) => RegionGrowth[],
  options: Omit<AnalysisOptions, 'managed'> = DEFAULT_OPTIONS,
): Finding[] {
  const last = data.t.length - 1;
  const currentTotal = SUMS.total.reduce((sum, t) => sum + (data.committed[t][last] ?? 0), 0);
  const growthCache = new Map<number, RegionGrowth[]>();
  // The trend analysis takes plain arrays: one type's copy at a time (8 bytes per tick) beside the stored columns.
  const t = Array.from(data.t);
  return rows.map((type) => {
    const series: Series = { t, v: rowValues(data.committed, type), lives: data.lives };
    const trend = analyzeTrend(series, { ...options, managed: type === 'managedHeap' });
    const growing = trend.verdict === 'leak' || trend.verdict === 'suspected';
    const from = trend.onsetSeconds ?? data.t[0] ?? 0;
    let topRegions: RegionGrowth[] = [];
    if (growing) {
      if (!growthCache.has(from)) growthCache.set(from, regionGrowthSince(from));
      topRegions = growthCache.get(from)!.filter((g) => typesOf(type).includes(g.type) && g.growthBytes > 0).slice(0, TOP_REGIONS);
    }
    const toLimit = growing ? timeToLimit(trend.slopeBytesPerHour, data.limit, currentTotal) : null;
    const parts = [`${ROW_LABELS[type]}${SUM_NAMES[type] ? ` (${SUM_NAMES[type]})` : ''} ${trend.reason}.`];
    if (topRegions.length > 0) {
      parts.push(`Most of it: ${topRegions.slice(0, 2).map((g) => `${g.details} (+${formatBytes(g.growthBytes)})`).join(', ')}.`);
    }
    if (toLimit !== null && data.limit) parts.push(`At this rate the process reaches its ${data.limit.source} (${formatBytes(data.limit.bytes)}) in ${formatElapsed(toLimit * 1000)}.`);
    return {
      type,
      verdict: trend.verdict,
      slopeBytesPerHour: Math.round(trend.slopeBytesPerHour),
      ci: [Math.round(trend.ci[0]), Math.round(trend.ci[1])],
      onsetSeconds: trend.onsetSeconds === null ? null : Math.round(trend.onsetSeconds),
      growthBytes: Math.round(trend.growthBytes),
      timeToLimitSeconds: toLimit === null ? null : Math.round(toLimit),
      confidence: Math.round(trend.confidence * 1000) / 1000,
      explanation: parts.join(' '),
      topRegions,
      lives: trend.lives.map((l) => ({ ...l, startSeconds: Math.round(l.startSeconds), endSeconds: Math.round(l.endSeconds), slopeBytesPerHour: Math.round(l.slopeBytesPerHour) })),
    };
  });
}
