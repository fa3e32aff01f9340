/**
 * The HTML report of a 12-hour session at 1 Hz: time from the database to the written file, and the file's size,
 * against dumping the same series as plain JSON (what a report without downsampling would have to carry).
 * Run: npm run bench
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ANALYZED_TYPES } from '../src/analysis/session.js';
import { regionGrowth, sessionSeries, typeTotalsAtLastTick } from '../src/db/read.js';
import { renderReport } from '../src/report/html.js';
import { analyseStoredSession } from '../src/cli/analysis.js';
import { medianTime, syntheticSession } from './synthetic-session.js';

const { db, dir, cleanup } = syntheticSession();
try {
  const chartJs = readFileSync(path.join(path.dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
  const file = path.join(dir, 'report.html');
  const render = () => {
    const analysed = analyseStoredSession(db, 1, 'bench.db', ANALYZED_TYPES);
    const s = analysed.session;
    const html = renderReport({
      session: { id: 1, command: s.command, label: s.label, pid: s.targetPid, host: s.host, platform: s.platform, mode: s.mode, startedAt: s.startedAt,
        endedAt: s.endedAt, endReason: s.endReason, exitCode: s.exitCode, schedule: 'every 1000 ms', limit: null },
      samples: analysed.samples, durationSeconds: analysed.durationSeconds, findings: analysed.findings,
      t: analysed.series.t, committed: analysed.series.committed, totalWs: analysed.series.totalWs,
      latest: typeTotalsAtLastTick(db, 1), regions: regionGrowth(db, 1, 0).slice(0, 20),
    }, chartJs);
    writeFileSync(file, html);
    return html.length;
  };
  let size = 0;
  const ms = medianTime(() => (size = render()), 3);
  const series = sessionSeries(db, 1);
  const rawJson = JSON.stringify(series).length;
  console.log(`HTML report of a 12 h @ 1 Hz session (${series.t.length} ticks), median of 3`);
  console.log(`render + write  ${ms.toFixed(0).padStart(6)} ms`);
  console.log(`file size       ${(size / 1024).toFixed(0).padStart(6)} KiB   ${(size / rawJson).toFixed(2)}x the size of the raw series as JSON (${(rawJson / 1024).toFixed(0)} KiB)`);
} finally {
  cleanup();
}
