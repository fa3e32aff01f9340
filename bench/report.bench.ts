/**
 * The HTML report of a 12-hour session at 1 Hz: time from the database to the written file, and the file's size,
 * against dumping the same series as plain JSON (what a report without downsampling would have to carry).
 * Run: npm run build && node dist/bench/report.bench.js (npm run bench runs bench/overhead.bench.ts)
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { chartJsSource, reportModel } from '../src/session/analyse.js';
import { sessionSeries } from '../src/db/read.js';
import { renderReport } from '../src/report/html.js';
import { medianTime, syntheticSession } from './synthetic-session.js';

const { db, dir, cleanup } = syntheticSession();
try {
  const chartJs = chartJsSource();
  const file = path.join(dir, 'report.html');
  const render = () => {
    const html = renderReport(reportModel(db, 1, 'bench.db', () => true), chartJs);
    writeFileSync(file, html);
    return html.length;
  };
  let size = 0;
  const ms = medianTime(() => (size = render()), 3);
  const series = sessionSeries(db, 1, 'committed', true);
  const rawJson = JSON.stringify(series, (_, value) => (value instanceof Float64Array ? Array.from(value) : value)).length;
  console.log(`HTML report of a 12 h @ 1 Hz session (${series.t.length} ticks), median of 3`);
  console.log(`render + write  ${ms.toFixed(0).padStart(6)} ms`);
  console.log(`file size       ${(size / 1024).toFixed(0).padStart(6)} KiB   ${(size / rawJson).toFixed(2)}x the size of the raw series as JSON (${(rawJson / 1024).toFixed(0)} KiB)`);
} finally {
  cleanup();
}
