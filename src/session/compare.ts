/** Two stored sessions side by side (build N vs build N+1): each row's verdicts and rates, and what changed. */
import { compareFindings, comparisonHeadline, type RowComparison } from '../analysis/compare.js';
import { ANALYZED_ROWS, type Metric } from '../vocabulary.js';
import type { AnalysedSession } from './analyse.js';
import { withReadOnlyDatabase } from './database.js';

export interface SessionComparison {
  a: Omit<AnalysedSession, 'series' | 'findings'>;
  b: Omit<AnalysedSession, 'series' | 'findings'>;
  rows: (RowComparison & { sentence: string })[];
  headline: string;
}

export async function compareSessions(file: string, a: number, b: number, metric: Metric): Promise<SessionComparison> {
  const { analyseStoredSession } = await import('./analyse.js');
  return withReadOnlyDatabase(file, (db, alive) => {
    const { series: _sa, findings: fa, ...sa } = analyseStoredSession(db, a, file, ANALYZED_ROWS, alive, metric);
    const { series: _sb, findings: fb, ...sb } = analyseStoredSession(db, b, file, ANALYZED_ROWS, alive, metric);
    const rows = ANALYZED_ROWS.map((type, i) => ({ type, a: fa[i], b: fb[i], ...compareFindings(fa[i], fb[i]) }));
    return { a: sa, b: sb, rows, headline: comparisonHeadline(rows) };
  });
}
