/**
 * The Prometheus exporter: an HTTP server whose /metrics shows sessions of a database as they stand, read at each
 * scrape through a read-only connection of its own. `watch --serve` shows its own session; `leakwatch serve` every
 * session being recorded into the file. The analysis runs when due (as the watch's online analysis does), not on
 * every scrape.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Finding } from '../analysis/types.js';
import type { Collector } from '../collector/types.js';
import type { Db } from '../db/open.js';
import type { CollectorAlive } from '../db/read.js';
import { sessions as sessionsTable } from '../db/schema.js';
import { inArray, isNull } from 'drizzle-orm';
import { LeakwatchError } from '../errors.js';
import type { ExportedSession } from '../report/prometheus.js';
import { ANALYZED_ROWS } from '../vocabulary.js';

/** Where to listen: a host name or address and a port (0: any free one). */
export interface Listen {
  host: string;
  port: number;
}

export interface MetricsServer {
  /** The metrics' address, with the port really bound. */
  url: string;
  /** Whether the database exists yet. */
  readonly waiting: boolean;
  close(): Promise<void>;
}

/** Which sessions a scrape shows: the ones being recorded, or the ids given (none yet: an empty exposition). */
export type Shown = 'live' | (() => number[]);

/** The last analysis of each session, with when (elapsed ms into the session) it ran. */
type Judged = Map<number, { atMs: number; findings: Finding[] }>;

/**
 * The sessions a scrape shows, with the analysis as it last ran, and the sessions whose analysis is due: it runs after
 * the answer, so a scrape costs index lookups, never a week of samples read.
 */
async function exportedSessions(db: Db, shown: Shown, judged: Judged, alive: CollectorAlive, collector: Collector | undefined): Promise<{ sessions: ExportedSession[]; due: { id: number; atMs: number }[] }> {
  const [{ judgedState, lastSampleAt, latestProcessSamples }, { analysisDue }] = await Promise.all([
    import('../db/read.js'),
    import('../watch/online.js'),
  ]);
  const rows = shown === 'live'
    ? db.select().from(sessionsTable).where(isNull(sessionsTable.endedAt)).orderBy(sessionsTable.id).all()
    : db.select().from(sessionsTable).where(inArray(sessionsTable.id, shown())).orderBy(sessionsTable.id).all();
  const sessions: ExportedSession[] = [];
  const due: { id: number; atMs: number }[] = [];
  for (const row of rows) {
    // A session whose collector died is not being recorded, whatever its row says.
    if (shown === 'live' && judgedState(row, () => lastSampleAt(db, row.id), alive).endedAt !== null) continue;
    const latest = latestProcessSamples(db, row.id);
    const elapsedMs = latest ? latest.takenAt - row.startedAt : 0;
    const last = judged.get(row.id);
    if (latest && (!last || analysisDue(elapsedMs, last.atMs))) due.push({ id: row.id, atMs: elapsedMs });
    const local = row.host === hostname();
    sessions.push({
      id: row.id,
      label: row.label,
      host: row.host,
      pid: row.targetPid,
      command: row.command,
      samples: latest ? latest.seq + 1 : 0,
      lastSampleAt: latest?.takenAt ?? null,
      processes: latest?.processes ?? [],
      findings: judged.get(row.id)?.findings ?? [],
      collector: local ? collector?.usageOf?.(row.collectorPid, row.collectorStartTime) : undefined,
    });
  }
  return { sessions, due };
}

/**
 * Starts the exporter on `listen`, reading `file`; a port in use or an address not on this machine is a one-line
 * error (exit 2). Scrapes are answered one at a time, in the order they come.
 */
export async function serveMetrics(file: string, listen: Listen, shown: Shown): Promise<MetricsServer> {
  const [{ openForRead }, { exposition }, { collectorAlive }, { loadCollector }] = await Promise.all([
    import('../db/open.js'),
    import('../report/prometheus.js'),
    import('./database.js'),
    import('../collector/index.js'),
  ]);
  // Opened once it exists: an exporter started before the first watch serves no sessions until then.
  let db: Db | undefined;
  const database = () => (db ??= existsSync(file) ? openForRead(file) : undefined);
  database();
  const alive = await collectorAlive();
  const collector = await loadCollector().catch(() => undefined);
  const judged: Judged = new Map();
  const { analyseStoredSession } = await import('./analyse.js');
  let queue = Promise.resolve();
  const answer = async (response: ServerResponse) => {
    let due: { id: number; atMs: number }[] = [];
    const opened = database();
    try {
      const exported = opened ? await exportedSessions(opened, shown, judged, alive, collector) : { sessions: [], due: [] };
      due = exported.due;
      const { contentType, body } = await exposition(exported.sessions);
      // Handed to the system before the analyses that are due hold the thread.
      await new Promise<void>((resolve) => response.writeHead(200, { 'Content-Type': contentType }).end(body, resolve));
    } catch (error) {
      // A scrape that fails says why; the exporter goes on for the next one.
      response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`leakwatch: ${(error as Error).message}\n`);
    }
    for (const { id, atMs } of due) {
      try {
        judged.set(id, { atMs, findings: analyseStoredSession(opened!, id, file, ANALYZED_ROWS, alive).findings });
      } catch {
        // Tried again when next due; the scrape shows the last analysis meanwhile (a session pruned, a busy disk).
        judged.set(id, { atMs, findings: judged.get(id)?.findings ?? [] });
      }
    }
  };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      queue = queue.then(() => answer(response));
    } else if (path === '/') {
      response.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('leakwatch exporter: the metrics are at /metrics\n');
    } else {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found: the metrics are at /metrics\n');
    }
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listen.port, listen.host, () => resolve());
    });
  } catch (error) {
    db?.$client.close();
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the port is in use' : code === 'EADDRNOTAVAIL' ? 'no such address on this machine' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new LeakwatchError(`cannot serve metrics on ${listen.host}:${listen.port}: ${why}`);
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : listen.port;
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return {
    url: `http://${host}:${port}/metrics`,
    get waiting() {
      return db === undefined;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await queue;
      db?.$client.close();
    },
  };
}
