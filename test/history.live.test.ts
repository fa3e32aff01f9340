/** History commands through the real CLI on a real database: sessions, query, export, compare. */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type Aggregate, resample } from '../src/analysis/resample.js';
import { csvRows, jsonRows } from '../src/report/rows.js';
import { runCli } from './helpers/cli.js';
import { buildCTarget, repoRoot, startAllocTarget } from './helpers/targets.js';

const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-history-'));
const db = path.join(dir, 'history.db');
const ids = { clean: 0, leak: 0 };
after(() => rmSync(dir, { recursive: true, force: true }));

before(async () => {
  const leaker = buildCTarget('leaker');
  const record = async (label: string, mode: string) => {
    const run = await runCli(['run', '--every', '250ms', '--duration', '35s', '--label', label, '--db', db, '--json', '--', leaker, mode], { timeoutMs: 120_000 });
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout.trimEnd().split('\n').at(-1)!).session as number;
  };
  // Build A churns without leaking, build B leaks from malloc; recorded at the same time.
  [ids.clean, ids.leak] = await Promise.all([record('nightly-41', 'churn'), record('nightly-42', 'heap')]);
});

test('resample, CSV and JSON lines on a known table', () => {
  const rows = [1, 5, 2, 2, 9].map((heap, seconds) => ({ seconds, values: [heap] }));
  const resampled = (aggregate: Aggregate) => Array.from(resample(rows, 2, aggregate), (r) => [r.seconds, r.values[0]]);
  assert.deepEqual(resampled('max'), [[0, 5], [2, 2], [4, 9]]);
  assert.deepEqual(resampled('avg'), [[0, 3], [2, 2], [4, 9]]);
  assert.deepEqual(resampled('last'), [[0, 5], [2, 2], [4, 9]]);
  const start = Date.UTC(2026, 11, 2, 4, 0, 0);
  assert.equal(Array.from(csvRows(['heap'], rows.slice(0, 2), start)).join(''), 'time,seconds,heap\n2026-12-02T04:00:00.000Z,0,1\n2026-12-02T04:00:01.000Z,1,5\n');
  assert.equal(Array.from(jsonRows(['heap'], rows.slice(0, 2), start)).join(''), '[{"time":"2026-12-02T04:00:00.000Z","seconds":0,"heap":1},{"time":"2026-12-02T04:00:01.000Z","seconds":1,"heap":5}]\n');
  assert.equal(Array.from(jsonRows(['heap'], [], start)).join(''), '[]\n');
});

test('sessions lists newest first, filters by label glob and age, and prints JSON', async () => {
  const all = await runCli(['sessions', '--db', db, '--json']);
  assert.equal(all.code, 0, all.stderr);
  const sessions = JSON.parse(all.stdout) as { id: number; label: string; samples: number; endReason: string; verdicts: Record<string, string> }[];
  assert.equal(sessions.length, 2);
  const leak = sessions.find((s) => s.id === ids.leak)!;
  assert.equal(leak.label, 'nightly-42');
  assert.equal(leak.endReason, 'duration');
  assert.ok(leak.samples >= 120);
  assert.equal(leak.verdicts.heap, 'leak', 'the online analysis alert is listed');
  assert.deepEqual(sessions.find((s) => s.id === ids.clean)!.verdicts, {});
  const filtered = JSON.parse((await runCli(['sessions', '--db', db, '--json', '--label', 'nightly-4[2]'])).stdout);
  assert.deepEqual(filtered.map((s: { id: number }) => s.id), [ids.leak]);
  assert.deepEqual(JSON.parse((await runCli(['sessions', '--db', db, '--json', '--since', '1ms'])).stdout), []);
  const csv = (await runCli(['sessions', '--db', db, '--format', 'csv'])).stdout.trimEnd().split('\n');
  assert.equal(csv[0], 'id,label,command,startedAt,endedAt,durationSeconds,endReason,samples,restarts,alerts');
  // Times in ISO 8601 like the table's, not epoch ms.
  assert.match(csv.find((l) => l.startsWith(`${ids.leak},`))!, /^\d+,nightly-42,[^,]*leaker heap,\d{4}-\d\d-\d\dT[\d:.]+Z,\d{4}-\d\d-\d\dT[\d:.]+Z,[\d.]+,duration,\d+,0,heap:leak$/);
  const table = await runCli(['sessions', '--db', db]);
  assert.match(table.stdout, /^ID +LABEL +STARTED \(UTC\) +DURATION +SAMPLES +RESTARTS +END +ALERTS +COMMAND/);
  assert.match(table.stdout, /nightly-42 .* duration +Heap LEAK/);
});

test('show gives the facts, first / last / peak per type and the verdicts', async () => {
  const json = await runCli(['show', String(ids.leak), '--db', db, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const shown = JSON.parse(json.stdout);
  assert.equal(shown.session.label, 'nightly-42');
  assert.equal(shown.types.heap.verdict, 'leak');
  assert.ok(shown.types.heap.last > shown.types.heap.first && shown.types.heap.peak >= shown.types.heap.last);
  assert.equal(shown.types.stack.verdict, 'no-leak');
  const text = await runCli(['show', String(ids.leak), '--db', db]);
  assert.match(text.stdout, /^session \d+ \(nightly-42\): /);
  assert.match(text.stdout, /^Heap +[\d.]+ \S+ +[\d.]+ \S+ +[\d.]+ \S+ +LEAK /m);
  assert.match(text.stdout, /^Managed Heap +0 B/m, 'labels for people, as in every table');
  assert.equal((await runCli(['show', '999', '--db', db])).code, 2);
});

test('query cuts a time range and resamples; csv and json carry the type keys', async () => {
  const csv = await runCli(['query', String(ids.leak), '--db', db, '--types', 'heap,stack', '--from', '10s', '--to', '20s', '--every', '5s', '--agg', 'max', '--format', 'csv']);
  assert.equal(csv.code, 0, csv.stderr);
  const lines = csv.stdout.trimEnd().split('\n');
  assert.equal(lines[0], 'time,seconds,heap,stack');
  assert.deepEqual(lines.slice(1).map((l) => Number(l.split(',')[1])), [10, 15, 20].slice(0, lines.length - 1));
  const heap = lines.slice(1).map((l) => Number(l.split(',')[2]));
  assert.ok(heap[1] > heap[0], 'the leaking heap grows from bucket to bucket');
  const json = JSON.parse((await runCli(['query', String(ids.leak), '--db', db, '--types', 'heap', '--to', '2s', '--format', 'json'])).stdout);
  assert.ok(json.length >= 7 && json.every((r: { seconds: number; heap: number }) => r.seconds <= 2 && r.heap > 0));
  const empty = await runCli(['query', String(ids.leak), '--db', db, '--from', '2h']);
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /no samples between 2h and the end/);
  assert.equal((await runCli(['query', String(ids.leak), '--db', db, '--types', 'brains'])).code, 2);
});

test('export writes every sample as CSV or JSON', async () => {
  const file = path.join(dir, 'export.csv');
  const result = await runCli(['export', String(ids.leak), '--db', db, '-o', file]);
  assert.equal(result.code, 0, result.stderr);
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  assert.equal(lines[0], 'time,seconds,image,private,shareable,mappedFile,heap,managedHeap,stack,pageTable,free');
  const json = JSON.parse((await runCli(['export', String(ids.leak), '--db', db, '--format', 'json'])).stdout);
  assert.equal(json.format, 'leakwatch-session');
  assert.equal(json.samples.length, lines.length - 1, 'one process: one sample row per tick');
  assert.equal(json.session.label, 'nightly-42');
  assert.ok(json.regions.some((r: { kind: string }) => r.kind === 'full'));
});

test('import loads a JSON export losslessly into another database; bad files are one-line errors', async () => {
  const exported = path.join(dir, 'leak.json');
  assert.equal((await runCli(['export', String(ids.leak), '--db', db, '--format', 'json', '-o', exported])).code, 0);
  const other = path.join(dir, 'other.db');
  const imported = await runCli(['import', exported, '--db', other]);
  assert.equal(imported.code, 0, imported.stderr);
  const original = JSON.parse((await runCli(['sessions', '--db', db, '--json'])).stdout).find((x: { id: number }) => x.id === ids.leak);
  assert.match(imported.stdout, new RegExp(`^imported .* as session 1 \\(${original.samples} samples\\)$`, 'm'), 'the sample count sessions shows');
  const again = JSON.parse((await runCli(['export', '1', '--db', other, '--format', 'json'])).stdout);
  // Equal row for row, apart from the ids the new database gave them.
  const strip = (dump: Record<string, Record<string, unknown>[] | Record<string, unknown>>) =>
    JSON.stringify(dump, (key, value) => (['id', 'session_id', 'process_id', 'sample_id'].includes(key) ? undefined : value));
  assert.equal(strip(again), strip(JSON.parse(readFileSync(exported, 'utf8'))));
  const analysis = JSON.parse((await runCli(['analyze', '1', '--db', other, '--json', '--types', 'heap'])).stdout);
  assert.equal(analysis.findings[0].verdict, 'leak', 'the imported session analyses like the original');
  const heading = await runCli(['analyze', '1', '--db', other, '--types', 'heap']);
  assert.match(heading.stdout, /^session 1 \(nightly-42\): \S*leaker heap\n\d+ samples over 0:00:\d\d, ended by duration; judging committed memory\n/, 'analyze says which session, what ran and for how long');
  // A file with a column this database lacks is refused before anything is stored.
  const dump = JSON.parse(readFileSync(exported, 'utf8'));
  dump.samples[dump.samples.length - 1].brains = 1;
  const broken = path.join(dir, 'broken.json');
  writeFileSync(broken, JSON.stringify(dump));
  const failed = await runCli(['import', broken, '--db', other]);
  assert.equal(failed.code, 2, failed.stderr);
  assert.match(failed.stderr, /^leakwatch: .*broken\.json: samples\[\d+\]\.brains: not a column of samples in this database\n$/);
  assert.equal(JSON.parse((await runCli(['sessions', '--db', other, '--json'])).stdout).length, 1, 'no half-imported session');
  const garbage = path.join(dir, 'garbage.json');
  writeFileSync(garbage, '{"not": "leakwatch"}');
  for (const [file, message] of [[garbage, /is not a leakwatch export/], [path.join(dir, 'export.csv'), /export\.csv: no VMMap summary block/]] as const) {
    const result = await runCli(['import', file, '--db', other]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, message);
  }
});

test('an imported VMMap session: stored as an import, its label defused in CSV, and compare says it cannot be judged', async () => {
  const other = path.join(dir, 'compare.db');
  const exported = path.join(dir, 'leak-for-compare.json');
  assert.equal((await runCli(['export', String(ids.leak), '--db', db, '--json', '-o', exported])).code, 0);
  assert.equal((await runCli(['import', exported, '--db', other])).code, 0);
  const fixtures = path.join(repoRoot(), 'test', 'fixtures');
  const label = '=HYPERLINK("http://evil","click")';
  const imported = await runCli(['import', path.join(fixtures, 'vmmap-1.csv'), path.join(fixtures, 'vmmap-2.csv'), '--every', '1m', '--label', label, '--db', other, '--json']);
  assert.equal(imported.code, 0, imported.stderr);
  assert.deepEqual(JSON.parse(imported.stdout), { session: 2, format: 'csv', samples: 2 });
  const shown = JSON.parse((await runCli(['show', '2', '--db', other, '--json'])).stdout);
  assert.equal(shown.session.mode, 'import');
  assert.equal(shown.session.endReason, 'imported');
  const csv = (await runCli(['sessions', '--db', other, '--format', 'csv'])).stdout;
  assert.ok(csv.includes(`"'=HYPERLINK(""http://evil"",""click"")"`), csv);
  assert.ok(!/(^|,)=/m.test(csv), 'no cell starts a formula');
  const compared = await runCli(['compare', '2', '1', '--db', other]);
  assert.equal(compared.code, 0, compared.stderr);
  assert.match(compared.stdout, /^Cannot compare: session A has too little data to judge$/m);
  assert.match(compared.stdout, /^Total \(not gated\) +too little data +LEAK, [\d.]+ \S+\/h +unknown$/m, 'the totals row');
  assert.match(compared.stdout, /^   2 samples over 0:01:00, imported; judging committed memory$/m);
  assert.match(compared.stdout, /^A: session 2 \('=HYPERLINK|^A: session 2 \(=HYPERLINK/m);
  assert.equal(JSON.parse((await runCli(['compare', '2', '1', '--db', other, '--json'])).stdout).headline, 'Cannot compare: session A has too little data to judge');
});

test('compare states the regression and --fail-on-regression exits 1 only for it', async () => {
  const regression = await runCli(['compare', String(ids.clean), String(ids.leak), '--db', db, '--fail-on-regression']);
  assert.equal(regression.code, 1, regression.stderr);
  assert.match(regression.stdout, /^- Heap grows faster in B: .* a regression\.$/m);
  assert.match(regression.stderr, /leaks more than session/);
  const improvement = await runCli(['compare', String(ids.leak), String(ids.clean), '--db', db, '--fail-on-regression', '--json']);
  assert.equal(improvement.code, 0, improvement.stderr);
  const heap = JSON.parse(improvement.stdout).types.find((t: { type: string }) => t.type === 'heap');
  assert.equal(heap.change, 'improvement');
  assert.equal((await runCli(['compare', '1', '99', '--db', db])).code, 2);
});

test('prune: --dry-run lists, --keep deletes the oldest with all their rows, a session being written is kept', async () => {
  const target = await startAllocTarget();
  const watch = spawn(process.execPath, [path.join(repoRoot(), 'bin', 'leakwatch.js'), 'watch', String(target.pid), '--every', '100ms', '--db', db], { stdio: 'ignore' });
  try {
    for (let tries = 0; tries < 100 && JSON.parse((await runCli(['sessions', '--db', db, '--json'])).stdout).length < 3; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const dry = await runCli(['prune', '--keep', '1', '--dry-run', '--db', db]);
    assert.equal(dry.code, 0, dry.stderr);
    // The newest (the running watch) is kept by --keep 1; the two finished ones would go, oldest included.
    assert.match(dry.stdout, /^would delete 2 sessions:\nID +LABEL +STARTED \(UTC\) .*\n(.*\n){2}$/, 'the details of what would go, not only ids');
    assert.match(dry.stdout, /nightly-42 .*leaker heap\n/);
    assert.match(dry.stdout, /nightly-41 .*leaker churn\n/);
    const all = await runCli(['prune', '--keep', '0', '--db', db]);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^deleted 2 sessions:\n/, 'the session still being written is never deleted');
    const left = JSON.parse((await runCli(['sessions', '--db', db, '--json'])).stdout) as { id: number; endReason: string | null }[];
    assert.equal(left.length, 1);
    assert.equal(left[0].endReason, null);
    assert.equal((await runCli(['prune', '--db', db])).code, 2, 'a rule is required');
  } finally {
    watch.kill('SIGINT');
    await once(watch, 'close');
    await target.stop();
  }
  // Everything recorded in the pruned sessions went with them.
  const check = new Database(db, { readonly: true });
  try {
    const orphans = check.prepare('SELECT count(*) AS n FROM samples WHERE session_id NOT IN (SELECT id FROM sessions)').get() as { n: number };
    assert.equal(orphans.n, 0);
  } finally {
    check.close();
  }
});

test('regions --at rebuilds a tick\'s regions; --diff lists what changed between two times', async () => {
  const target = await startAllocTarget();
  const regionsDb = path.join(dir, 'regions.db');
  const watch = spawn(process.execPath, [path.join(repoRoot(), 'bin', 'leakwatch.js'), 'watch', String(target.pid), '--every', '100ms', '--db', regionsDb], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const mapped = await target.send(`mmap ${24 * 1024 * 1024}`);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    watch.kill('SIGINT');
    await once(watch, 'close');
    const start = BigInt(mapped.addr as string);
    const holds = (r: { start: string; end: string }) => BigInt(`0x${r.start}`) <= start && start < BigInt(`0x${r.end}`);
    const before = JSON.parse((await runCli(['regions', '1', '--db', regionsDb, '--at', '500ms', '--top', '1000', '--json'])).stdout);
    const afterwards = JSON.parse((await runCli(['regions', '1', '--db', regionsDb, '--top', '1000', '--json'])).stdout);
    assert.ok(before.length > 10);
    assert.ok(!before.some(holds), 'the mapping did not exist yet');
    const region = afterwards.find(holds);
    assert.equal(region.type, 'private');
    assert.ok(region.committed >= 24 * 1024 * 1024);
    // The rebuilt set at the end is the kernel's own list of the target (nothing mapped since the last tick).
    const maps = readFileSync(`/proc/${target.pid}/maps`, 'utf8').trimEnd().split('\n').map((l) => l.split(' ')[0]);
    assert.deepEqual(afterwards.map((r: { start: string; end: string }) => `${r.start}-${r.end}`).sort(), maps.sort());
    const diff = await runCli(['regions', '1', '--db', regionsDb, '--diff', '0s..1h', '--json']);
    assert.equal(diff.code, 0, diff.stderr);
    const change = JSON.parse(diff.stdout)[0];
    assert.ok(holds(change), JSON.stringify(change));
    assert.ok(['added', 'grown'].includes(change.change), change.change);
    assert.ok(change.committedDelta >= 24 * 1024 * 1024, 'the largest change comes first');
    const table = await runCli(['regions', '1', '--db', regionsDb, '--diff', '500ms..1h']);
    assert.match(table.stdout, /^PID +CHANGE +ADDRESS +TYPE +PROT +COMMITTED Δ +DETAILS/);
    assert.equal((await runCli(['regions', '1', '--db', regionsDb, '--diff', '1h'])).code, 2);
  } finally {
    watch.kill('SIGKILL');
    await target.stop();
  }
});

test('import of VMMap files: CSV exports as a timeline, an .mmp file\'s snapshots; malformed CSV names the line', async () => {
  const fixtures = path.join(repoRoot(), 'test', 'fixtures');
  const vmmapDb = path.join(dir, 'vmmap.db');
  const csv = await runCli(['import', path.join(fixtures, 'vmmap-1.csv'), path.join(fixtures, 'vmmap-2.csv'), '--db', vmmapDb, '--label', 'from-windows', '--every', '5m']);
  assert.equal(csv.code, 0, csv.stderr);
  assert.match(csv.stdout, /as session 1 \(2 samples\)/);
  const heap = JSON.parse((await runCli(['query', '1', '--db', vmmapDb, '--types', 'heap,private', '--format', 'json'])).stdout);
  assert.deepEqual(heap.map((r: { heap: number }) => r.heap), [32_768 * 1024, 40_960 * 1024]);
  assert.equal(heap[0].private, 200_000 * 1024);
  const mmp = await runCli(['import', path.join(fixtures, 'vmmap.mmp'), '--db', vmmapDb]);
  assert.equal(mmp.code, 0, mmp.stderr);
  const rows = JSON.parse((await runCli(['query', '2', '--db', vmmapDb, '--types', 'heap', '--format', 'json'])).stdout);
  assert.deepEqual(rows.map((r: { seconds: number; heap: number }) => [r.seconds, r.heap]), [[0, 524288], [3600, 1572864]], 'timed by the snapshots\' timestamps');
  assert.equal(rows[1].time, '2026-11-01T11:00:00.000Z');
  const bad = await runCli(['import', path.join(fixtures, 'vmmap-bad.csv'), '--db', vmmapDb]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /vmmap-bad\.csv: line 2: '12x34' is not an amount in KB/);
  assert.equal(JSON.parse((await runCli(['sessions', '--db', vmmapDb, '--json'])).stdout).length, 2, 'a failed import stores nothing');
});
