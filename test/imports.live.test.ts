/**
 * Imports through the real CLI: a refused file stores nothing, a stored one never makes a reader fail, a huge or
 * unterminated CSV is refused fast in bounded memory.
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

/** Runs the CLI with a hook that records its peak resident set; returns the result with maxRssMiB. */
async function importMeasured(file: string) {
  const rssFile = path.join(dir, `${path.basename(file)}.rss`);
  const hook = pathToFileURL(path.join(repoRoot(), 'dist', 'test', 'helpers', 'max-rss.js')).href;
  const started = performance.now();
  const result = await runCli(['import', file, '--db', path.join(dir, 'csv.db')], { nodeArgs: ['--import', hook], env: { ...process.env, LEAKWATCH_MAX_RSS_FILE: rssFile } });
  return { ...result, seconds: (performance.now() - started) / 1000, maxRssMiB: Number(readFileSync(rssFile, 'utf8')) / 1024 };
}

/** A VMMap CSV whose Details cell opens a quote and never closes it, `mib` MiB long. */
function unterminatedQuote(name: string, mib: number): string {
  const file = path.join(dir, name);
  writeFileSync(file, '"Type","Size","Committed"\n"Heap","1,024","512"\n\n"Address","Type","Details"\n"00010000","Heap","');
  const chunk = Buffer.alloc(MiB, 'a');
  for (let i = 0; i < mib; i++) appendFileSync(file, chunk);
  return file;
}

test('VMMap CSV: a 150 MB unterminated quote is refused from its size, a 60 MB one at 64 KiB of record; fast, in bounded memory', async () => {
  const huge = await importMeasured(unterminatedQuote('quote-150.csv', 150));
  assert.equal(huge.code, 2, huge.stderr);
  assert.match(huge.stderr, /^leakwatch: cannot import .*quote-150\.csv: \d+ bytes is more than the import limit of 64 MiB for its format\n$/);
  assert.ok(huge.maxRssMiB < 128, `peak RSS ${huge.maxRssMiB.toFixed(0)} MiB: the file was not read`);
  const big = await importMeasured(unterminatedQuote('quote-60.csv', 60));
  assert.equal(big.code, 2, big.stderr);
  assert.match(big.stderr, /^leakwatch: .*quote-60\.csv: line 5: a CSV record longer than 64 KiB: a quote that is never closed, or not a VMMap CSV file\n$/);
  // The 60 MiB file itself and its text are held once each; the parser stops at 64 KiB of the quoted cell.
  assert.ok(big.maxRssMiB < 384, `peak RSS ${big.maxRssMiB.toFixed(0)} MiB`);
  for (const run of [huge, big]) assert.ok(run.seconds < 10, `${run.seconds.toFixed(1)} s`);
  assert.equal(existsSync(path.join(dir, 'csv.db')), false, 'nothing stored, no database created');
});

test('VMMap CSV: locale decimals and long cells are refused, not misread', async () => {
  const summary = (cell: string) => `"Type","Size","Committed"\n"Heap","${cell}","512"\n`;
  for (const cell of ['1.5', '1,5', '0,75', '1.234,5', '12.50']) {
    const file = path.join(dir, `decimal-${cell}.csv`);
    writeFileSync(file, summary(cell));
    const result = await runCli(['import', file, '--db', path.join(dir, 'decimals.db')]);
    assert.equal(result.code, 2, `${cell}: ${result.stderr}`);
    assert.match(result.stderr, new RegExp(`: line 2: '${cell.replace('.', '\\.')}' is not an amount in KB\\n$`));
  }
  const long = path.join(dir, 'long-cell.csv');
  writeFileSync(long, `${summary('1,024')}\n"Address","Details"\n"0001","${'x'.repeat(70 * 1024)}"\n`);
  const result = await runCli(['import', long, '--db', path.join(dir, 'decimals.db')]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /long-cell\.csv: line 5: a CSV record longer than 64 KiB/);
});
