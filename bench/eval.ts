/**
 * How well analyzeTrend tells leaks from non-leaks on the labelled synthetic corpus (test/corpus.ts): a Markdown
 * report per family and overall, against the targets, written to docs/eval.md as well.
 * Run: npm run eval (= npx tsc -p tsconfig.json && node dist/bench/eval.js) [--seed N] [--family NAME]
 * With --family the report is printed only (docs/eval.md describes the whole corpus). Always exits 0: it is a report.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { analyzeTrend, DEFAULT_OPTIONS } from '../src/analysis/trend.js';
import type { Trend } from '../src/analysis/types.js';
import { FAMILIES, formatDuration, generateCorpus, LEAK_FAMILIES, type Scenario } from '../test/corpus.js';
import { formatBytes } from '../src/vocabulary.js';

const TARGET_F1 = 0.97;
const TARGET_RATE_ERROR = 0.15;
const TARGET_ONSET_SHARE = 0.9;
const onsetTolerance = (s: Scenario) => Math.max(15 * 60, 0.05 * s.durationSeconds);

interface Outcome {
  scenario: Scenario;
  trend: Trend | null;
  error?: string;
  ms: number;
  positive: boolean;
  rateError: number | null;
  onsetError: number | null;
}

function parseArgs(argv: string[]): { seed: number; family: string | null } {
  let seed = 1;
  let family: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--seed') seed = Number(argv[++i]);
    else if (argv[i] === '--family') family = argv[++i] ?? null;
  }
  if (!Number.isInteger(seed)) seed = 1;
  return { seed, family };
}

function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'leakwatch') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const ratio = (a: number, b: number) => (b === 0 ? null : a / b);
const fmt = (x: number | null, digits = 3) => (x === null ? '—' : x.toFixed(digits));
const fmtPct = (x: number | null) => (x === null ? '—' : !Number.isFinite(x) ? '∞' : `${(100 * x).toFixed(1)}%`);
const fmtSeconds = (x: number | null) => (x === null ? '—' : !Number.isFinite(x) ? '∞' : `${Math.round(x)} s`);
const fmtRate = (bytesPerHour: number) => `${formatBytes(bytesPerHour)}/h`;
const cell = (text: string) => text.replace(/\|/g, '\\|');

function evaluate(scenario: Scenario): Outcome {
  const start = performance.now();
  let trend: Trend | null = null;
  let error: string | undefined;
  try {
    trend = analyzeTrend(scenario.series, { ...DEFAULT_OPTIONS, managed: scenario.managed });
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  const ms = performance.now() - start;
  const positive = trend?.verdict === 'leak';
  let rateError: number | null = null;
  let onsetError: number | null = null;
  if (positive && scenario.leak && trend) {
    rateError = Math.abs(trend.slopeBytesPerHour - scenario.rateBytesPerHour) / scenario.rateBytesPerHour;
    if (!Number.isFinite(rateError)) rateError = Infinity;
    if (scenario.onsetSeconds !== null) {
      onsetError = trend.onsetSeconds === null ? Infinity : Math.abs(trend.onsetSeconds - scenario.onsetSeconds);
    }
  }
  return { scenario, trend, error, ms, positive, rateError, onsetError };
}

interface Row {
  label: string;
  scenarios: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  suspected: number;
  insufficient: number;
  errors: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  falseAlarmRate: number | null;
  medianRateError: number | null;
  medianOnsetError: number | null;
  onsetWithin: number | null;
  leaks: number;
  /** A total row (printed in bold). */
  total: boolean;
}

function summarize(label: string, outcomes: Outcome[], total = false): Row {
  const tp = outcomes.filter((o) => o.scenario.leak && o.positive).length;
  const fp = outcomes.filter((o) => !o.scenario.leak && o.positive).length;
  const fn = outcomes.filter((o) => o.scenario.leak && !o.positive).length;
  const tn = outcomes.filter((o) => !o.scenario.leak && !o.positive).length;
  const precision = ratio(tp, tp + fp);
  const recall = ratio(tp, tp + fn);
  const f1 = precision === null || recall === null ? null : precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  const truePositives = outcomes.filter((o) => o.scenario.leak && o.positive);
  const withOnset = truePositives.filter((o) => o.onsetError !== null);
  return {
    label,
    scenarios: outcomes.length,
    tp,
    fp,
    fn,
    tn,
    suspected: outcomes.filter((o) => o.trend?.verdict === 'suspected').length,
    insufficient: outcomes.filter((o) => o.trend?.verdict === 'insufficient-data').length,
    errors: outcomes.filter((o) => o.error !== undefined).length,
    precision,
    recall,
    f1,
    falseAlarmRate: ratio(fp, fp + tn),
    medianRateError: median(truePositives.map((o) => o.rateError!)),
    medianOnsetError: median(withOnset.map((o) => o.onsetError!)),
    onsetWithin: ratio(withOnset.filter((o) => o.onsetError! <= onsetTolerance(o.scenario)).length, withOnset.length),
    leaks: tp + fn,
    total,
  };
}

function table(rows: Row[]): string {
  const header =
    '| family | scenarios | TP | FP | FN | TN | suspected | insufficient | precision | recall | F1 | false-alarm rate | median rate error | median onset error | onset within tolerance |';
  const rule = '|' + ' --- |'.repeat(15);
  const lines = rows.map((r) => {
    const bold = (s: string) => (r.total ? `**${s}**` : s);
    const falseAlarm = r.falseAlarmRate === null ? '—' : `${fmtPct(r.falseAlarmRate)}${r.fp > 0 ? ' ❌' : ''}`;
    const rateError = r.medianRateError === null ? '—' : `${fmtPct(r.medianRateError)}${r.medianRateError > TARGET_RATE_ERROR ? ' ❌' : ''}`;
    const onsetWithin = r.onsetWithin === null ? '—' : `${fmtPct(r.onsetWithin)}${r.onsetWithin < TARGET_ONSET_SHARE ? ' ❌' : ''}`;
    return `| ${[
      r.label,
      r.scenarios,
      r.tp,
      r.fp,
      r.fn,
      r.tn,
      r.suspected,
      r.insufficient + (r.errors ? ` (+${r.errors} threw)` : ''),
      fmt(r.precision),
      fmt(r.recall),
      fmt(r.f1),
      falseAlarm,
      rateError,
      fmtSeconds(r.medianOnsetError),
      onsetWithin,
    ]
      .map((x) => bold(String(x)))
      .join(' | ')} |`;
  });
  return [header, rule, ...lines].join('\n');
}

function truth(s: Scenario): string {
  return s.leak ? `leak ${fmtRate(s.rateBytesPerHour)} from ${formatDuration(s.onsetSeconds ?? 0)}` : 'no leak';
}

function verdictOf(o: Outcome): string {
  return o.error !== undefined ? `threw: ${o.error}` : o.trend!.verdict;
}

function report(seed: number, family: string | null): { markdown: string; failures: string } {
  const genStart = performance.now();
  const corpus = generateCorpus(seed).filter((s) => family === null || s.family === family);
  const genMs = performance.now() - genStart;
  if (corpus.length === 0) throw new Error(`no scenarios in family ${family}; the families are ${FAMILIES.join(', ')}`);
  const points = corpus.reduce((n, s) => n + s.series.t.length, 0);
  const outcomes = corpus.map(evaluate);
  const families = FAMILIES.filter((f) => corpus.some((s) => s.family === f));
  const isLeakFamily = (f: string) => (LEAK_FAMILIES as readonly string[]).includes(f);

  const rows: Row[] = families.map((f) => summarize(`${f} (${isLeakFamily(f) ? 'leak' : 'no leak'})`, outcomes.filter((o) => o.scenario.family === f)));
  const noLeakOutcomes = outcomes.filter((o) => !o.scenario.leak);
  const leakOutcomes = outcomes.filter((o) => o.scenario.leak);
  const overall = summarize('overall', outcomes, true);
  const totals = [
    ...(noLeakOutcomes.length ? [summarize('all no-leak families', noLeakOutcomes, true)] : []),
    ...(leakOutcomes.length ? [summarize('all leak families', leakOutcomes, true)] : []),
    overall,
  ];

  const noLeakRows = rows.filter((r) => r.leaks === 0);
  const falseAlarmFamilies = noLeakRows.filter((r) => r.fp > 0).map((r) => `${r.label.replace(/ \(.*\)$/, '')} ${r.fp}`);
  const mark = (ok: boolean | null) => (ok === null ? '— (nothing to measure)' : ok ? '✅ met' : '❌ not met');
  const targets = [
    '| target | measured | |',
    '| --- | --- | --- |',
    `| F1 ≥ ${TARGET_F1} overall | ${fmt(overall.f1)} | ${mark(overall.f1 === null ? null : overall.f1 >= TARGET_F1)} |`,
    `| zero false alarms on no-leak families | ${overall.fp} false alarm${overall.fp === 1 ? '' : 's'}${falseAlarmFamilies.length ? ` (${falseAlarmFamilies.join(', ')})` : ''} in ${noLeakOutcomes.length} no-leak scenarios | ${mark(noLeakOutcomes.length ? overall.fp === 0 : null)} |`,
    `| median relative rate error ≤ ${TARGET_RATE_ERROR * 100}% (true positives) | ${fmtPct(overall.medianRateError)} | ${mark(overall.medianRateError === null ? null : overall.medianRateError <= TARGET_RATE_ERROR)} |`,
    `| onset error ≤ max(15 min, 5% of run) for ≥ ${TARGET_ONSET_SHARE * 100}% of true positives | ${fmtPct(overall.onsetWithin)} within (median error ${fmtSeconds(overall.medianOnsetError)}) | ${mark(overall.onsetWithin === null ? null : overall.onsetWithin >= TARGET_ONSET_SHARE)} |`,
  ].join('\n');

  const times = outcomes.map((o) => o.ms);
  const totalMs = times.reduce((a, b) => a + b, 0);
  const slowest = outcomes.reduce((a, b) => (b.ms > a.ms ? b : a));
  const timing = [
    `analyzeTrend: ${(totalMs / 1000).toFixed(2)} s for ${corpus.length} series, ${points.toLocaleString('en-US')} points`,
    `(median ${median(times)!.toFixed(1)} ms per series, slowest ${slowest.ms.toFixed(0)} ms: ${slowest.scenario.name});`,
    `corpus generation ${(genMs / 1000).toFixed(2)} s. Node ${process.version}.`,
  ].join(' ');

  const leakCount = corpus.filter((s) => s.leak).length;
  const markdown = [
    '# Leak detection: evaluation on the synthetic corpus',
    '',
    `Generated by \`npm run eval\` (= \`npx tsc -p tsconfig.json && node dist/bench/eval.js\`) from the labelled corpus of`,
    `\`test/corpus.ts\`, seed ${seed}: ${corpus.length} scenarios (${leakCount} leaks, ${corpus.length - leakCount} no-leak) in ${families.length} families,`,
    `${points.toLocaleString('en-US')} points. Each series goes through \`analyzeTrend(series, { ...DEFAULT_OPTIONS, managed })\`.`,
    '',
    "A positive is a `leak` verdict. `suspected` and `insufficient-data` count as negatives (FN on a leak, TN on a no-leak",
    'scenario) and are also shown in their own columns. False-alarm rate = leak verdicts on no-leak scenarios / no-leak',
    'scenarios. Rate error = |estimated − true| / true rate, over true positives. Onset error = |estimated − true onset|,',
    'over true positives (a missing onset counts as ∞); the tolerance is max(15 min, 5% of the run). ❌ marks a miss of the targets.',
    '',
    '## Per family and overall',
    '',
    table([...rows, ...totals]),
    '',
    '## Targets',
    '',
    targets,
    '',
    '## Time',
    '',
    timing,
    '',
  ].join('\n');

  // Misclassified scenarios, then true positives outside the rate or onset tolerance.
  const wrong = outcomes.filter((o) => o.positive !== o.scenario.leak || o.error !== undefined);
  const imprecise = outcomes.filter(
    (o) =>
      o.scenario.leak &&
      o.positive &&
      ((o.rateError ?? 0) > TARGET_RATE_ERROR || (o.onsetError !== null && o.onsetError > onsetTolerance(o.scenario))),
  );
  const failureLines = [
    `## Failures (${wrong.length} misclassified, ${imprecise.length} true positives outside the rate or onset tolerance)`,
    '',
    `### Misclassified (${wrong.length})`,
    '',
    ...(wrong.length
      ? [
          '| scenario | truth | verdict | estimated rate | estimated onset | reason |',
          '| --- | --- | --- | --- | --- | --- |',
          ...wrong.map((o) =>
            `| ${[
              o.scenario.name,
              truth(o.scenario),
              verdictOf(o),
              o.trend ? fmtRate(o.trend.slopeBytesPerHour) : '—',
              o.trend?.onsetSeconds != null ? formatDuration(o.trend.onsetSeconds) : '—',
              o.trend?.reason ?? '',
            ]
              .map((x) => cell(String(x)))
              .join(' | ')} |`,
          ),
        ]
      : ['none']),
    '',
    `### True positives outside the rate (> ${TARGET_RATE_ERROR * 100}%) or onset tolerance (${imprecise.length})`,
    '',
    ...(imprecise.length
      ? [
          '| scenario | true rate | estimated rate | rate error | true onset | estimated onset | onset error | tolerance |',
          '| --- | --- | --- | --- | --- | --- | --- | --- |',
          ...imprecise.map((o) =>
            `| ${[
              o.scenario.name,
              fmtRate(o.scenario.rateBytesPerHour),
              fmtRate(o.trend!.slopeBytesPerHour),
              fmtPct(o.rateError),
              formatDuration(o.scenario.onsetSeconds ?? 0),
              o.trend!.onsetSeconds === null ? '—' : formatDuration(o.trend!.onsetSeconds),
              fmtSeconds(o.onsetError),
              fmtSeconds(onsetTolerance(o.scenario)),
            ]
              .map((x) => cell(String(x)))
              .join(' | ')} |`,
          ),
        ]
      : ['none']),
    '',
  ];
  return { markdown, failures: failureLines.join('\n') };
}

try {
  const { seed, family } = parseArgs(process.argv.slice(2));
  const { markdown, failures } = report(seed, family);
  const document = `${markdown}\n${failures}`;
  process.stdout.write(document);
  if (family === null) {
    const file = path.join(repoRoot(), 'docs', 'eval.md');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, document);
    process.stdout.write(`\n(written to ${path.relative(process.cwd(), file) || file})\n`);
  }
} catch (e) {
  console.error(`eval failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
}
process.exitCode = 0;
