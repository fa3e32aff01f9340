/**
 * Prometheus in and out, against the real server (Debian's `prometheus`, started here on a loopback port):
 * - it scrapes `run --serve` of a leaking and of a clean program, with the rules of `leakwatch rules` loaded: the
 *   leak alert fires for the leaking one only, and `analyze --prometheus` on what the server stored flags exactly it;
 * - labelled series (the evaluation corpus) loaded with `promtool tsdb create-blocks-from openmetrics`: leakwatch's
 *   verdicts through the server against a `deriv()` rule evaluated by the same server;
 * - `leakwatch serve` shows the sessions other leakwatch processes record, and stops showing one whose collector died.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { generateCorpus, NO_LEAK_FAMILIES, LEAK_FAMILIES, type Scenario } from './corpus.js';
import { runCli } from './helpers/cli.js';
import { lastJsonLine, startCli, until } from './helpers/live.js';
import { type PrometheusServer, prometheusInstalled, startPrometheus } from './helpers/prometheus.js';
import { buildCTarget } from './helpers/targets.js';

const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-prometheus-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const installed = prometheusInstalled();
const skip = installed ? false : 'prometheus and promtool are not installed (apt-get install prometheus; .ci/run does)';

const METRICS_LINE = /serving Prometheus metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/;
const hostPort = (url: string) => new URL(url).host;

/** A `run --serve` on any free loopback port, and the address it printed. */
async function servedRun(db: string, seconds: number, argv: string[], extra: string[] = []) {
  const run = startCli(['run', '--serve', '0', '--every', '250ms', '--duration', `${seconds}s`, '--db', db, '--json', ...extra, '--', ...argv]);
  await until('the metrics address', () => METRICS_LINE.test(run.output.stderr), 30_000);
  return { ...run, url: METRICS_LINE.exec(run.output.stderr)![1] };
}

test('a real Prometheus scrapes a leaking and a clean watch: the leak alert fires for the leak only, and analyze --prometheus flags exactly it', { skip, timeout: 240_000 }, async () => {
  const leaker = buildCTarget('leaker');
  const rules = await runCli(['rules', '--for', '0s']);
  assert.equal(rules.code, 0, rules.stderr);
  const rulesFile = path.join(dir, 'rules.yml');
  writeFileSync(rulesFile, rules.stdout);
  const checked = spawnSync('promtool', ['check', 'rules', rulesFile], { encoding: 'utf8' });
  assert.equal(checked.status, 0, `promtool check rules: ${checked.stdout}${checked.stderr}`);

  // A label that must be escaped in the exposition, or the scrape of this target fails.
  const label = 'nightly "42"\\ with\nnewline';
  const leaking = await servedRun(path.join(dir, 'fleet.db'), 60, [leaker, 'heap'], ['--label', label]);
  const clean = await servedRun(path.join(dir, 'fleet.db'), 60, [leaker, 'churn']);
  const server = await startPrometheus(path.join(dir), {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: [rulesFile],
    scrape_configs: [{ job_name: 'leakwatch', static_configs: [{ targets: [hostPort(leaking.url), hostPort(clean.url)] }] }],
  });
  try {
    const sessionOf = (run: { output: { stderr: string } }) => Number(/session (\d+) →/.exec(run.output.stderr)?.[1]);
    // The exposition itself: every metric has its HELP, the verdict is a state set, the label is escaped.
    const body = await (await fetch(leaking.url)).text();
    for (const name of ['leakwatch_committed_bytes', 'leakwatch_verdict', 'leakwatch_samples_total', 'leakwatch_collector_cpu_seconds_total', 'leakwatch_collector_resident_bytes']) {
      assert.match(body, new RegExp(`^# HELP ${name} `, 'm'), name);
    }
    assert.ok(body.includes('label="nightly \\"42\\"\\\\ with\\nnewline"'), 'the label value escaped as the text format wants');

    const leakSession = sessionOf(leaking);
    const cleanSession = sessionOf(clean);
    // The alert from `leakwatch rules`, evaluated by the server on the scraped verdict.
    let firing: { metric: Record<string, string> }[] = [];
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      firing = await server.query('ALERTS{alertname="MemoryLeak", alertstate="firing"}');
      if (firing.length > 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(firing.length > 0, 'the leak alert fired while the watch ran');
    assert.deepEqual(firing.map((a) => [a.metric.session, a.metric.type]), [[String(leakSession), 'heap']]);
    assert.equal(firing[0].metric.label, label, 'the label arrives in Prometheus as given');

    const [leakDone, cleanDone] = await Promise.all([leaking.done, clean.done]);
    assert.equal(leakDone.code, 0, leakDone.stderr);
    assert.equal(cleanDone.code, 0, cleanDone.stderr);
    // Never fired for the clean program, at any point of the run.
    const everFired = await server.query('max_over_time(ALERTS{alertname=~"MemoryLeak|MemoryLeakSuspected"}[10m])');
    assert.deepEqual([...new Set(everFired.map((a) => a.metric.session))], [String(leakSession)]);
    assert.ok(!everFired.some((a) => a.metric.session === String(cleanSession)));

    // What the server stored, judged again by `analyze --prometheus`: exactly the leaking one leaks.
    const junit = path.join(dir, 'prometheus.xml');
    const saved = path.join(dir, 'saved.db');
    const analyzed = await runCli(['analyze', '--prometheus', server.url, '--query', 'leakwatch_committed_bytes{type="heap"}', '--range', '3m', '--step', '1s',
      '--json', '--fail-on-leak', '--junit', junit, '--save', '--db', saved], { timeoutMs: 60_000 });
    assert.equal(analyzed.code, 1, `--fail-on-leak exits 1 on the leak: ${analyzed.stderr}`);
    const result = lastJsonLine(analyzed) as { series: { labels: Record<string, string>; type: string; points: number; session: number; finding: { verdict: string; slopeBytesPerHour: number } }[] };
    const verdicts = Object.fromEntries(result.series.map((s) => [s.labels.session, s.finding.verdict]));
    assert.deepEqual(verdicts, { [leakSession]: 'leak', [cleanSession]: 'no-leak' });
    for (const s of result.series) {
      assert.equal(s.type, 'heap', 'judged as the type its label names');
      assert.ok(s.points >= 30, `enough points to judge (${s.points})`);
    }
    const xml = readFileSync(junit, 'utf8');
    assert.equal((xml.match(/<testcase /g) ?? []).length, 2);
    assert.equal((xml.match(/<failure /g) ?? []).length, 1);
    // --save: each series is a session that report and compare read.
    const leakSaved = result.series.find((s) => s.labels.session === String(leakSession))!.session;
    const cleanSaved = result.series.find((s) => s.labels.session === String(cleanSession))!.session;
    const report = await runCli(['report', String(leakSaved), '--db', saved, '--output', path.join(dir, 'saved.html')]);
    assert.equal(report.code, 0, report.stderr);
    const compared = await runCli(['compare', String(cleanSaved), String(leakSaved), '--db', saved, '--json']);
    assert.ok(compared.code === 0 || compared.code === 1, compared.stderr);
    const again = await runCli(['analyze', String(leakSaved), '--db', saved, '--json', '--types', 'heap']);
    assert.equal(lastJsonLine(again).findings[0].verdict, 'leak', 'the saved series judged as a session says the same');
  } finally {
    await server.stop();
  }
});

/** The corpus' series as one OpenMetrics file, ending together at `end` (Unix seconds). */
function openMetrics(scenarios: { id: string; scenario: Scenario }[], end: number): string {
  const lines = ['# TYPE leakwatch_eval_bytes gauge'];
  for (const { id, scenario } of scenarios) {
    const start = end - scenario.durationSeconds;
    const labels = `family="${scenario.family}",scenario="${id}",truth="${scenario.leak ? 'leak' : 'no-leak'}",duration="${scenario.durationSeconds}s",type="${scenario.managed ? 'managedHeap' : 'private'}"`;
    const { t, v } = scenario.series;
    for (let i = 0; i < t.length; i++) lines.push(`leakwatch_eval_bytes{${labels}} ${v[i]} ${(start + t[i]).toFixed(3)}`);
  }
  lines.push('# EOF', '');
  return lines.join('\n');
}

// Prometheus series carry no process identity: the restart families (told apart by it) are left out.
const COMPARED_FAMILIES: string[] = [...NO_LEAK_FAMILIES, ...LEAK_FAMILIES].filter((f) => !f.includes('restart'));
const COMPARED_DURATIONS = [600, 3600, 6 * 3600];

test('labelled series in Prometheus: leakwatch against a deriv() rule evaluated by the same server', { skip, timeout: 600_000 }, async (t) => {
  const chosen: { id: string; scenario: Scenario }[] = [];
  for (const scenario of generateCorpus(1)) {
    if (!COMPARED_FAMILIES.includes(scenario.family) || !COMPARED_DURATIONS.includes(scenario.durationSeconds)) continue;
    if (chosen.some((c) => c.scenario.family === scenario.family && c.scenario.durationSeconds === scenario.durationSeconds)) continue;
    chosen.push({ id: `s${chosen.length}`, scenario });
  }
  // Ending 10 minutes ago: blocks the server loads at start, the head block left alone.
  const end = Math.floor(Date.now() / 1000) - 600;
  const file = path.join(dir, 'corpus.om');
  writeFileSync(file, openMetrics(chosen, end));
  const blocks = path.join(dir, 'corpus-tsdb');
  const created = spawnSync('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', file, blocks], { encoding: 'utf8' });
  assert.equal(created.status, 0, `promtool: ${created.stdout}${created.stderr}`);
  rmSync(file);
  const server: PrometheusServer = await startPrometheus(mkdtempSync(path.join(dir, 'corpus-')), { global: { scrape_interval: '15s' } }, blocks);
  try {
    const flaggedBy = { leakwatch: new Map<string, string>(), deriv: new Set<string>() };
    for (const seconds of COMPARED_DURATIONS) {
      const series = `leakwatch_eval_bytes{duration="${seconds}s"}`;
      const analyzed = await runCli(['analyze', '--prometheus', server.url, '--query', series, '--range', `${seconds}s`, '--end', String(end), '--step', '1s', '--json'], { timeoutMs: 300_000 });
      assert.equal(analyzed.code, 0, analyzed.stderr);
      const result = lastJsonLine(analyzed) as { series: { labels: Record<string, string>; points: number; finding: { verdict: string } }[] };
      assert.equal(result.series.length, chosen.filter((c) => c.scenario.durationSeconds === seconds).length);
      for (const s of result.series) {
        flaggedBy.leakwatch.set(s.labels.scenario, s.finding.verdict);
        // Over 10,000 points a query is paged: every step of the range arrives once (a 6 h series: 3 pages).
        if (seconds === 6 * 3600) assert.ok(s.points > 21_000 && s.points <= 21_601, `a 6 h series at 1 s arrives whole (${s.points} points)`);
      }
      // The usual alert rule: the least-squares slope over the run against the same minimum rate and growth.
      const rule = `(deriv(${series}[${seconds}s]) * 3600 > clamp_min(0.002 * avg_over_time(${series}[${seconds}s]), 1048576)) and (deriv(${series}[${seconds}s]) * ${seconds} > 1048576)`;
      for (const fired of await server.query(rule, end)) flaggedBy.deriv.add(fired.metric.scenario);
    }
    const rows = COMPARED_FAMILIES.map((family) => {
      const ids = chosen.filter((c) => c.scenario.family === family);
      const truth = ids[0].scenario.leak;
      return {
        family,
        truth,
        leakwatch: ids.filter((c) => flaggedBy.leakwatch.get(c.id) === 'leak').length,
        deriv: ids.filter((c) => flaggedBy.deriv.has(c.id)).length,
        of: ids.length,
      };
    });
    const table = ['| family | truth | leakwatch: leak | deriv() rule fires |', '| --- | --- | --- | --- |',
      ...rows.map((r) => `| ${r.family} | ${r.truth ? 'leak' : 'no leak'} | ${r.leakwatch} of ${r.of} | ${r.deriv} of ${r.of} |`)];
    const sum = (truth: boolean, key: 'leakwatch' | 'deriv') => rows.filter((r) => r.truth === truth).reduce((n, r) => n + r[key], 0);
    const of = (truth: boolean) => rows.filter((r) => r.truth === truth).reduce((n, r) => n + r.of, 0);
    table.push(`| **no-leak series flagged** | | **${sum(false, 'leakwatch')} of ${of(false)}** | **${sum(false, 'deriv')} of ${of(false)}** |`,
      `| **leaks found** | | **${sum(true, 'leakwatch')} of ${of(true)}** | **${sum(true, 'deriv')} of ${of(true)}** |`);
    t.diagnostic(`\n${table.join('\n')}`);
    const wrong = chosen.filter((c) => (flaggedBy.leakwatch.get(c.id) === 'leak') !== c.scenario.leak);
    t.diagnostic(`leakwatch wrong on: ${wrong.map((c) => `${c.scenario.name} (${flaggedBy.leakwatch.get(c.id)})`).join('; ') || 'none'}`);
    // The difference a fleet needs: the slope rule pages on the shapes that are not leaks; leakwatch does not.
    assert.ok(sum(false, 'leakwatch') <= 1, `leakwatch flags at most one no-leak series (${sum(false, 'leakwatch')})`);
    assert.ok(sum(false, 'deriv') >= sum(false, 'leakwatch') + 5, `the deriv() rule flags many more (${sum(false, 'deriv')})`);
    assert.ok(sum(true, 'leakwatch') >= 0.8 * of(true), `leakwatch finds the leaks (${sum(true, 'leakwatch')} of ${of(true)})`);
  } finally {
    await server.stop();
  }
});

test('leakwatch serve shows the sessions other leakwatch processes record, and not one whose collector was killed', { skip, timeout: 120_000 }, async () => {
  const db = path.join(dir, 'served.db');
  const watch = startCli(['run', '--every', '250ms', '--db', db, '--', buildCTarget('leaker'), 'heap']);
  await until('the session to start', () => /running pid (\d+)/.test(watch.output.stderr));
  const session = /session (\d+) →/.exec(watch.output.stderr)![1];
  // Its own process group: what a SIGKILLed `run` leaves running (its stdout is the test's pipe, held until it ends).
  const leakerGroup = Number(/running pid (\d+)/.exec(watch.output.stderr)![1]);
  const killWatch = () => {
    for (const pid of [watch.child.pid!, -leakerGroup]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  const serve = startCli(['serve', '--db', db, '--listen', '127.0.0.1:0']);
  try {
    await until('the metrics address', () => METRICS_LINE.test(serve.output.stderr));
    const url = METRICS_LINE.exec(serve.output.stderr)![1];
    let body = '';
    for (let i = 0; i < 200 && !/leakwatch_samples_total\{[^}]*\} ([1-9]\d+)/.test(body); i++) {
      body = await (await fetch(url)).text();
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(body, new RegExp(`leakwatch_committed_bytes\\{session="${session}",[^}]*type="heap"\\} \\d+`));
    assert.match(body, /leakwatch_collector_cpu_seconds_total\{[^}]*\} [\d.]+/, "the recording leakwatch's own CPU");
    assert.equal((await fetch(url.replace('/metrics', '/nope'))).status, 404);
    assert.equal((await fetch(url, { method: 'POST' })).status, 405);
    // The collector killed (power cut, OOM killer): the session is no longer being recorded, whatever its row says.
    killWatch();
    await watch.done;
    body = await (await fetch(url)).text();
    assert.doesNotMatch(body, new RegExp(`session="${session}"`));
    assert.match(body, /^# HELP leakwatch_verdict /m, 'an exposition all the same');
  } finally {
    killWatch();
    serve.child.kill('SIGTERM');
    const ended = await serve.done;
    assert.equal(ended.code, 0, `serve ends cleanly on SIGTERM: ${ended.stderr}`);
  }
});

test('bad Prometheus input: one line and exit 2, before anything runs', { skip, timeout: 120_000 }, async () => {
  const db = path.join(dir, 'bad.db');
  const cases: [string[], RegExp][] = [
    [['run', '--serve', 'localhost:99999', '--db', db, '--', 'true'], /--serve\/--listen needs \[host:\]port/],
    [['serve', '--db', db, '--listen', 'nope'], /--serve\/--listen needs/],
    [['analyze', '--prometheus', 'http://127.0.0.1:9'], /--prometheus needs --query/],
    [['analyze', '3', '--prometheus', 'http://127.0.0.1:9', '--query', 'up'], /a session id or --prometheus, not both/],
    [['analyze', '--prometheus', 'ftp://x', '--query', 'up'], /http:\/\/ or https:\/\//],
    [['analyze', '--prometheus', 'http://127.0.0.1:9', '--query', 'up', '--types', 'heap'], /--types and --metric are for a recorded session/],
    [['analyze', '1', '--query', 'up'], /--query goes with --prometheus/],
    [['analyze', '--prometheus', 'http://127.0.0.1:9', '--query', 'up', '--label', 'x'], /--label names the sessions --save stores/],
    [['analyze'], /needs a session id/],
    [['rules', '--for', 'soon'], /--for needs a Prometheus duration/],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, /^leakwatch: [^\n]+\n$/, `one line: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
  // A port in use: said before the command starts (nothing recorded).
  const holder = startCli(['serve', '--db', db, '--listen', '127.0.0.1:0']);
  await until('the first server', () => METRICS_LINE.test(holder.output.stderr));
  const taken = new URL(METRICS_LINE.exec(holder.output.stderr)![1]).port;
  await until('the note on the missing database', () => /no database at .*bad\.db yet/.test(holder.output.stderr));
  const marker = path.join(dir, 'started');
  const busy = await runCli(['run', '--serve', taken, '--db', db, '--', 'sh', '-c', `touch ${marker}`]);
  assert.equal(busy.code, 2, busy.stderr);
  assert.match(busy.stderr, /cannot serve metrics on 127\.0\.0\.1:\d+: the port is in use/);
  assert.throws(() => readFileSync(marker), 'the command never started');
  holder.child.kill('SIGTERM');
  await holder.done;
  // A real server: a query it refuses, and one that matches nothing.
  const server = await startPrometheus(mkdtempSync(path.join(dir, 'bad-')), { global: { scrape_interval: '15s' } });
  try {
    const refused = await runCli(['analyze', '--prometheus', server.url, '--query', 'rate(up[']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^leakwatch: Prometheus refused the query \(bad_data\): .+\n$/);
    const nothing = await runCli(['analyze', '--prometheus', server.url, '--query', 'no_such_metric', '--fail-on-leak']);
    assert.equal(nothing.code, 2, 'a query that returns nothing is not a pass');
    assert.match(nothing.stderr, /the query returned no series/);
  } finally {
    await server.stop();
  }
  const unreachable = await runCli(['analyze', '--prometheus', `http://127.0.0.1:${taken}`, '--query', 'up']);
  assert.equal(unreachable.code, 2);
  assert.match(unreachable.stderr, /^leakwatch: cannot reach Prometheus at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED\n$/);
});
