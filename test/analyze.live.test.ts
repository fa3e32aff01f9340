/**
 * Leak analysis of real programs that really leak, and of programs that really do not, each recorded by the real
 * CLI (`leakwatch run`) for a minute; then `analyze` through the CLI: verdicts per type, --json, --fail-on-leak,
 * --junit, and bad input.
 */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from './helpers/cli.js';
import { buildCTarget, repoRoot } from './helpers/targets.js';

const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-analyze-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Gated = 'private' | 'heap' | 'managedHeap' | 'stack';
interface Program {
  name: string;
  argv: () => string[];
  /** The gated types that must be found leaking; every other gated type must not be… */
  leaks: Gated[];
  /** …except these, which really grow along with the leak. */
  mayGrow?: Gated[];
}

const leaker = (mode: string) => () => [buildCTarget('leaker'), mode];
const v8 = (mode: string) => () => [process.execPath, path.join(repoRoot(), 'test', 'targets', 'v8-leak.mjs'), mode];
const PROGRAMS: Program[] = [
  { name: 'malloc leak', argv: leaker('heap'), leaks: ['heap'] },
  { name: 'anonymous mmap leak', argv: leaker('mmap'), leaks: ['private'] },
  { name: 'thread leak', argv: leaker('threads'), leaks: ['stack'] },
  // V8 keeps bookkeeping for a growing JS heap outside its own pages, in malloc memory and in anonymous mappings
  // (~9 MiB/min of Heap and up to ~1 MiB/min of Private here): those really grow too, so they are not judged.
  { name: 'V8 heap leak', argv: v8('leak'), leaks: ['managedHeap'], mayGrow: ['heap', 'private'] },
  { name: 'warm-up then plateau', argv: leaker('plateau'), leaks: [] },
  { name: 'malloc sawtooth', argv: leaker('sawtooth'), leaks: [] },
  { name: 'malloc churn', argv: leaker('churn'), leaks: [] },
  { name: 'V8 garbage churn', argv: v8('churn'), leaks: [] },
];
const GATED: Gated[] = ['private', 'heap', 'managedHeap', 'stack'];

interface Finding {
  type: string;
  verdict: string;
  slopeBytesPerHour: number;
  ci: [number, number];
  onsetSeconds: number | null;
  explanation: string;
  topRegions: { details: string }[];
}
const analyses = new Map<string, { db: string; session: number; findings: Finding[]; raw: Record<string, unknown> }>();

before(async () => {
  // All programs are recorded at once: a minute in total rather than a minute each.
  await Promise.all(
    PROGRAMS.map(async (program, i) => {
      const db = path.join(dir, `p${i}.db`);
      const run = await runCli(['run', '--every', '250ms', '--duration', '60s', '--db', db, '--json', '--', ...program.argv()], { timeoutMs: 120_000 });
      assert.equal(run.code, 0, `${program.name}: ${run.stderr}`);
      const session = JSON.parse(run.stdout.trimEnd().split('\n').at(-1)!).session as number;
      const analysis = await runCli(['analyze', String(session), '--db', db, '--json']);
      assert.equal(analysis.code, 0, analysis.stderr);
      const raw = JSON.parse(analysis.stdout);
      analyses.set(program.name, { db, session, findings: raw.findings, raw });
    }),
  );
});

for (const program of PROGRAMS) {
  test(`${program.name}: ${program.leaks.length ? `${program.leaks.join(', ')} leaks` : 'no leak'}, nothing else does`, () => {
    const { findings } = analyses.get(program.name)!;
    for (const type of GATED.filter((t) => !program.mayGrow?.includes(t))) {
      const finding = findings.find((f) => f.type === type)!;
      const expected = program.leaks.includes(type) ? 'leak' : 'no-leak';
      assert.equal(finding.verdict, expected, `${type}: ${finding.explanation}`);
      if (expected === 'leak') {
        assert.ok(finding.slopeBytesPerHour > 0 && finding.ci[0] <= finding.slopeBytesPerHour && finding.slopeBytesPerHour <= finding.ci[1]);
        assert.ok(finding.topRegions.length > 0, 'the growing regions are named');
      }
    }
  });
}

test('the malloc leak: rate near the program\'s 2.5 MiB/s, explained, with the [heap] as the growing region', () => {
  const heap = analyses.get('malloc leak')!.findings.find((f) => f.type === 'heap')!;
  const rate = heap.slopeBytesPerHour / 3600;
  assert.ok(rate > 2 * 1024 * 1024 && rate < 3 * 1024 * 1024, `rate ${rate} B/s`);
  assert.match(heap.explanation, /^Heap grew .*\/h \(95% CI [^)]*\)( since \d+:\d\d:\d\d)?, steadily, no plateau/);
  assert.equal(heap.topRegions[0].details, '[heap]');
});

test('analyze --json has exactly the documented shape', () => {
  const { raw, session } = analyses.get('thread leak')!;
  assert.deepEqual(Object.keys(raw), ['session', 'label', 'command', 'durationSeconds', 'samples', 'metric', 'findings']);
  assert.equal(raw.metric, 'committed');
  assert.equal(raw.session, session);
  assert.ok((raw.durationSeconds as number) >= 55 && (raw.samples as number) >= 200);
  const stack = (raw.findings as Record<string, unknown>[]).find((f) => f.type === 'stack')!;
  assert.deepEqual(Object.keys(stack), ['type', 'verdict', 'slopeBytesPerHour', 'ci', 'onsetSeconds', 'growthBytes', 'timeToLimitSeconds', 'confidence', 'explanation', 'topRegions', 'lives', 'gated']);
  assert.equal(stack.gated, true);
  assert.deepEqual(stack.lives, [], 'one life: the program did not restart');
  assert.ok((stack.confidence as number) > 0.99 && (stack.confidence as number) <= 1);
  assert.ok((stack.timeToLimitSeconds as number) > 0, 'a growing type has a time to the limit');
});

test('--fail-on-leak exits 1 on a leak and 0 without; --junit writes one test case per type', async () => {
  const leak = analyses.get('malloc leak')!;
  const junit = path.join(dir, 'leak.xml');
  const failing = await runCli(['analyze', String(leak.session), '--db', leak.db, '--fail-on-leak', '--junit', junit]);
  assert.equal(failing.code, 1, failing.stderr);
  assert.match(failing.stderr, /a gated memory type leaks/);
  assert.match(failing.stdout, /^Heap +LEAK/m);
  const xml = readFileSync(junit, 'utf8');
  assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuite name="leakwatch session \d+: [^"]*" tests="10" failures="2"/);
  assert.equal(xml.match(/<testcase /g)?.length, 10, 'eight types and the two sums');
  assert.match(xml, /<testcase classname="leakwatch.session\d+" name="Native memory does not leak">\s*<failure message="Native leaks" type="leak">Native \(Private \+ Heap\) grew/);
  assert.match(xml, /<testcase classname="leakwatch.session\d+" name="Heap memory does not leak">\s*<failure message="Heap leaks" type="leak">Heap grew/);
  const clean = analyses.get('malloc churn')!;
  const passing = await runCli(['analyze', String(clean.session), '--db', clean.db, '--fail-on-leak', '--junit', path.join(dir, 'clean.xml')]);
  assert.equal(passing.code, 0, passing.stderr);
  assert.match(readFileSync(path.join(dir, 'clean.xml'), 'utf8'), /failures="0"/);
});

test('--metric ws judges the working set; --types names the rows judged and gated, the sums included', async () => {
  const { db, session } = analyses.get('malloc leak')!;
  const ws = await runCli(['analyze', String(session), '--db', db, '--json', '--metric', 'ws']);
  assert.equal(ws.code, 0, ws.stderr);
  const raw = JSON.parse(ws.stdout);
  assert.equal(raw.metric, 'ws');
  // The leaked blocks are written to, so they are resident: the working set leaks as committed memory does.
  const heap = raw.findings.find((f: Finding) => f.type === 'heap');
  assert.equal(heap.verdict, 'leak', heap.explanation);
  const only = await runCli(['analyze', String(session), '--db', db, '--types', 'native', '--fail-on-leak']);
  assert.equal(only.code, 1, only.stderr);
  assert.match(only.stdout, /^Native +LEAK /m);
  assert.doesNotMatch(only.stdout, /^Heap /m);
  const clean = analyses.get('malloc churn')!;
  const cleanNative = await runCli(['analyze', String(clean.session), '--db', clean.db, '--types', 'native,total', '--fail-on-leak', '--metric', 'ws']);
  assert.equal(cleanNative.code, 0, cleanNative.stdout);
  const bad = await runCli(['analyze', String(session), '--db', db, '--metric', 'rss']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--metric.*rss.*committed, ws/);
});

test('--types limits the analysis; bad input is a one-line usage error', async () => {
  const { db, session } = analyses.get('malloc leak')!;
  const only = await runCli(['analyze', String(session), '--db', db, '--json', '--types', 'heap,stack']);
  assert.deepEqual(JSON.parse(only.stdout).findings.map((f: Finding) => f.type), ['heap', 'stack']);
  for (const [args, message] of [
    [['analyze', '999', '--db', db], /^leakwatch: no session 999 in /],
    [['analyze', 'abc', '--db', db], /session must be a session id/],
    [['analyze', String(session), '--db', db, '--types', 'heap,brains'], /unknown type 'brains'/],
    [['analyze', '1', '--db', path.join(dir, 'missing.db')], /no database at/],
  ] as const) {
    const result = await runCli([...args]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trimEnd().split('\n').length, 1);
  }
});

test('during the run the online analysis recorded when each leak was first seen, and nothing for clean programs', () => {
  const verdicts = (name: string) => {
    const db = new Database(analyses.get(name)!.db, { readonly: true });
    try {
      return db.prepare(`SELECT v.type, v.verdict, v.first_reached_seq AS seq,
          (SELECT max(s.elapsed_ms) FROM samples s WHERE s.session_id = v.session_id AND s.seq = v.first_reached_seq) AS elapsed
        FROM session_verdicts v ORDER BY v.type, v.verdict`).all() as { type: string; verdict: string; seq: number; elapsed: number }[];
    } finally {
      db.close();
    }
  };
  const heap = verdicts('malloc leak').filter((v) => v.type === 'heap');
  assert.deepEqual(heap.map((v) => v.verdict), ['leak', 'suspected']);
  const leak = heap.find((v) => v.verdict === 'leak')!;
  // Reached within the minute, once 30 s of evidence existed (the minimum to judge).
  assert.ok(leak.elapsed >= 30_000 && leak.elapsed < 60_000, `first leak verdict at ${leak.elapsed} ms`);
  assert.ok(heap.find((v) => v.verdict === 'suspected')!.seq <= leak.seq);
  assert.deepEqual(verdicts('malloc churn'), []);
  assert.deepEqual(verdicts('warm-up then plateau'), []);
});
