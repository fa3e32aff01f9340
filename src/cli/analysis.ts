/** Wiring shared by `analyze` and `demo`: a stored session's series and regions into the analysis. */
import { analyzeSession } from '../analysis/session.js';
import type { Finding } from '../analysis/types.js';
import type { MemoryLimit, MemoryType } from '../collector/types.js';
import type { Db } from '../db/open.js';
import { loadSession, regionGrowth, sessionSeries, type SessionRow, type SessionSeries } from '../db/read.js';

export interface AnalysedSession {
  session: SessionRow;
  series: SessionSeries;
  samples: number;
  durationSeconds: number;
  findings: Finding[];
}

export function analyseStoredSession(db: Db, id: number, file: string, types: readonly MemoryType[]): AnalysedSession {
  const session = loadSession(db, id, file);
  const data = sessionSeries(db, id);
  const limit = session.limitBytes !== null && session.limitSource !== null
    ? { bytes: session.limitBytes, source: session.limitSource as MemoryLimit['source'] }
    : undefined;
  const findings = analyzeSession({ ...data, limit }, types, (from) => regionGrowth(db, id, from));
  const durationSeconds = data.t.length > 0 ? Math.round(data.t[data.t.length - 1] - data.t[0]) : 0;
  return { session, series: data, samples: data.t.length, durationSeconds, findings };
}
