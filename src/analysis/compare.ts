/** Comparing two sessions (build N vs build N+1): is a type's growth different, judged by the rates' 95% CIs? */

import type { Finding } from './types.js';
import { ROW_LABELS, formatRate, formatRateInterval, VERDICT_LABELS } from '../vocabulary.js';

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
