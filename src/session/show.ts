/** One stored session's facts: first, last and peak of each judged row, with its verdict and rate. */
import { ANALYZED_ROWS, type Row, type Verdict } from '../vocabulary.js';
import { rowValues } from '../analysis/session.js';
import type { AnalysedSession } from './analyse.js';
import { withReadOnlyDatabase } from './database.js';

export interface RowFacts {
  first: number;
  last: number;
  peak: number;
  verdict: Verdict;
  slopeBytesPerHour: number;
}

export async function showSession(file: string, id: number): Promise<Omit<AnalysedSession, 'series' | 'findings' | 'metric'> & { types: Record<Row, RowFacts> }> {
  const { analyseStoredSession } = await import('./analyse.js');
  const { series, findings, metric: _metric, ...facts } = await withReadOnlyDatabase(file, (db, alive) => analyseStoredSession(db, id, file, ANALYZED_ROWS, alive));
  const types = Object.fromEntries(ANALYZED_ROWS.map((type) => {
    const values = rowValues(series.committed, type);
    const finding = findings.find((f) => f.type === type)!;
    // reduce, not Math.max(...values): a week of samples would overflow the call stack.
    const peak = values.length ? values.reduce((a, b) => Math.max(a, b)) : 0;
    return [type, { first: values[0] ?? 0, last: values.at(-1) ?? 0, peak, verdict: finding.verdict, slopeBytesPerHour: finding.slopeBytesPerHour }];
  })) as Record<Row, RowFacts>;
  return { ...facts, types };
}
