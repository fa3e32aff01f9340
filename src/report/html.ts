/**
 * The self-contained HTML report: one file, no network (chart.js is inlined), every string from the target
 * (command lines, mapping paths, labels) escaped. Data reaches the page's script only as JSON inside a
 * `<script type="application/json">` block, never as code; the page has no inline event handlers.
 */
import type { TypeTotals } from '../collector/types.js';
import { rowValues } from '../analysis/session.js';
import { compareFindings, comparisonHeadline } from '../analysis/compare.js';
import type { Finding } from '../analysis/types.js';
import type { RegionGrowth } from '../db/regions.js';
import { byteAxis, type ByteAxis, durationStepTable } from './axis.js';
import { lttb } from './lttb.js';
import { ANALYZED_TYPES, BYTE_UNITS, COLUMN_LABELS, formatBytes, formatElapsed, formatRate, formatRateInterval, GATED_ROWS, GATED_TYPES, isGated, type MemoryType, type Metric, METRIC_LABELS, type Row, ROW_LABELS, SUM_NAMES, TOTAL_COLUMNS, TYPE_LABELS, typesOf, VERDICT_LABELS } from '../vocabulary.js';

export interface ReportSession {
  id: number;
  command: string;
  label: string | null;
  pid: number;
  host: string;
  platform: string;
  mode: string;
  startedAt: number;
  endedAt: number | null;
  endReason: string | null;
  exitCode: number | null;
  schedule: string;
  limit: string | null;
}

export interface ReportModel {
  session: ReportSession;
  samples: number;
  durationSeconds: number;
  findings: Finding[];
  /** Seconds since start, and per type committed bytes per tick (summed over processes). */
  t: Float64Array;
  committed: Record<MemoryType, Float64Array>;
  /** Total working set per tick; NaN on ticks that did not read smaps. */
  totalWs: Float64Array;
  /** The VMMap-style table at the last tick. */
  latest: Record<MemoryType, TypeTotals>;
  regions: RegionGrowth[];
  /** When the watched program restarted (a new target process), seconds since start. */
  restarts: number[];
  /** When a watched process exec()d another program, seconds since start. */
  execs: number[];
  /** What `committed` holds and the verdicts judge: committed bytes, or the working set (then only ticks that read it). */
  metric: Metric;
}

/** One colour per type (and sum), the same in every chart and table. */
export const TYPE_COLOURS: Record<Row, string> = {
  native: '#92400e',
  total: '#1f2937',
  image: '#6b7280',
  private: '#d97706',
  shareable: '#059669',
  mappedFile: '#2563eb',
  heap: '#dc2626',
  managedHeap: '#7c3aed',
  stack: '#db2777',
  pageTable: '#0d9488',
  free: '#9ca3af',
};

// Points per line the browser draws; the statistics use every sample.
const DISPLAY_POINTS = 1500;

const capitalised = (text: string) => text[0].toUpperCase() + text.slice(1);

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON that is safe inside a <script> element: no `<` (so no `</script>`), no line separators JS chokes on. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function trendLine(t: Float64Array, v: Float64Array, finding: Finding) {
  const from = finding.onsetSeconds ?? t[0];
  const slope = finding.slopeBytesPerHour / 3600;
  // t ascends: the samples from the onset on are a suffix.
  const first = t.findIndex((ti) => ti >= from);
  if (first < 0) return undefined;
  const offsets = v.subarray(first).map((vi, i) => vi - slope * t[first + i]).sort();
  const intercept = offsets[offsets.length >> 1];
  const end = t[t.length - 1];
  const y0 = intercept + slope * from;
  const to = (bytesPerHour: number) => [{ x: from, y: y0 }, { x: end, y: y0 + (bytesPerHour / 3600) * (end - from) }];
  return { line: to(finding.slopeBytesPerHour), lo: to(finding.ci[0]), hi: to(finding.ci[1]) };
}

type Point = { x: number; y: number };

/** A chart as chart.js configuration, pure JSON: the page (and the PNG renderer) add the formatting callbacks. */
export interface ChartSpec {
  id: string;
  title: string;
  stacked: boolean;
  /** The y axis's title: what the bytes are. */
  yTitle: string;
  y: ByteAxis;
  datasets: Record<string, unknown>[];
}

/** The y axis's title for a metric's charts. */
const METRIC_AXIS: Record<Metric, string> = { committed: 'committed', ws: 'working set' };

const line = (label: string, data: Point[], colour: string, extra: Record<string, unknown> = {}) => ({
  label,
  data,
  borderColor: colour,
  backgroundColor: `${colour}66`,
  pointRadius: 0,
  borderWidth: 1.5,
  ...extra,
});

/** Vertical marks at the given times, across the range the points cover (one dataset; null values break the line). */
function verticalMarks(label: string, at: readonly number[], points: readonly Point[], colour: string) {
  let low = Infinity;
  let high = -Infinity;
  for (const p of points) {
    low = Math.min(low, p.y);
    high = Math.max(high, p.y);
  }
  const data = at.flatMap((x) => [{ x, y: low }, { x, y: high }, { x, y: null }]);
  // A stack of its own: on the stacked chart the marks would otherwise sit on top of the areas.
  return line(label, data as Point[], colour, { borderDash: [2, 2], borderWidth: 2, spanGaps: false, stack: 'marks' });
}

/** Whether a series holds any memory at all: a type the program never mapped stays 0 throughout, and gets no line. */
function hasMemory(values: Iterable<number>): boolean {
  for (const v of values) if (v > 0) return true;
  return false;
}

/** A y axis over every point the lines draw. */
function fittedAxis(datasets: Record<string, unknown>[]): ByteAxis {
  let low = Infinity;
  let high = -Infinity;
  for (const d of datasets) {
    for (const { y } of d.data as { y: number | null }[]) {
      if (y === null || !Number.isFinite(y)) continue;
      low = Math.min(low, y);
      high = Math.max(high, y);
    }
  }
  return low > high ? byteAxis(0, 0) : byteAxis(low, high);
}

/** The charts of the leak-prone types and the sums, in the page's order. */
const GATED_CHARTS = [...GATED_ROWS, 'total'] as const;

type Unfitted = Omit<ChartSpec, 'y'>;

/**
 * Every chart of the report: committed by type (stacked), one per leak-prone type, working set vs committed; none
 * for a type without memory. Restarts and exec()s of the watched program are marked on each time axis.
 */
export function chartSpecs(model: ReportModel): ChartSpec[] {
  const points = (v: Float64Array): Point[] => {
    const d = lttb(model.t, v, DISPLAY_POINTS);
    return d.x.map((x, i) => ({ x, y: d.y[i] }));
  };
  const marks = [
    { label: 'restart', at: model.restarts, colour: '#111827' },
    { label: 'exec', at: model.execs, colour: '#0891b2' },
  ].filter((m) => m.at.length > 0);
  const withLifeMarks = <Spec extends Unfitted>(spec: Spec, marked: Point[]): Spec =>
    marks.length === 0 || marked.length === 0 ? spec : { ...spec, datasets: [...spec.datasets, ...marks.map((m) => verticalMarks(m.label, m.at, marked, m.colour))] };
  const fitted = (spec: Unfitted): ChartSpec => ({ ...spec, y: fittedAxis(spec.datasets) });
  const stackedTypes = ANALYZED_TYPES.filter((type) => hasMemory(model.committed[type]));
  const stackTop = model.t.reduce((top, _, i) => {
    const sum = stackedTypes.reduce((total, type) => total + model.committed[type][i], 0);
    return sum > top ? sum : top;
  }, 0);
  const stacked: ChartSpec = {
    id: 'stacked',
    title: `${capitalised(METRIC_LABELS[model.metric])} by type`,
    stacked: true,
    yTitle: METRIC_AXIS[model.metric],
    // Areas stack up from zero.
    y: byteAxis(0, stackTop),
    // The first area fills down to zero, each next one down to the one below it.
    datasets: stackedTypes.map((type, i) => line(TYPE_LABELS[type], points(model.committed[type]), TYPE_COLOURS[type], { fill: i === 0 ? 'origin' : '-1' })),
  };
  const gated = GATED_CHARTS.flatMap((type): ChartSpec[] => {
    const finding = model.findings.find((f) => f.type === type);
    const verdict = finding ? VERDICT_LABELS[finding.verdict] : 'not analysed';
    const values = Float64Array.from(rowValues(model.committed, type));
    if (!hasMemory(values)) return [];
    const samples = points(values);
    const datasets = [line(`${ROW_LABELS[type]} (${verdict})`, samples, TYPE_COLOURS[type])];
    const trend = finding && (finding.verdict === 'leak' || finding.verdict === 'suspected') ? trendLine(model.t, values, finding) : undefined;
    if (trend) {
      datasets.push(line('trend', trend.line, '#111827', { borderDash: [6, 4], borderWidth: 2 }));
      datasets.push(line('95% band', trend.lo, '#6b7280', { borderWidth: 0, backgroundColor: '#6b728033' }));
      datasets.push(line('95% band (upper)', trend.hi, '#6b7280', { borderWidth: 0, backgroundColor: '#6b728033', fill: '-1' }));
      if (finding!.onsetSeconds !== null && samples.length > 0) datasets.push(verticalMarks('onset', [finding!.onsetSeconds], samples, '#b91c1c'));
    }
    const what = SUM_NAMES[type] ? ` (${SUM_NAMES[type]})` : '';
    return [fitted(withLifeMarks({ id: type, title: `${ROW_LABELS[type]}${what}: ${verdict}`, stacked: false, yTitle: METRIC_AXIS[model.metric], datasets }, samples))];
  });
  const committedTotal = Float64Array.from(rowValues(model.committed, 'total'));
  const readSmaps = (_: number, i: number) => !Number.isNaN(model.totalWs[i]);
  const ws = lttb(model.t.filter(readSmaps), model.totalWs.filter(readSmaps), DISPLAY_POINTS);
  const committedPoints = points(committedTotal);
  const workingSetLines = [
    // With the ws metric every series already is working set: a committed line would only repeat it.
    ...(model.metric === 'ws' || !hasMemory(committedTotal) ? [] : [line('committed', committedPoints, '#1f2937')]),
    ...(hasMemory(ws.y) ? [line('working set (resident)', ws.x.map((x, i) => ({ x, y: ws.y[i] })), '#2563eb')] : []),
  ];
  const workingSet: Unfitted = {
    id: 'ws',
    title: model.metric === 'ws' ? 'Working set of all mapped types' : 'Working set and committed memory',
    stacked: false,
    // What the line shows, or 'bytes' for both.
    yTitle: workingSetLines.length === 1 ? workingSetLines[0].label : 'bytes',
    datasets: workingSetLines,
  };
  return [
    ...(stackedTypes.length === 0 ? [] : [withLifeMarks(stacked, [{ x: 0, y: 0 }, ...committedPoints])]),
    ...gated,
    ...(workingSetLines.length === 0 ? [] : [fitted(withLifeMarks(workingSet, committedPoints))]),
  ];
}

const cell = (text: string, className = '') => `<td${className ? ` class="${className}"` : ''}>${escapeHtml(text)}</td>`;

function findingCard(f: Finding): string {
  const verdictClass = f.verdict.replace(/[^a-z-]/g, '');
  const facts = f.verdict === 'insufficient-data'
    ? ''
    : `<dl>
        <dt>Rate</dt><dd>${escapeHtml(formatRate(f.slopeBytesPerHour))}</dd>
        <dt>95% CI</dt><dd>${escapeHtml(formatRateInterval(f.ci))}</dd>
        <dt>Since</dt><dd>${f.onsetSeconds === null ? '—' : escapeHtml(formatElapsed(f.onsetSeconds * 1000))}</dd>
        <dt>Time to limit</dt><dd>${f.timeToLimitSeconds === null ? '—' : escapeHtml(formatElapsed(f.timeToLimitSeconds * 1000))}</dd>
      </dl>`;
  return `<article class="card ${verdictClass}" style="border-color:${TYPE_COLOURS[f.type]}">
      <h3><span class="swatch" style="background:${TYPE_COLOURS[f.type]}"></span>${escapeHtml(ROW_LABELS[f.type])} <span class="verdict">${escapeHtml(VERDICT_LABELS[f.verdict])}</span></h3>
      ${facts}
      <p class="explanation">${escapeHtml(f.explanation)}</p>
    </article>`;
}

function sessionFacts(model: ReportModel): string {
  const s = model.session;
  const rows: [string, string][] = [
    ['Command', s.command],
    ['Label', s.label ?? '—'],
    ['Mode / pid', `${s.mode}, pid ${s.pid}`],
    ['Host / platform', `${s.host}, ${s.platform}`],
    ['Started', new Date(s.startedAt).toISOString()],
    ['Ended', s.endedAt === null ? 'still being recorded' : `${new Date(s.endedAt).toISOString()} (${s.endReason ?? 'unknown'})`],
    ['Samples', `${model.samples} over ${formatElapsed(model.durationSeconds * 1000)}, ${s.schedule}`],
    ['Restarts', model.restarts.length === 0 ? 'none' : `${model.restarts.length}, at ${model.restarts.map((r) => formatElapsed(r * 1000)).join(', ')}`],
    ...(model.execs.length === 0 ? [] : [['Execs', `${model.execs.length}, at ${model.execs.map((r) => formatElapsed(r * 1000)).join(', ')}`] as [string, string]]),
    ['Target exit code', s.exitCode === null ? '—' : String(s.exitCode)],
    ['Memory limit', s.limit ?? 'unknown'],
  ];
  return `<table class="facts">${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th>${cell(v)}</tr>`).join('')}</table>`;
}

function regionTable(regions: RegionGrowth[]): string {
  if (regions.length === 0) return '<p>No region grew.</p>';
  const rows = regions.map((r) => `<tr>
      <td><span class="swatch" style="background:${TYPE_COLOURS[r.type]}"></span>${escapeHtml(TYPE_LABELS[r.type])}</td>
      ${cell(r.details, 'details')}${cell(`${r.growthBytes >= 0 ? '+' : ''}${formatBytes(r.growthBytes)}`, 'num')}
      ${cell(`${r.regionsBefore} → ${r.regionsAfter}`, 'num')}</tr>`);
  return `<table><thead><tr><th>Type</th><th>Region or file</th><th>Committed growth</th><th>Regions</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function latestTable(latest: Record<MemoryType, TypeTotals>): string {
  const columns = TOTAL_COLUMNS.filter((c) => ANALYZED_TYPES.some((t) => latest[t][c] !== undefined));
  const rows = ANALYZED_TYPES.map((t) => `<tr><td><span class="swatch" style="background:${TYPE_COLOURS[t]}"></span>${escapeHtml(TYPE_LABELS[t])}</td>${columns
    .map((c) => cell(latest[t][c] === undefined ? '' : c === 'blocks' ? String(latest[t][c]) : formatBytes(latest[t][c]!), 'num'))
    .join('')}</tr>`);
  return `<table><thead><tr><th>Type</th>${columns.map((c) => `<th>${COLUMN_LABELS[c]}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** The page around the sections: head, style, the data block and the scripts. */
function page(title: string, sections: string, data: { duration: number; charts: ChartSpec[] }, chartJsSource: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${sections}
<script type="application/json" id="report-data">${scriptJson({ ...data, timeSteps: durationStepTable() })}</script>
<script>${chartJsSource.replace(/<\/script/gi, '<\\/script')}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

const ZOOM_CONTROLS = `<section id="zoom" class="controls"><h2>Time range</h2>
  <label>From <input type="range" id="zoom-from" min="0" max="1000" value="0"></label>
  <label>To <input type="range" id="zoom-to" min="0" max="1000" value="1000"></label>
  <output id="zoom-range"></output> <button type="button" id="zoom-reset">Whole session</button>
</section>`;

const canvas = (spec: ChartSpec) => `<div class="chart"><canvas id="chart-${escapeHtml(spec.id)}" aria-label="${escapeHtml(spec.title)}"></canvas></div>`;

/** A chart's canvas, or in its place one line saying why there is none (an axis of nothing says nothing). */
function chartOrNote(charts: ChartSpec[], id: string, note: string): string {
  const spec = charts.find((c) => c.id === id);
  return spec ? canvas(spec) : `<p class="no-memory">${escapeHtml(note)}</p>`;
}

export function renderReport(model: ReportModel, chartJsSource: string): string {
  const gatedFindings = model.findings.filter((f) => isGated(f.type));
  const leaking = gatedFindings.filter((f) => f.verdict === 'leak');
  // A sum leaks whenever one of its types does: the headline names it only when none of them does on its own.
  const named = leaking.filter((f) => typesOf(f.type).length === 1 || !leaking.some((g) => g !== f && typesOf(f.type).includes(g.type as MemoryType)));
  const headline = leaking.length > 0
    ? `Leaking: ${named.map((f) => `${ROW_LABELS[f.type]} at ${formatRate(f.slopeBytesPerHour)}`).join(', ')}`
    : gatedFindings.some((f) => f.verdict === 'suspected') ? 'No clear leak, but some growth is suspected' : 'No leak found';
  const title = `leakwatch session ${model.session.id}`;
  const charts = chartSpecs(model);
  const sections = `<header>
  <h1>${escapeHtml(title)}: ${escapeHtml(headline)}</h1>
  <p class="command">${escapeHtml(model.session.command)}</p>
  <p class="metric">Verdicts judge the ${escapeHtml(METRIC_LABELS[model.metric])}.</p>
</header>
<section id="verdicts"><h2>Verdicts</h2><div class="cards">${gatedFindings.map(findingCard).join('')}</div></section>
<section id="facts"><h2>Session</h2>${sessionFacts(model)}</section>
${ZOOM_CONTROLS}
<section id="committed"><h2>${escapeHtml(capitalised(METRIC_LABELS[model.metric]))} by type</h2>${chartOrNote(charts, 'stacked', 'no memory in this session')}</section>
<section id="gated"><h2>Leak-prone types and the sums: samples, trend and its 95% band, onset</h2><div class="grid">${GATED_CHARTS.map((row) => chartOrNote(charts, row, `no ${ROW_LABELS[row]} memory in this session`)).join('')}</div></section>
<section id="working-set"><h2>Working set and committed memory (all types)</h2>${chartOrNote(charts, 'ws', 'no memory in this session')}</section>
<section id="regions"><h2>Regions and files that grew most</h2>${regionTable(model.regions)}</section>
<section id="latest"><h2>Latest sample by type</h2>${latestTable(model.latest)}</section>
<footer>Made by leakwatch. Every statistic uses all ${model.samples} samples; the charts draw at most ${DISPLAY_POINTS} points per line.</footer>`;
  return page(title, sections, { duration: model.t.length > 0 ? model.t[model.t.length - 1] : 0, charts }, chartJsSource);
}

/**
 * Two sessions side by side (e.g. build N against N+1): per gated type and sum both verdicts and rates, the difference
 * in words, and both series overlaid on elapsed time.
 */
export function renderComparison(a: ReportModel, b: ReportModel, chartJsSource: string): string {
  const title = `leakwatch: session ${a.session.id} (A) vs session ${b.session.id} (B)`;
  const rows = GATED_ROWS.map((type) => {
    const fa = a.findings.find((f) => f.type === type)!;
    const fb = b.findings.find((f) => f.type === type)!;
    const { change, sentence } = compareFindings(fa, fb);
    const rate = (f: Finding) => `${VERDICT_LABELS[f.verdict]}, ${formatRate(f.slopeBytesPerHour)} (${formatRateInterval(f.ci)})`;
    return { type, a: fa, b: fb, change, sentence, row: `<tr><td><span class="swatch" style="background:${TYPE_COLOURS[type]}"></span>${escapeHtml(ROW_LABELS[type])}</td>${cell(rate(fa))}${cell(rate(fb))}${cell(change, `change ${change}`)}</tr>` };
  });
  const headline = comparisonHeadline(rows);
  const overlay = (model: ReportModel, tag: string, dash: number[]) => (type: MemoryType) => {
    const d = lttb(model.t, model.committed[type], DISPLAY_POINTS);
    return line(`${TYPE_LABELS[type]} ${tag}`, d.x.map((x, i) => ({ x, y: d.y[i] })), TYPE_COLOURS[type], { borderDash: dash });
  };
  const charts: ChartSpec[] = GATED_TYPES.filter((type) => hasMemory(a.committed[type]) || hasMemory(b.committed[type])).map((type) => {
    const datasets = [overlay(a, `A (session ${a.session.id})`, [])(type), overlay(b, `B (session ${b.session.id})`, [6, 4])(type)];
    return { id: type, title: `${TYPE_LABELS[type]}: A (solid) and B (dashed)`, stacked: false, yTitle: METRIC_AXIS[a.metric], y: fittedAxis(datasets), datasets };
  });
  const facts = (m: ReportModel, tag: string) => `<h3>${tag}: session ${m.session.id}</h3>${sessionFacts(m)}`;
  const sections = `<header><h1>${escapeHtml(title)}: ${escapeHtml(headline)}</h1>
<p class="metric">Verdicts judge the ${escapeHtml(METRIC_LABELS[a.metric])}.</p></header>
<section id="differences"><h2>Differences</h2>
<table><thead><tr><th>Type</th><th>A: session ${a.session.id}</th><th>B: session ${b.session.id}</th><th>Change</th></tr></thead><tbody>${rows.map((r) => r.row).join('')}</tbody></table>
<ul class="sentences">${rows.map((r) => `<li>${escapeHtml(r.sentence)}</li>`).join('')}</ul></section>
${ZOOM_CONTROLS}
<section id="gated"><h2>Leak-prone types, aligned on elapsed time</h2><div class="grid">${GATED_TYPES.map((type) => chartOrNote(charts, type, `no ${TYPE_LABELS[type]} memory in either session`)).join('')}</div></section>
<section id="facts"><h2>Sessions</h2>${facts(a, 'A')}${facts(b, 'B')}</section>`;
  const duration = Math.max(a.t.at(-1) ?? 0, b.t.at(-1) ?? 0);
  return page(title, sections, { duration, charts }, chartJsSource);
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 16px 24px; color: #111827; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #e5e7eb; }
.command { font-family: ui-monospace, monospace; background: #f3f4f6; padding: 6px 8px; word-break: break-all; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 12px; }
.card { border: 2px solid; border-left-width: 8px; border-radius: 6px; padding: 8px 12px; }
.card h3 { margin: 0 0 6px; font-size: 16px; } .card .verdict { float: right; font-weight: 700; }
.card.leak .verdict { color: #b91c1c; } .card.suspected .verdict { color: #b45309; } .card.no-leak .verdict { color: #047857; }
.card dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 12px; margin: 0 0 6px; } .card dt { color: #6b7280; } .card dd { margin: 0; }
.explanation { margin: 0; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #f3f4f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } td.details { font-family: ui-monospace, monospace; word-break: break-all; }
.facts th { width: 180px; color: #6b7280; font-weight: 500; }
.chart { position: relative; height: 320px; } .no-memory { color: #6b7280; } .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 16px; }
.controls label { margin-right: 16px; } td.change.regression { color: #b91c1c; font-weight: 700; } td.change.improvement { color: #047857; } footer { margin-top: 32px; color: #6b7280; font-size: 12px; }
@media print { .controls { display: none; } .chart { height: 260px; break-inside: avoid; } section { break-inside: avoid-page; } }
`;

// Runs in the browser. It reads the data block and draws; it never evaluates data as code.
const PAGE_SCRIPT = `
'use strict';
const data = JSON.parse(document.getElementById('report-data').textContent);
// The vocabulary's own formatters, so the page writes bytes and times with the same rounding as every other output.
const BYTE_UNITS = ${JSON.stringify(BYTE_UNITS)};
${formatBytes.toString()}
${formatElapsed.toString()}
const bytes = (v) => formatBytes(v);
const elapsed = (s) => formatElapsed(Math.max(0, s) * 1000);
// Ticks at whole steps of the range shown (zooming moves it anywhere), the step looked up in the table the server
// made: the rule lives in axis.ts only. chart.js's own stepSize would put them at the range's ends.
function timeTicks(scale) {
  const span = scale.max - scale.min;
  const step = (data.timeSteps.find((row) => span < row.spanUnder) || data.timeSteps[data.timeSteps.length - 1]).step;
  scale.ticks = [];
  for (let v = Math.ceil(scale.min / step) * step; v <= scale.max; v += step) scale.ticks.push({ value: v });
}
const xAxis = { type: 'linear', min: 0, max: data.duration, title: { display: true, text: 'elapsed (h:mm:ss)' }, afterBuildTicks: timeTicks, ticks: { callback: (v) => elapsed(v) } };
// Range, step and labels come from the server, one label per step.
const yAxis = (spec) => ({ stacked: spec.stacked, min: spec.y.min, max: spec.y.max, title: { display: true, text: spec.yTitle }, ticks: { stepSize: spec.y.stepSize, callback: (v, i) => spec.y.labels[i] } });
const tooltip = { callbacks: { title: (items) => items.length ? elapsed(items[0].parsed.x) : '', label: (item) => item.dataset.label + ': ' + bytes(item.parsed.y) } };
const common = { animation: false, parsing: false, normalized: true, responsive: true, maintainAspectRatio: false, interaction: { mode: 'nearest', axis: 'x', intersect: false }, plugins: { tooltip, decimation: { enabled: false } } };
const charts = data.charts.map((spec) => new Chart(document.getElementById('chart-' + spec.id), {
  type: 'line',
  data: { datasets: spec.datasets },
  options: Object.assign({}, common, {
    plugins: Object.assign({}, common.plugins, { title: { display: spec.id !== 'stacked' && spec.id !== 'ws', text: spec.title } }),
    scales: { x: Object.assign({}, xAxis), y: yAxis(spec) },
  }),
}));
const from = document.getElementById('zoom-from');
const to = document.getElementById('zoom-to');
const range = document.getElementById('zoom-range');
function zoom() {
  const a = Math.min(+from.value, +to.value) / 1000 * data.duration;
  const b = Math.max(+from.value, +to.value) / 1000 * data.duration;
  range.textContent = elapsed(a) + ' – ' + elapsed(b);
  for (const c of charts) { c.options.scales.x.min = a; c.options.scales.x.max = Math.max(b, a + 1); c.update('none'); }
}
from.addEventListener('input', zoom);
to.addEventListener('input', zoom);
document.getElementById('zoom-reset').addEventListener('click', () => { from.value = 0; to.value = 1000; zoom(); });
zoom();
`;
