/** A stored session into the analysis and into the report's model: what `analyze`, `show`, `compare`, `report`, `demo` and the benchmarks share. */
import { analyzeSession } from '../analysis/session.js';
import type { Finding } from '../analysis/types.js';
import type { MemoryLimit } from '../collector/types.js';
import type { Db } from '../db/open.js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { regionGrowth } from '../db/regions.js';
import { type CollectorAlive, execTicks, loadSession, restartTicks, type SessionRow, sessionSeries, type SessionSeries, typeTotalsAtLastTick } from '../db/read.js';
import type { ReportModel } from '../report/html.js';
import { ANALYZED_ROWS, formatBytes, formatDuration, type Metric, type Row } from '../vocabulary.js';

export interface AnalysedSession {
  session: SessionRow;
  series: SessionSeries;
  samples: number;
  durationSeconds: number;
  findings: Finding[];
  /** When the watched program restarted, seconds since start. */
  restarts: number[];
  /** When a watched process exec()d another program, seconds since start. */
  execs: number[];
  metric: Metric;
}

/** `withTotalWs`: also read the total working set per tick (the report's chart), see sessionSeries. */
export function analyseStoredSession(db: Db, id: number, file: string, rows: readonly Row[], alive: CollectorAlive, metric: Metric = 'committed', withTotalWs = false): AnalysedSession {
  const session = loadSession(db, id, file, alive);
  const data = sessionSeries(db, id, metric, withTotalWs);
  const limit = session.limitBytes !== null && session.limitSource !== null
    ? { bytes: session.limitBytes, source: session.limitSource as MemoryLimit['source'] }
    : undefined;
  const restarts = restartTicks(db, id, metric);
  const execs = execTicks(db, id, metric);
  // A restart and an exec both start a new program: what it uses is not the old one's growth.
  const lives = [...new Set([...restarts, ...execs])].sort((a, b) => a - b);
  const findings = analyzeSession({ ...data, limit, lives }, rows, (from) => regionGrowth(db, id, from));
  const durationSeconds = data.t.length > 0 ? Math.round(data.t[data.t.length - 1] - data.t[0]) : 0;
  const seconds = (ticks: number[]) => ticks.map((i) => data.t[i]);
  return { session, series: data, samples: data.t.length, durationSeconds, findings, restarts: seconds(restarts), execs: seconds(execs), metric };
}

// The report's regions table shows this many of the largest growths.
const REGION_ROWS = 20;

/** Everything the HTML report shows about a stored session. */
export function reportModel(db: Db, id: number, file: string, alive: CollectorAlive, metric: Metric = 'committed'): ReportModel {
  const analysed = analyseStoredSession(db, id, file, ANALYZED_ROWS, alive, metric, true);
  const { session, series } = analysed;
  return {
    session: {
      id,
      command: session.command,
      label: session.label,
      pid: session.targetPid,
      host: session.host,
      platform: session.platform,
      mode: session.mode,
      startedAt: session.startedAt,
      endedAt: session.endedAt,
      endReason: session.endReason,
      exitCode: session.exitCode,
      schedule: session.cron ? `cron "${session.cron}"` : session.intervalMs === null ? 'imported snapshots' : `every ${formatDuration(session.intervalMs)}`,
      limit: session.limitBytes === null ? null : `${formatBytes(session.limitBytes)} (${session.limitSource})`,
    },
    samples: analysed.samples,
    durationSeconds: analysed.durationSeconds,
    findings: analysed.findings,
    t: series.t,
    committed: series.committed,
    totalWs: series.totalWs!,
    latest: typeTotalsAtLastTick(db, id),
    regions: regionGrowth(db, id, series.t[0] ?? 0).filter((r) => r.growthBytes !== 0).slice(0, REGION_ROWS),
    restarts: analysed.restarts,
    execs: analysed.execs,
    metric,
  };
}

/** chart.js's UMD bundle, inlined into reports (read from next to its CommonJS entry: the file is not exported). */
export function chartJsSource(): string {
  return readFileSync(path.join(path.dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
}
