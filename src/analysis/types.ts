/** The interface between storage and analysis (Series in) and between analysis and reports (Finding out). */
import type { Row, Verdict } from '../vocabulary.js';
import type { RegionGrowth } from '../db/regions.js';

/** One memory type's committed bytes over time. `t` is seconds since the session started, ascending. */
export interface Series {
  t: number[];
  v: number[];
  /**
   * Indices where a new life of the watched program begins (a restart: a new process, known from its pid and start
   * time, never guessed from the values). Each life is judged on its own; absent or empty for one life.
   */
  lives?: number[];
}

export interface AnalysisOptions {
  /** Judge the post-GC floor (minimum of each GC cycle) rather than the raw values: for managed heaps. */
  managed: boolean;
  /** Growth slower than this does not matter, whatever the statistics say (bytes per hour). */
  minRateBytesPerHour: number;
  /** … nor growth slower than this fraction of the level per hour. */
  minRelativeRatePerHour: number;
  /** … nor growth of less than this many bytes in all (what a short run can show is not yet a problem). */
  minGrowthBytes: number;
}

/** What the statistics say about one series. */
export interface Trend {
  verdict: Verdict;
  /** Growth rate since onset, bytes per hour (Theil–Sen), with its 95% confidence interval. */
  slopeBytesPerHour: number;
  ci: [number, number];
  /** When the growth started, seconds since session start; null when there is no growth. */
  onsetSeconds: number | null;
  /** Growth from onset to the end of the series (fitted), bytes. */
  growthBytes: number;
  /** 0..1: how sure the verdict is (1 − p-value of the trend test for a leak). */
  confidence: number;
  /** Mann–Kendall p-value, corrected for autocorrelation. */
  pValue: number;
  /** Why, in words a human can check (without the type's name: the caller prefixes it). */
  reason: string;
  /** Each life's own judgement, when the series has more than one (empty otherwise). */
  lives: LifeTrend[];
}

/** One life of a program that restarted: when it ran and what its own series says. */
export interface LifeTrend {
  startSeconds: number;
  endSeconds: number;
  verdict: Verdict;
  slopeBytesPerHour: number;
  reason: string;
}

export interface Finding {
  type: Row;
  verdict: Verdict;
  slopeBytesPerHour: number;
  ci: [number, number];
  onsetSeconds: number | null;
  growthBytes: number;
  timeToLimitSeconds: number | null;
  confidence: number;
  explanation: string;
  topRegions: RegionGrowth[];
  /** Each life's own verdict when the program restarted or exec'd during the session (empty when it did not). */
  lives: LifeTrend[];
}
