/**
 * Imports through the real CLI: a refused file stores nothing, a stored one never makes a reader fail, a huge CSV is
 * read only up to the end of its summary block, and an unterminated quote in it is refused in bounded memory.
 */
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { runCli } from './helpers/cli.js';
import { type Dump, validDump } from './helpers/dump.js';
import { repoRoot } from './helpers/targets.js';

const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-imports-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const MiB = 1024 * 1024;

function writeDump(name: string, change: (dump: Dump) => void = () => {}): string {
  const dump = validDump();
  change(dump);
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(dump));
  return file;
}

/** The bad inputs the issue found stored, each with the line that now refuses it. */
const HOSTILE: [string, (dump: Dump) => void, RegExp][] = [
  ['wrong-type.json', (d) => (d.samples[3].heap_committed = 'lots'), /samples\[3\]\.heap_committed: "lots" is not a whole number$/],
  ['negative.json', (d) => (d.samples[17].heap_committed = -5), /samples\[17\]\.heap_committed: -5 is negative$/],
  ['huge.json', (d) => (d.samples[1].stack_size = 1e308), /samples\[1\]\.stack_size: 1e\+308 is beyond 2\^53$/],
  ['enum.json', (d) => (d.session.end_reason = 'exploded'), /session\.end_reason: "exploded" is not one of duration, /],
  ['duplicate-seq.json', (d) => (d.samples[1].seq = 0), /samples\[1\]\.seq: 0 repeats the seq of samples\[0\]/],
  ['negative-elapsed.json', (d) => (d.samples[2].elapsed_ms = -118), /samples\[2\]\.elapsed_ms: -118 is negative$/],
  ['yesterday.json', (d) => (d.session.started_at = 'yesterday'), /session\.started_at: "yesterday" is not a time in epoch milliseconds$/],
];

test('JSON import: each hostile export is refused with one line naming file, row and column; nothing is stored, sessions and show still work', async () => {
  // Refused before the database is opened: not even the file is created.
  const fresh = path.join(dir, 'fresh.db');
  const [name, change, message] = HOSTILE[1];
  const first = await runCli(['import', writeDump(name, change), '--db', fresh]);
  assert.equal(first.code, 2, first.stderr);
  assert.match(first.stderr.trimEnd(), new RegExp(`^leakwatch: ${path.join(dir, name).replace(/[.]/g, '\\.')}: ${message.source}`));
  assert.equal(existsSync(fresh), false, 'no database was created for a refused file');

  const db = path.join(dir, 'refusals.db');
  const good = await runCli(['import', writeDump('good.json'), '--db', db]);
  assert.equal(good.code, 0, good.stderr);
  for (const [file, change, message] of HOSTILE) {
    const result = await runCli(['import', writeDump(file, change), '--db', db]);
    assert.equal(result.code, 2, `${file}: ${result.stderr}`);
    assert.match(result.stderr, /^leakwatch: [^\n]+\n$/, `${file}: one line`);
    assert.match(result.stderr.trimEnd(), message, file);
    assert.ok(result.stderr.includes(`${file}: `), `${file}: the line names the file`);
  }
  const sessions = await runCli(['sessions', '--db', db, '--json']);
  assert.equal(sessions.code, 0, sessions.stderr);
  assert.deepEqual(JSON.parse(sessions.stdout).map((s: { id: number }) => s.id), [1], 'only the good import is stored');
  for (const args of [['sessions'], ['show', '1']]) {
    const result = await runCli([...args, '--db', db]);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    assert.doesNotMatch(result.stdout, /NaN|Infinity|-\d+(\.\d+)? [KMG]iB|exploded/);
  }
});

test('JSON import: no stored row makes a reader fail — sessions, show, analyze, regions, query, compare, report, export all exit 0', async () => {
  const db = path.join(dir, 'readers.db');
  const file = writeDump('readers.json');
  const imported = await runCli(['import', file, '--db', db, '--json']);
  assert.equal(imported.code, 0, imported.stderr);
  assert.deepEqual(JSON.parse(imported.stdout), { session: 1, format: 'json', samples: 60 });
  const report = path.join(dir, 'readers.html');
  const readers = [
    ['sessions'], ['sessions', '--format', 'csv'], ['show', '1'], ['show', '1', '--json'], ['analyze', '1'], ['analyze', '1', '--metric', 'ws', '--json'],
    ['regions', '1'], ['regions', '1', '--at', '10s'], ['regions', '1', '--diff', '0s..1h'], ['query', '1'], ['query', '1', '--every', '10s', '--format', 'csv'],
    ['compare', '1', '1'], ['report', '1', '-o', report], ['export', '1'], ['export', '1', '--json', '-o', path.join(dir, 'again.json')],
  ];
  for (const args of readers) {
    const result = await runCli([...args, '--db', db]);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    assert.equal(result.stderr, '', args.join(' '));
  }
  assert.match(readFileSync(report, 'utf8'), /<html/);
  const shown = JSON.parse((await runCli(['show', '1', '--db', db, '--json'])).stdout);
  assert.equal(shown.samples, 60);
  assert.equal(shown.types.heap.verdict, 'leak', 'the growing heap is judged from the imported rows');
  // What was exported imports again, row for row.
  const again = await runCli(['import', path.join(dir, 'again.json'), '--db', db]);
  assert.equal(again.code, 0, again.stderr);
  const strip = (text: string) => JSON.stringify(JSON.parse(text), (key, value) => (['id', 'session_id', 'process_id', 'sample_id'].includes(key) ? undefined : value));
  assert.equal(strip((await runCli(['export', '2', '--json', '--db', db])).stdout), strip(readFileSync(path.join(dir, 'again.json'), 'utf8')));
});

/** Runs the CLI with a hook that records its peak resident set and the bytes it read; returns the result with maxRssMiB and readBytes. */
async function importMeasured(file: string, db = path.join(dir, 'csv.db')) {
  const measures = path.join(dir, `${path.basename(file)}.measured`);
  const hook = pathToFileURL(path.join(repoRoot(), 'dist', 'test', 'helpers', 'max-rss.js')).href;
  const result = await runCli(['import', file, '--db', db], { nodeArgs: ['--import', hook], env: { ...process.env, LEAKWATCH_MAX_RSS_FILE: measures } });
  const { maxRssKiB, readBytes } = JSON.parse(readFileSync(measures, 'utf8')) as { maxRssKiB: number; readBytes: number | null };
  return { ...result, maxRssMiB: maxRssKiB / 1024, readBytes };
}

const SUMMARY = '"Type","Size","Committed"\r\n"Total","2,048","1,024"\r\n"Heap","1,024","512"\r\n';
const DETAILS_HEADER = '"Address","Type","Size","Committed","Protection","Details"\r\n';

/** A VMMap CSV: `summary`, an empty line, then a details block of `mib` MiB of rows (more columns than the summary) ending in `tail`. */
function vmmapCsv(name: string, summary: string, mib: number, tail = ''): string {
  const file = path.join(dir, name);
  writeFileSync(file, `${summary}\r\n${DETAILS_HEADER}`);
  const row = '"00007FF6A0000000","Heap","1,024","512","Read/Write","Heap ID: 2 [LOW FRAGMENTATION]"\r\n';
  const block = row.repeat(Math.floor(MiB / row.length));
  for (let i = 0; i < mib; i++) appendFileSync(file, block);
  appendFileSync(file, tail);
  return file;
}

/** `file` grown by `mib` MiB of the letter a: a quoted cell that never ends. */
function appendUnclosed(file: string, mib: number): string {
  const chunk = Buffer.alloc(MiB, 'a');
  for (let i = 0; i < mib; i++) appendFileSync(file, chunk);
  return file;
}

/** A VMMap CSV whose summary block opens a quote and never closes it, `mib` MiB long. */
function unterminatedQuote(name: string, mib: number): string {
  const file = path.join(dir, name);
  writeFileSync(file, `${SUMMARY}"Stack","64","`);
  return appendUnclosed(file, mib);
}

test('VMMap CSV: a 60 MB export imports from its summary block alone; its details block is not read', async () => {
  const db = path.join(dir, 'details.db');
  const small = await importMeasured(vmmapCsv('details-0.csv', SUMMARY, 0), db);
  assert.equal(small.code, 0, small.stderr);
  const big = await importMeasured(vmmapCsv('details-60.csv', SUMMARY, 60), db);
  assert.equal(big.code, 0, big.stderr);
  assert.match(big.stdout, /^imported .*details-60\.csv as session 2 \(1 sample\)\n$/);
  if (big.readBytes !== null) assert.ok(big.readBytes - small.readBytes! < MiB, `${big.readBytes - small.readBytes!} bytes more read than for the summary alone`);
  assert.ok(big.maxRssMiB < 128, `peak RSS ${big.maxRssMiB.toFixed(0)} MiB`);
  const shown = JSON.parse((await runCli(['show', '2', '--db', db, '--json'])).stdout);
  assert.equal(shown.types.heap.last, 512 * 1024, JSON.stringify(shown.types.heap));
});

test('VMMap CSV: an unterminated quote in the summary of a 150 MB file is refused at 64 KiB of record, in bounded memory; in the details block it is never read', async () => {
  const huge = await importMeasured(unterminatedQuote('quote-150.csv', 150));
  assert.equal(huge.code, 2, huge.stderr);
  assert.match(huge.stderr, /^leakwatch: .*quote-150\.csv: line 4: a CSV record longer than 64 KiB: a quote that is never closed, or not a VMMap CSV file\n$/);
  assert.ok(huge.maxRssMiB < 128, `peak RSS ${huge.maxRssMiB.toFixed(0)} MiB: the file was not read`);
  assert.equal(existsSync(path.join(dir, 'csv.db')), false, 'nothing stored, no database created');
  const details = await importMeasured(appendUnclosed(vmmapCsv('details-quote.csv', SUMMARY, 1, '"0001","Heap","'), 150), path.join(dir, 'details-quote.db'));
  assert.equal(details.code, 0, details.stderr);
  assert.ok(details.maxRssMiB < 128, `peak RSS ${details.maxRssMiB.toFixed(0)} MiB`);
});

test('VMMap CSV: locale decimals and long cells in the summary block are refused, not misread', async () => {
  const summary = (cell: string) => `"Type","Size","Committed"\n"Heap","${cell}","512"\n`;
  for (const cell of ['1.5', '1,5', '0,75', '1.234,5', '12.50']) {
    const file = path.join(dir, `decimal-${cell}.csv`);
    writeFileSync(file, summary(cell));
    const result = await runCli(['import', file, '--db', path.join(dir, 'decimals.db')]);
    assert.equal(result.code, 2, `${cell}: ${result.stderr}`);
    assert.match(result.stderr, new RegExp(`: line 2: '${cell.replace('.', '\\.')}' is not an amount in KB\\n$`));
  }
  const long = path.join(dir, 'long-cell.csv');
  writeFileSync(long, `${summary('1,024')}"Stack","${'1'.repeat(70 * 1024)}","1"\n\n"Address","Details"\n`);
  const result = await runCli(['import', long, '--db', path.join(dir, 'decimals.db')]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /^leakwatch: .*long-cell\.csv: line 3: a CSV record longer than 64 KiB[^\n]*\n$/);
  const notRead = path.join(dir, 'long-detail.csv');
  writeFileSync(notRead, `${summary('1,024')}\n"Address","Details"\n"0001","${'x'.repeat(70 * 1024)}"\n`);
  const imported = await runCli(['import', notRead, '--db', path.join(dir, 'decimals.db')]);
  assert.equal(imported.code, 0, `a long Details cell is not read: ${imported.stderr}`);
});
