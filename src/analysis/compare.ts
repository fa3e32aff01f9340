/** Comparing two sessions (build N vs build N+1): is a type's growth different, judged by the rates' 95% CIs? */

import type { Finding } from './types.js';
import { formatRate, formatRateInterval, isGated, type Row, ROW_LABELS, VERDICT_LABELS } from '../vocabulary.js';

export type Change = 'regression' | 'improvement' | 'same' | 'unknown';

/**
 * A regression when B's rate is significantly higher (its CI lies above A's) and B's verdict is at least
 * `suspected`; an improvement the other way round; the same when the intervals overlap.
 */
export function compareFindings(a: Finding, b: Finding): { change: Change; sentence: string } {
  const label = ROW_LABELS[a.type];
  const rate = (f: Finding) => `${formatRate(f.slopeBytesPerHour)} (95% CI ${formatRateInterval(f.ci)}, ${VERDICT_LABELS[f.verdict]})`;
  if (a.verdict === 'insufficient-data' || b.verdict === 'insufficient-data') {
    return { change: 'unknown', sentence: `${label}: too little data in ${a.verdict === 'insufficient-data' ? 'A' : 'B'} to compare.` };
  }
  const growing = (f: Finding) => f.verdict === 'leak' || f.verdict === 'suspected';
  if (b.ci[0] > a.ci[1] && growing(b)) {
    return { change: 'regression', sentence: `${label} grows faster in B: ${rate(b)} against ${rate(a)} in A — a regression.` };
  }
  if (a.ci[0] > b.ci[1] && growing(a)) {
    return { change: 'improvement', sentence: `${label} grows slower in B: ${rate(b)} against ${rate(a)} in A — an improvement.` };
  }
  return { change: 'same', sentence: `${label}: no significant difference, ${rate(a)} in A and ${rate(b)} in B.` };
}

export interface RowComparison {
  type: Row;
  a: Finding;
  b: Finding;
  change: Change;
}

/**
 * The comparison in one line, for the top of a report or a terminal: the regressions in gated rows, or, when a
 * side could not be judged, that — never "nothing grows faster" about a session that was not judged at all.
 */
export function comparisonHeadline(rows: readonly RowComparison[]): string {
  const gated = rows.filter((r) => isGated(r.type));
  const regressions = gated.filter((r) => r.change === 'regression').map((r) => ROW_LABELS[r.type]);
  const unjudged = (side: 'a' | 'b') => gated.some((r) => r[side].verdict === 'insufficient-data');
  const sides = [unjudged('a') && 'A', unjudged('b') && 'B'].filter(Boolean);
  const cannot = sides.length > 0 ? `${sides.join(' and ')} ${sides.length === 1 ? 'has' : 'have'} too little data to judge` : '';
  if (regressions.length > 0) return `B leaks more than A: ${regressions.join(', ')}${cannot ? ` (${cannot} in some types)` : ''}`;
  if (cannot) return `Cannot compare: session ${cannot}`;
  return 'Nothing grows significantly faster in B';
}
