/**
 * Series from a Prometheus server: a range query through its HTTP API (/api/v1/query_range), paged by time so a
 * long range at a fine step never asks for more than a server returns (11,000 points per series and query).
 */
import { LeakwatchError } from '../errors.js';

/** One returned series: its labels and its points (Unix seconds, values), ascending. */
export interface PromSeries {
  labels: Record<string, string>;
  t: number[];
  v: number[];
}

export interface RangeQuery {
  /** The server's base address, e.g. http://127.0.0.1:9090 (a path prefix is kept). */
  server: URL;
  query: string;
  /** Unix seconds. */
  start: number;
  end: number;
  step: number;
}

/** Prometheus refuses a query whose range holds more than 11,000 steps; each page stays below that. */
export const POINTS_PER_PAGE = 10_000;
// A range query runs on the server; a minute covers a slow one, and a dead server is said instead of a hang.
const PAGE_TIMEOUT_MS = 60_000;

interface ApiReply {
  status?: string;
  error?: string;
  errorType?: string;
  data?: { resultType?: string; result?: { metric?: Record<string, string>; values?: [number, string][] }[] };
}

/** A base address the API can be reached at: http(s) only, nothing but a path after the host. */
export function parseServer(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new LeakwatchError(`--prometheus needs the server's address, e.g. http://127.0.0.1:9090, got '${text}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new LeakwatchError(`--prometheus takes an http:// or https:// address, got '${text}'`);
  if (url.search || url.hash) throw new LeakwatchError(`--prometheus takes the server's base address without a query (?…) or fragment (#…), got '${text}'`);
  return url;
}

async function fetchPage(range: RangeQuery, start: number, end: number): Promise<NonNullable<ApiReply['data']>['result']> {
  const url = new URL(`${range.server.pathname.replace(/\/$/, '')}/api/v1/query_range`, range.server);
  const body = new URLSearchParams({ query: range.query, start: String(start), end: String(end), step: String(range.step) });
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', body, signal: AbortSignal.timeout(PAGE_TIMEOUT_MS) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new LeakwatchError(`cannot reach Prometheus at ${range.server.origin}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
  }
  const text = await response.text();
  let reply: ApiReply;
  try {
    reply = JSON.parse(text) as ApiReply;
  } catch {
    throw new LeakwatchError(`${range.server.origin} did not answer as a Prometheus server (HTTP ${response.status}, not JSON)`);
  }
  if (reply.status !== 'success') {
    throw new LeakwatchError(`Prometheus refused the query (${reply.errorType ?? `HTTP ${response.status}`}): ${reply.error ?? 'no reason given'}`);
  }
  if (reply.data?.resultType !== 'matrix' || !Array.isArray(reply.data.result)) {
    throw new LeakwatchError(`Prometheus answered a ${reply.data?.resultType ?? 'malformed'} result, not series over time: give a query that returns instant vectors (no [range] selector)`);
  }
  return reply.data.result;
}

const seriesKey = (labels: Record<string, string>) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));

/**
 * Every series the query returns over the range, pages joined: points in time order, NaN and ±Inf (a failed scrape,
 * a division by zero) left out, as a gap.
 */
export async function queryRange(range: RangeQuery): Promise<PromSeries[]> {
  const series = new Map<string, PromSeries>();
  const pageSpan = range.step * (POINTS_PER_PAGE - 1);
  for (let from = range.start; from <= range.end; from += pageSpan + range.step) {
    const to = Math.min(from + pageSpan, range.end);
    for (const result of (await fetchPage(range, from, to)) ?? []) {
      const labels = result.metric ?? {};
      const key = seriesKey(labels);
      let entry = series.get(key);
      if (!entry) series.set(key, (entry = { labels, t: [], v: [] }));
      for (const [at, text] of result.values ?? []) {
        const value = Number(text);
        if (!Number.isFinite(value)) continue;
        entry.t.push(at);
        entry.v.push(value);
      }
    }
  }
  return [...series.values()].filter((s) => s.t.length > 0);
}

/** `{job="app", instance="h:9100"}`: a series' labels as PromQL writes them (the metric name first, when it has one). */
export function labelsText(labels: Record<string, string>): string {
  const { __name__: name, ...rest } = labels;
  const pairs = Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `${name ?? ''}{${pairs.join(', ')}}`;
}
