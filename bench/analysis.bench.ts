/**
 * Analysis time of a 12-hour session sampled at 1 Hz (43,200 ticks × 9 types): reading the series from a real
 * SQLite file and analysing every type, against a plain least-squares fit of the same data (the naive baseline).
 * Run: npm run build && node dist/bench/analysis.bench.js (npm run bench runs bench/overhead.bench.ts)
 */
import { analyzeSession } from '../src/analysis/session.js';
import { leastSquares } from '../src/analysis/stats.js';
import { sessionSeries } from '../src/db/read.js';
import { medianTime, syntheticSession } from './synthetic-session.js';
import { ANALYZED_TYPES } from '../src/vocabulary.js';

const { db, cleanup } = syntheticSession();
try {
  let data = sessionSeries(db, 1);
  const read = medianTime(() => (data = sessionSeries(db, 1)));
  let verdicts = '';
  const analyse = medianTime(() => {
    const findings = analyzeSession({ ...data, limit: undefined, lives: [] }, ANALYZED_TYPES, () => []);
    verdicts = findings.map((f) => `${f.type}=${f.verdict}`).join(' ');
  });
  const t = Array.from(data.t);
  const plain = ANALYZED_TYPES.map((type) => Array.from(data.committed[type]));
  const naive = medianTime(() => plain.forEach((v) => leastSquares(t, v)));
  console.log(`12 h @ 1 Hz session: ${data.t.length} ticks × ${ANALYZED_TYPES.length} analysed types (median of 5)`);
  console.log(`read series from SQLite  ${read.toFixed(0).padStart(6)} ms`);
  console.log(`analyse all types        ${analyse.toFixed(0).padStart(6)} ms   ${(analyse / naive).toFixed(0)}x a plain least-squares fit of the same data (${naive.toFixed(1)} ms)`);
  console.log(`total                    ${(read + analyse).toFixed(0).padStart(6)} ms   verdicts: ${verdicts}`);
} finally {
  cleanup();
}
