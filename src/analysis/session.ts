/** A whole session's findings: the trend of each type, plus where the growth is and how long until a limit. */
import { TYPE_LABELS, type MemoryLimit, type MemoryType } from '../collector/types.js';
import { formatBytes, formatElapsed } from '../units.js';
import { analyzeTrend, DEFAULT_OPTIONS } from './trend.js';
import type { AnalysisOptions, Finding, RegionGrowth, Series } from './types.js';

/** The types whose leaks fail a build; the others are reported for context. */
export const GATED_TYPES = ['private', 'heap', 'managedHeap', 'stack'] as const satisfies readonly MemoryType[];
/** Every type analysis looks at (Free is address space, not memory). */
export const ANALYZED_TYPES = [...GATED_TYPES, 'image', 'shareable', 'mappedFile', 'pageTable'] as const satisfies readonly MemoryType[];

export const isGated = (type: MemoryType) => (GATED_TYPES as readonly MemoryType[]).includes(type);

export interface SessionData {
  /** Seconds since the session started, one per tick. */
  t: ArrayLike<number>;
  /** Committed bytes per type and tick, summed over the session's processes (e.g. one Float64Array per type). */
  committed: Record<MemoryType, ArrayLike<number>>;
  limit: MemoryLimit | undefined;
  /** Tick indices where the watched program restarted (a new target process); empty when it did not. */
  lives: number[];
}

const TOP_REGIONS = 5;

function timeToLimit(slopeBytesPerHour: number, limit: MemoryLimit | undefined, currentTotal: number): number | null {
  if (!limit || !(slopeBytesPerHour > 0)) return null;
  return Math.max(0, ((limit.bytes - currentTotal) / slopeBytesPerHour) * 3600);
}

function humanDuration(seconds: number): string {
  if (seconds < 48 * 3600) return formatElapsed(seconds * 1000);
  return `${(seconds / 86400).toFixed(1)} days`;
}

/**
 * @param regionGrowthSince region growth per (type, label) from a time (seconds) to the end, largest first.
 */
export function analyzeSession(
  data: SessionData,
  types: readonly MemoryType[],
  regionGrowthSince: (seconds: number) => RegionGrowth[],
  options: Omit<AnalysisOptions, 'managed'> = DEFAULT_OPTIONS,
): Finding[] {
  const last = data.t.length - 1;
  const currentTotal = ANALYZED_TYPES.filter((t) => t !== 'pageTable').reduce((sum, t) => sum + (data.committed[t][last] ?? 0), 0);
  const growthCache = new Map<number, RegionGrowth[]>();
  // The trend analysis takes plain arrays: one type's copy at a time (8 bytes per tick) beside the stored columns.
  const t = Array.from(data.t);
  return types.map((type) => {
    const series: Series = { t, v: Array.from(data.committed[type]), lives: data.lives };
    const trend = analyzeTrend(series, { ...options, managed: type === 'managedHeap' });
    const growing = trend.verdict === 'leak' || trend.verdict === 'suspected';
    const from = trend.onsetSeconds ?? data.t[0] ?? 0;
    let topRegions: RegionGrowth[] = [];
    if (growing) {
      if (!growthCache.has(from)) growthCache.set(from, regionGrowthSince(from));
      topRegions = growthCache.get(from)!.filter((g) => g.type === type && g.growthBytes > 0).slice(0, TOP_REGIONS);
    }
    const toLimit = growing ? timeToLimit(trend.slopeBytesPerHour, data.limit, currentTotal) : null;
    const parts = [`${TYPE_LABELS[type]} ${trend.reason}.`];
    if (topRegions.length > 0) {
      parts.push(`Most of it: ${topRegions.slice(0, 2).map((g) => `${g.details} (+${formatBytes(g.growthBytes)})`).join(', ')}.`);
    }
    if (toLimit !== null && data.limit) parts.push(`At this rate the process reaches its ${data.limit.source} (${formatBytes(data.limit.bytes)}) in ${humanDuration(toLimit)}.`);
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
