/**
 * A property test of the /proc parsers and the importers on random, truncated and hostile input, from a seeded
 * generator (the same cases every run; LEAKWATCH_PROPERTY_SEED picks others). Each call either returns a
 * well-formed result (numbers finite, byte counts non-negative) or throws an Error with a one-line message; never
 * a non-Error, never a stack overflow, never a hang: the cases run in a worker that is ended after a time limit.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { checkDump, parseDumpText } from '../src/db/dump-check.js';
import { dumpSession, loadDump } from '../src/db/dump.js';
import { type Db, openForWrite, schemaVersion } from '../src/db/open.js';
import { regionsAt, regionGrowth } from '../src/db/regions.js';
import { listSessions } from '../src/db/sessions.js';
import { committedColumns, tickSums, typeTotalsAtLastTick } from '../src/db/read.js';
import { resample } from '../src/analysis/resample.js';
import { csvRows, jsonRows } from '../src/report/rows.js';
import { renderReport } from '../src/report/html.js';
import { sessionsTable } from '../src/report/sessions.js';
import { findingsTable, sessionHeading } from '../src/report/text.js';
import { analyseStoredSession, reportModel } from '../src/session/analyse.js';
import { ANALYZED_ROWS, isGated, MEMORY_TYPES } from '../src/vocabulary.js';
import { decodeImportText } from '../src/import/text.js';
import { parseVmmapCsv } from '../src/import/vmmap-csv.js';
import { parseVmmapMmp } from '../src/import/vmmap-mmp.js';
import {
  countResidentPages, deviceNumber, type Mapping, parseAuxvPageSize, parseBootTime, parseCmdline, parseMaps, parseSmaps, parseStat, parseStatus,
  parseSyscallStackPointer, statusBytes,
} from '../src/collector/linux/procfs.js';
import { type Dump, validDump } from './helpers/dump.js';
import { repoRoot } from './helpers/targets.js';

const TIME_LIMIT_MS = 30_000;
/** One call may take this long (the largest inputs are a few MiB). */
const CALL_LIMIT_MS = 2_000;

interface Summary {
  cases: number;
  threw: number;
  failures: string[];
  byTarget: Record<string, number>;
  /** Dumps accepted by the check, then stored and read every way. */
  readBack: number;
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  return { next, int, pick };
}
type Random = ReturnType<typeof generator>;

// ---- what a well-formed result is ----

class Malformed extends Error {}
const bytes = (value: unknown, what: string) => {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new Malformed(`${what} is ${String(value)}`);
};
const optionalBytes = (value: unknown, what: string) => value === undefined || bytes(value, what);

function wellFormedMappings(mappings: Mapping[]): void {
  assert.ok(Array.isArray(mappings));
  for (const m of mappings) {
    for (const key of ['start', 'end', 'size', 'offset', 'inode'] as const) bytes(m[key], key);
    if (m.end < m.start) throw new Malformed(`end ${m.endHex} before start ${m.startHex}`);
    bytes(deviceNumber(m.dev), `device of ${m.dev}`);
    for (const [key, value] of Object.entries(m.counters ?? {})) bytes(value, key);
    if (typeof m.path !== 'string' || typeof m.perms !== 'string') throw new Malformed('path or perms not text');
  }
}

function wellFormedTotals(totals: Record<string, Record<string, number> | undefined>): void {
  for (const [type, entry] of Object.entries(totals)) {
    for (const [column, value] of Object.entries(entry ?? {})) {
      bytes(value, `${type}.${column}`);
      if (!Number.isSafeInteger(value)) throw new Malformed(`${type}.${column} is ${value}, not a whole number below 2^53`);
    }
  }
}

const TARGETS: Record<string, { input: 'text' | 'bytes'; run: (input: string & Buffer) => unknown }> = {
  parseMaps: { input: 'text', run: (text) => wellFormedMappings(parseMaps(text)) },
  parseSmaps: { input: 'text', run: (text) => wellFormedMappings(parseSmaps(text)) },
  parseStatus: {
    input: 'text',
    run: (text) => {
      const status = parseStatus(text);
      // The `NNN kB` fields, as the collector reads VmPTE.
      for (const key of status.keys()) if (/^(Vm|Rss)/.test(key)) optionalBytes(statusBytes(status, key), `status ${key}`);
    },
  },
  parseStat: {
    input: 'text',
    run: (text) => {
      const stat = parseStat(text);
      if (!Number.isSafeInteger(stat.ppid) || stat.ppid < 0) throw new Malformed(`ppid ${stat.ppid}`);
      if (!Number.isSafeInteger(stat.startTicks) || stat.startTicks < 0) throw new Malformed(`startTicks ${stat.startTicks}`);
    },
  },
  parseBootTime: { input: 'text', run: (text) => bytes(parseBootTime(text), 'btime') },
  parseSyscallStackPointer: { input: 'text', run: (text) => optionalBytes(parseSyscallStackPointer(text), 'stack pointer') },
  parseCmdline: { input: 'text', run: (text) => assert.ok(parseCmdline(text).every((arg) => typeof arg === 'string')) },
  parseAuxvPageSize: { input: 'bytes', run: (data) => optionalBytes(parseAuxvPageSize(data), 'page size') },
  countResidentPages: {
    input: 'bytes',
    run: (data) => {
      const pages = countResidentPages(data);
      if (!Number.isSafeInteger(pages) || pages < 0 || pages > data.length / 8) throw new Malformed(`${pages} pages from ${data.length} bytes`);
    },
  },
  parseVmmapCsv: { input: 'bytes', run: async (data) => wellFormedTotals((await parseVmmapCsv(data)) as never) },
  parseVmmapMmp: {
    input: 'bytes',
    run: (data) => {
      const snapshots = parseVmmapMmp(data);
      if (snapshots.length === 0) throw new Malformed('no snapshots, yet no error');
      for (const s of snapshots) wellFormedTotals(s.totals as never);
    },
  },
  checkDump: {
    input: 'bytes',
    run: (data) => {
      const dump = checkDump(parseDumpText(decodeImportText(data, Infinity)), schemaVersion());
      for (const list of [dump.processes, dump.samples, dump.regions, dump.verdicts]) {
        for (const row of list) for (const [key, value] of Object.entries(row)) if (typeof value === 'number' && key !== 'exit_code') bytes(value, key);
      }
      try {
        readEveryWay(dump);
      } catch (error) {
        throw new Malformed(`accepted, then stored rows a reader failed on: ${(error as Error).stack}`);
      }
    },
  },
};

// ---- inputs ----

function procFile(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch {
    return Buffer.alloc(0); // not Linux, or hidden: the random inputs still run
  }
}

const fixture = (name: string) => readFileSync(path.join(repoRoot(), 'test', 'fixtures', name));

/** Real inputs per target, to be truncated and mutated. */
function seeds(): Record<string, Buffer[]> {
  const dump = Buffer.from(JSON.stringify(validDump({ ticks: 12 })));
  return {
    parseMaps: [procFile('/proc/self/maps')],
    parseSmaps: [procFile('/proc/self/smaps')],
    parseStatus: [procFile('/proc/self/status')],
    parseStat: [procFile('/proc/self/stat'), Buffer.from('1234 (a) b) c) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23\n')],
    parseBootTime: [procFile('/proc/stat')],
    parseSyscallStackPointer: [Buffer.from('7 0x3 0x7ffd 0x10 0x0 0x0 0x0 0x7ffdf00dc0 0x7f12ab34cd56'), Buffer.from('-1 0x7ffd1234 0x7f0012')],
    parseCmdline: [procFile('/proc/self/cmdline')],
    parseAuxvPageSize: [procFile('/proc/self/auxv')],
    countResidentPages: [Buffer.alloc(64, 0xc0)],
    parseVmmapCsv: [fixture('vmmap-1.csv'), fixture('vmmap-2.csv'), fixture('vmmap-bad.csv')],
    parseVmmapMmp: [fixture('vmmap.mmp'), fixture('vmmap-nested.mmp')],
    checkDump: [dump],
  };
}

const HUGE_NUMBERS = ['9'.repeat(400), '1e308', '-1', '18446744073709551616', 'ffffffffffffffffffffffffffffffff', '0x10', 'NaN', 'Infinity', '-0', '1.5', '9007199254740993'];
const HOSTILE_TEXT = ['\u0000', '\u001b[2J', '\r', '\n\n\n', '"', '""', '\u2028', '\ud800', '<', '>', '&lol;', ']]>', '<!DOCTYPE x>', '{', '}', '[', ':', ',', ' ', '-', '\t'];

/** Deeply nested input for each kind of parser. */
function deepNesting(random: Random): Buffer {
  const depth = 1000 + random.int(200_000);
  return Buffer.from(random.pick([
    `${'['.repeat(depth)}${']'.repeat(depth)}`,
    `{"format":"leakwatch-session","schema":1,"session":${'['.repeat(depth)}${']'.repeat(depth)}}`,
    `<root><Snapshot>${'<Region Address="0" Size="1" UseType="0">'.repeat(Math.min(depth, 40_000))}`,
    `<root>${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}</root>`,
    `${'"'.repeat(depth)}`,
    `${'('.repeat(depth)}${')'.repeat(depth)}`,
  ]));
}

function mutate(random: Random, seed: Buffer): Buffer {
  const text = seed.toString('latin1');
  const at = random.int(text.length + 1);
  switch (random.int(7)) {
    case 6: // a huge count of kB, where smaps and status have them
      return Buffer.from(text.replace(/\d+(?= kB)/g, (digits) => (random.int(8) === 0 ? random.pick(HUGE_NUMBERS) : digits)), 'latin1');
    case 0: // a number where one was
      return Buffer.from(text.replace(/\d+/g, (digits) => (random.int(8) === 0 ? random.pick(HUGE_NUMBERS) : digits)), 'latin1');
    case 1: // a hostile character or string somewhere
      return Buffer.concat([seed.subarray(0, at), Buffer.from(random.pick(HOSTILE_TEXT)), seed.subarray(at)]);
    case 2: // a random byte changed
      if (seed.length === 0) return Buffer.from([random.int(256)]);
      return Buffer.from(seed.map((b, i) => (i === at ? random.int(256) : b)));
    case 3: // a line duplicated or dropped
    {
      const lines = text.split('\n');
      const line = random.int(lines.length);
      if (random.int(2) === 0) lines.splice(line, 0, lines[line]);
      else lines.splice(line, 1);
      return Buffer.from(lines.join('\n'), 'latin1');
    }
    case 4: // a field swapped for a huge or negative number (JSON values, XML attributes, CSV cells)
      return Buffer.from(text.replace(/(:|=")(-?[\d.]+)/g, (whole, lead: string) => (random.int(10) === 0 ? `${lead}${random.pick(HUGE_NUMBERS)}` : whole)), 'latin1');
    default: // start and end addresses swapped, hex grown
      return Buffer.from(text.replace(/^([0-9a-f]+)-([0-9a-f]+)/gm, (whole, start: string, end: string) =>
        random.int(4) === 0 ? `${end}-${start}` : random.int(4) === 0 ? `${start}${'f'.repeat(20)}-${end}` : whole), 'latin1');
  }
}

function randomInput(random: Random): Buffer {
  const length = random.int(random.int(2) === 0 ? 64 : 4096);
  if (random.int(2) === 0) return Buffer.from(Array.from({ length }, () => random.int(256)));
  // Text from the characters these formats are made of.
  const alphabet = '0123456789abcdefABCDEF -:\n\t"(),.<>/=[]{}kB\u0000rwxp';
  return Buffer.from(Array.from({ length }, () => alphabet[random.int(alphabet.length)]).join(''));
}

/** A valid dump with one to three fields, rows or keys changed to hostile values: JSON that parses. */
function hostileDump(random: Random): Buffer {
  const dump = validDump({ ticks: 12 }) as unknown as Record<string, unknown> & Dump;
  const values: unknown[] = [-1, -0, 0.5, 1e308, 2 ** 53, 2 ** 53 - 1, 2 ** 31, '', 'x', '\u001b[2J', null, true, [], {}, [[[[1]]]], 'full', 'heap', 'leak', '0', 'ffffffffffffffff', Date.now(), 946684800000];
  for (let k = 1 + random.int(3); k > 0; k--) {
    const list = random.pick(['session', 'processes', 'samples', 'regions', 'verdicts', 'execs'] as const);
    const rows = list === 'session' ? [dump.session] : dump[list];
    if (rows.length === 0) continue;
    const index = random.int(rows.length);
    const row = rows[index];
    const keys = Object.keys(row);
    const key = random.pick(keys);
    switch (random.int(6)) {
      case 0: delete row[key]; break;
      case 1: row[`extra_${key}`] = 1; break;
      case 2: if (list !== 'session') rows.splice(random.int(rows.length), 0, { ...row }); break; // a duplicated row
      case 3: { // a value taken from another row of the table: plausible, and often in conflict
        const other = rows[random.int(rows.length)];
        row[key] = other[key];
        break;
      }
      default: row[key] = random.pick(values);
    }
  }
  return Buffer.from(JSON.stringify(dump));
}

let readBack: { db: Db; dir: string } | undefined;
const alive = () => false;

/**
 * What every reader does with a stored session, on a dump checkDump accepted: a reader failing on a stored row is a
 * failure of the check.
 */
function readEveryWay(dump: ReturnType<typeof checkDump>): void {
  if (readBack === undefined) {
    const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-property-'));
    readBack = { db: openForWrite(path.join(dir, 'read-back.db')), dir };
  }
  const { db } = readBack;
  const id = loadDump(db, dump, undefined);
  sessionsTable(listSessions(db, {}, alive).filter((s) => s.id === id));
  for (const metric of ['committed', 'ws'] as const) {
    const analysed = analyseStoredSession(db, id, 'read-back.db', ANALYZED_ROWS, alive, metric);
    sessionHeading(analysed);
    findingsTable(analysed.findings, (f) => isGated(f.type));
  }
  renderReport(reportModel(db, id, 'read-back.db', alive), '');
  typeTotalsAtLastTick(db, id);
  const started = (db.$client.prepare('SELECT started_at AS at FROM sessions WHERE id = ?').get(id) as { at: number }).at;
  for (const _ of csvRows(MEMORY_TYPES, tickSums(db, id, committedColumns(MEMORY_TYPES)), started));
  for (const _ of jsonRows(MEMORY_TYPES, resample(tickSums(db, id, committedColumns(MEMORY_TYPES)), 5, 'max'), started));
  regionGrowth(db, id, 0);
  for (const p of db.$client.prepare('SELECT id, last_seq AS seq FROM processes WHERE session_id = ?').all(id) as { id: number; seq: number }[]) regionsAt(db, p.id, p.seq);
  const session = db.$client.prepare('SELECT id, ended_at AS endedAt, end_reason AS endReason FROM sessions WHERE id = ?').get(id) as { id: number; endedAt: number | null; endReason: null };
  // What was stored exports, and the export passes the check again.
  checkDump(JSON.parse([...dumpSession(db, session, schemaVersion())].join('')), schemaVersion());
}

// ---- the run ----

async function runCase(summary: Summary, name: string, input: Buffer, how: string): Promise<void> {
  const target = TARGETS[name];
  const argument = (target.input === 'text' ? input.toString('latin1') : input) as string & Buffer;
  summary.cases++;
  summary.byTarget[name] = (summary.byTarget[name] ?? 0) + 1;
  const started = performance.now();
  try {
    await target.run(argument);
  } catch (error) {
    const preview = JSON.stringify(input.subarray(0, 80).toString('latin1'));
    if (error instanceof Malformed || error instanceof assert.AssertionError) summary.failures.push(`${name} (${how}) returned a malformed result: ${error.message}; input ${preview}`);
    else if (!(error instanceof Error)) summary.failures.push(`${name} (${how}) threw a non-Error ${String(error)}; input ${preview}`);
    else if (error instanceof RangeError && /call stack/i.test(error.message)) summary.failures.push(`${name} (${how}) overflowed the stack; input ${preview}`);
    else if (error.message === '' || /\n/.test(error.message)) summary.failures.push(`${name} (${how}) threw a message not on one line: ${JSON.stringify(error.message.slice(0, 200))}`);
    else summary.threw++;
  }
  const ms = performance.now() - started;
  if (ms > CALL_LIMIT_MS) summary.failures.push(`${name} (${how}) took ${ms.toFixed(0)} ms`);
}

async function runProperties(seed: number): Promise<Summary> {
  const random = generator(seed);
  const summary: Summary = { cases: 0, threw: 0, failures: [], byTarget: {}, readBack: 0 };
  const real = seeds();
  for (const [name, inputs] of Object.entries(real)) {
    for (const input of inputs) {
      // Truncated at every 1/50th of the way.
      for (let k = 0; k <= 50; k++) await runCase(summary, name, input.subarray(0, Math.floor((input.length * k) / 50)), `truncated at ${k}/50`);
      for (let k = 0; k < 40; k++) await runCase(summary, name, mutate(random, input), 'mutated');
    }
    for (let k = 0; k < 40; k++) await runCase(summary, name, randomInput(random), 'random');
    for (let k = 0; k < 3; k++) await runCase(summary, name, deepNesting(random), 'deeply nested');
  }
  for (let k = 0; k < 300; k++) await runCase(summary, 'checkDump', hostileDump(random), 'hostile fields');
  if (readBack !== undefined) {
    summary.readBack = (readBack.db.$client.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number }).n;
    readBack.db.$client.close();
    rmSync(readBack.dir, { recursive: true, force: true });
  }
  return summary;
}

if (!isMainThread) {
  parentPort!.postMessage(await runProperties(workerData.seed as number));
} else {
  test('the /proc parsers and the importers on random, truncated and hostile input: a well-formed result or a one-line Error, fast', async () => {
    const seed = Number(process.env.LEAKWATCH_PROPERTY_SEED ?? 20_261_202);
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { seed } });
    const summary = await new Promise<Summary>((resolve, reject) => {
      const timer = setTimeout(() => {
        void worker.terminate();
        reject(new Error(`the cases did not finish within ${TIME_LIMIT_MS / 1000} s (seed ${seed}): a parser hangs`));
      }, TIME_LIMIT_MS);
      worker.once('message', (result: Summary) => {
        clearTimeout(timer);
        resolve(result);
      });
      worker.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    await worker.terminate();
    assert.deepEqual(summary.failures, [], `seed ${seed}`);
    assert.ok(summary.cases >= 500, `${summary.cases} cases`);
    assert.ok(summary.threw > 0 && summary.threw < summary.cases, 'some inputs refused, some read');
    assert.ok(summary.readBack >= 10, `${summary.readBack} accepted dumps stored and read back`);
    console.log(`property: ${summary.cases} inputs (seed ${seed}), ${summary.threw} refused with an Error, ${summary.readBack} dumps stored and read back: ${JSON.stringify(summary.byTarget)}`);
  });
}
