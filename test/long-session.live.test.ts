/**
 * Every read command on a 12-hour session at 250 ms (172,800 ticks), built in SQL from a few seconds of a real leaking
 * process (helpers/long-session.ts), through the real CLI: each exits 0 and says what SQL says about the same rows.
 * How long they take and how much memory they need is measured by `npm run bench`, not asserted here.
 */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { sampleKey, samples } from '../src/db/schema.js';
import { runCli } from './helpers/cli.js';
import { HEAP_DRIFT_BYTES_PER_HOUR, lengthenSession, recordShortSession } from './helpers/long-session.js';
import { ANALYZED_ROWS, ANALYZED_TYPES, MEMORY_TYPES, type MemoryType } from '../src/vocabulary.js';

const TICKS = 172_800;
const INTERVAL_MS = 250;
const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-long-'));
const db = path.join(dir, 'long.db');
let id = 0;
let sql: Database.Database;

before(async () => {
  id = lengthenSession(db, await recordShortSession(db), { ticks: TICKS, intervalMs: INTERVAL_MS });
  sql = new Database(db, { readonly: true });
});
after(() => {
  sql?.close();
  rmSync(dir, { recursive: true, force: true });
});

const column = (type: MemoryType) => samples[sampleKey(type, 'committed')].name;
/** Per tick, in order: elapsed ms and each type's committed bytes summed over processes (NULL as 0), by SQL. */
const perTick = (types: readonly MemoryType[]) =>
  `SELECT seq, min(elapsed_ms) AS elapsed_ms, ${types.map((t) => `coalesce(sum(${column(t)}), 0) AS "${t}"`).join(', ')} FROM samples WHERE session_id = ${id} GROUP BY seq ORDER BY seq`;
const cli = async (...args: string[]) => {
  const result = await runCli([...args, '--db', db], { timeoutMs: 120_000 });
  assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
};

test('sessions lists it: 172,800 samples, ended by its duration', async () => {
  const [session] = JSON.parse(await cli('sessions', '--json'));
  assert.equal(session.id, id);
  assert.equal(session.samples, TICKS);
  assert.equal(session.endReason, 'duration');
});

test('show: first, last and peak per type are the SQL sums over processes at the first, last and largest tick', async () => {
  const shown = JSON.parse(await cli('show', String(id), '--json'));
  assert.equal(shown.samples, TICKS);
  for (const type of ANALYZED_TYPES) {
    const ticks = `(${perTick([type])})`;
    const expected = sql.prepare(`SELECT (SELECT "${type}" FROM ${ticks} ORDER BY seq LIMIT 1) AS first, (SELECT "${type}" FROM ${ticks} ORDER BY seq DESC LIMIT 1) AS last,
      (SELECT max("${type}") FROM ${ticks}) AS peak`).get();
    const { first, last, peak } = shown.types[type];
    assert.deepEqual({ first, last, peak }, expected, type);
  }
  assert.ok(shown.types.heap.peak > shown.types.heap.first + 11 * HEAP_DRIFT_BYTES_PER_HOUR, 'the heap drifted for 12 hours');
});

/** The wall-clock time of a point in the session, as CSV and JSON rows carry it. */
const isoAt = (seconds: number) => new Date((sql.prepare('SELECT started_at FROM sessions WHERE id = ?').pluck().get(id) as number) + seconds * 1000).toISOString();

test('query --every: one row per bucket, each the SQL max (or rounded mean) of its ticks', async () => {
  const types = MEMORY_TYPES.filter((t) => t !== 'free');
  const buckets = (seconds: number, aggregate: 'max' | 'avg') => sql.prepare(`SELECT elapsed_ms / ${seconds * 1000} * ${seconds} AS seconds, ${types.map((t) => `round(${aggregate}("${t}"))`).join(', ')}
    FROM (${perTick(types)}) GROUP BY elapsed_ms / ${seconds * 1000} ORDER BY seconds`).raw().all().map((row) => `${isoAt((row as number[])[0])},${(row as number[]).join(',')}\n`);
  for (const [every, seconds, aggregate, rows] of [['1h', 3600, 'max', 12], ['1h', 3600, 'avg', 12], ['12h', 12 * 3600, 'max', 1]] as const) {
    const csv = await cli('query', String(id), '--every', every, '--agg', aggregate, '--format', 'csv');
    assert.equal(csv, [`time,seconds,${types.join(',')}\n`, ...buckets(seconds, aggregate)].join(''), `${every} ${aggregate}`);
    assert.equal(csv.trimEnd().split('\n').length, 1 + rows);
  }
});

test('query as a table: one line per tick, milliseconds at sub-second sampling, the columns aligned', async () => {
  const lines = (await cli('query', String(id), '--types', 'heap')).trimEnd().split('\n');
  assert.equal(lines.length, TICKS + 1);
  assert.match(lines[0], /^ELAPSED +heap$/);
  assert.match(lines.at(-1)!, /^11:59:59\.750 +[\d.]+ MiB$/, 'every tick has its own time at 250 ms sampling');
  assert.ok(lines.every((line) => line[13] === ' ' && line[14] !== ' '), 'the widest elapsed time (11:59:59.750) sets the first column');
});

test('query --from 1h --to 2h --format json: only the ticks of that hour, as SQL sums them', async () => {
  const rows = JSON.parse(await cli('query', String(id), '--from', '1h', '--to', '2h', '--types', 'heap,stack', '--format', 'json')) as { time: string; seconds: number }[];
  assert.ok(rows.every((row) => row.time === isoAt(row.seconds)), 'each row has its wall-clock time');
  const expected = sql.prepare(`SELECT elapsed_ms / 1000.0 AS seconds, heap, stack FROM (${perTick(['heap', 'stack'])}) WHERE elapsed_ms BETWEEN 3600000 AND 7200000`).all();
  assert.equal(rows.length, 3600 * (1000 / INTERVAL_MS) + 1);
  assert.deepEqual(rows.map(({ time: _time, ...row }) => row), expected);
});

test('export --format csv: a header and one line per tick, the SQL sums', async () => {
  const csv = await cli('export', String(id));
  const expected = (sql.prepare(perTick(MEMORY_TYPES)).raw().all() as number[][]).map(([, elapsed, ...values]) => `${[isoAt(elapsed / 1000), elapsed / 1000, ...values].join(',')}\n`);
  assert.equal(csv, [`time,seconds,${MEMORY_TYPES.join(',')}\n`, ...expected].join(''));
  assert.equal(csv.trimEnd().split('\n').length, TICKS + 1);
});

/**
 * The rows of a JSON export file, read in chunks and parsed one at a time: [key, row] for the session object and
 * for each element of its arrays. Strings and nesting are followed, so any row text parses or the test fails.
 */
async function* exportedRows(file: string): AsyncGenerator<[string, Record<string, unknown>]> {
  const open: string[] = [];
  let key = '';
  let inString = false;
  let escaped = false;
  let carry = '';
  let mark = -1; // where the row, or the string of the top object, being read starts in `text`
  const isRow = () => open.length === 1 || (open.length === 2 && open[1] === '[');
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 }) as AsyncIterable<string>) {
    const text = carry + chunk;
    for (let i = carry.length; i < text.length; i++) {
      const c = text[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') {
          inString = false;
          // A string of the top object before a row or an array is that member's key.
          if (open.length === 1) {
            key = text.slice(mark + 1, i);
            mark = -1;
          }
        }
      } else if (c === '"') {
        inString = true;
        if (open.length === 1) mark = i;
      } else if (c === '{' || c === '[') {
        if (c === '{' && isRow()) mark = i;
        open.push(c);
      } else if (c === '}' || c === ']') {
        open.pop();
        if (c === '}' && mark >= 0 && isRow()) {
          yield [key, JSON.parse(text.slice(mark, i + 1))];
          mark = -1;
        }
      }
    }
    carry = mark >= 0 ? text.slice(mark) : '';
    mark = mark >= 0 ? 0 : -1;
  }
}

test('export --format json: the session, its processes, every sample in order and every region row, each row parsing', async () => {
  const file = path.join(dir, 'long.json');
  await cli('export', String(id), '--format', 'json', '-o', file);
  const handle = await open(file);
  const { buffer } = await handle.read(Buffer.alloc(64), 0, 64, 0);
  await handle.close();
  assert.match(buffer.toString(), /^\{"format":"leakwatch-session","schema":\d+,"session":\{"id":\d+,/);
  const counts: Record<string, number> = {};
  let heapTotal = 0;
  for await (const [key, row] of exportedRows(file)) {
    if (key === 'samples') {
      assert.equal(row.seq, counts.samples ?? 0, 'one process: samples in tick order');
      heapTotal += row.heap_committed as number;
    }
    counts[key] = (counts[key] ?? 0) + 1;
  }
  const count = (query: string) => (sql.prepare(query).pluck().get(id) as number);
  assert.equal(counts.session, 1);
  assert.equal(counts.processes, count('SELECT count(*) FROM processes WHERE session_id = ?'));
  assert.equal(counts.samples, TICKS);
  assert.equal(counts.regions, count('SELECT count(*) FROM regions r JOIN samples s ON r.sample_id = s.id WHERE s.session_id = ?'));
  assert.equal(counts.verdicts ?? 0, count('SELECT count(*) FROM session_verdicts WHERE session_id = ?'));
  assert.equal(heapTotal, count('SELECT sum(heap_committed) FROM samples WHERE session_id = ?'));
});

test('regions: the list rebuilt at the last tick is the one recorded at the same point of the replayed cycle', async () => {
  const cycle = sql.prepare("SELECT min(s.seq) FROM samples s JOIN regions r ON r.sample_id = s.id WHERE s.session_id = ? AND s.seq > 0 AND r.kind = 'full'").pluck().get(id) as number;
  const atEnd = JSON.parse(await cli('regions', String(id), '--top', '1000', '--json'));
  const inCycle = JSON.parse(await cli('regions', String(id), '--at', `${((TICKS - 1) % cycle) * INTERVAL_MS}ms`, '--top', '1000', '--json'));
  assert.ok(atEnd.some((r: { details: string }) => r.details === '[heap]'));
  assert.deepEqual(atEnd, inCycle);
  assert.ok(Array.isArray(JSON.parse(await cli('regions', String(id), '--diff', '1h..11h', '--json'))));
});

test('analyze --json: every type judged on all 172,800 samples; the heap drift is the leak it finds', async () => {
  const analysis = JSON.parse(await cli('analyze', String(id), '--json'));
  assert.equal(analysis.samples, TICKS);
  assert.equal(analysis.durationSeconds, (TICKS * INTERVAL_MS) / 1000);
  assert.deepEqual(analysis.findings.map((f: { type: string }) => f.type), ANALYZED_ROWS);
  const heap = analysis.findings.find((f: { type: string }) => f.type === 'heap');
  assert.equal(heap.verdict, 'leak');
  assert.ok(Math.abs(heap.slopeBytesPerHour - HEAP_DRIFT_BYTES_PER_HOUR) < 0.02 * HEAP_DRIFT_BYTES_PER_HOUR, String(heap.slopeBytesPerHour));
});

test('report: the HTML report with every chart, each line drawn from at most 1,500 points', async () => {
  const file = path.join(dir, 'long.html');
  await cli('report', String(id), '-o', file);
  const html = readFileSync(file, 'utf8');
  const data = JSON.parse(html.match(/<script type="application\/json" id="report-data">(.*?)<\/script>/s)![1]);
  // The C target has no managed heap: no empty axis for it, a line saying so instead.
  assert.deepEqual(data.charts.map((c: { id: string }) => c.id), ['stacked', 'private', 'heap', 'stack', 'native', 'total', 'ws']);
  assert.match(html, /no Managed Heap memory in this session/);
  const lines = data.charts.flatMap((c: { datasets: { data: unknown[] }[] }) => c.datasets.map((d) => d.data.length));
  assert.ok(lines.every((n: number) => n > 0 && n <= 1500), String(lines));
  assert.match(html, /Leaking: Heap at/);
});

test('compare of the session with itself: the same in every type', async () => {
  const compared = JSON.parse(await cli('compare', String(id), String(id), '--json'));
  assert.deepEqual(compared.types.map((t: { change: string }) => t.change), ANALYZED_ROWS.map(() => 'same'));
});
