/**
 * Charts a person reads: byte axes in round binary steps, time axes in round durations, no axis for a type without
 * memory, axis titles that name what they show, PNG titles that say which session they come from.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { TypeTotals } from '../src/collector/types.js';
import { byteAxis, MAX_TICKS, niceByteStep, niceDurationStep } from '../src/report/axis.js';
import { chartSpecs, renderReport, type ReportModel } from '../src/report/html.js';
import { pngChartConfig, writePngs } from '../src/report/png.js';
import { MEMORY_TYPES, type MemoryType } from '../src/vocabulary.js';

const KiB = 1024;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

test('byte steps: 1, 2 or 5 × a power of ten of the unit the top is written in', () => {
  // The review's axis stepped by 19.1 MiB up to 57.2 MiB.
  assert.deepEqual(niceByteStep(0, 57.2 * MiB, 8), { step: 10 * MiB, unit: 2 });
  assert.deepEqual(niceByteStep(0, 3 * GiB, 8), { step: 0.5 * GiB, unit: 3 });
  assert.deepEqual(niceByteStep(0, 132 * KiB, 8), { step: 20 * KiB, unit: 1 });
  assert.deepEqual(niceByteStep(100 * MiB, 120 * MiB, 8), { step: 5 * MiB, unit: 2 });
  assert.deepEqual(niceByteStep(0, 900, 8), { step: 200, unit: 0 });
  // Whole bytes: never a step below 1 B.
  assert.deepEqual(niceByteStep(0, 0, 8), { step: 1, unit: 0 });
  assert.deepEqual(niceByteStep(0, 3, 8), { step: 1, unit: 0 });
  // 1010 MiB would round up to a 1200 MiB top: the axis is written in GiB instead.
  assert.deepEqual(niceByteStep(0, 1010 * MiB, 8), { step: 0.2 * GiB, unit: 3 });
  assert.throws(() => niceByteStep(0, Infinity, 8), RangeError);
});

test('byte axes: labels in one unit, from zero or above, 4 to 8 ticks over any range', () => {
  assert.deepEqual(byteAxis(0, 57.2 * MiB), {
    min: 0, max: 60 * MiB, stepSize: 10 * MiB, labels: ['0 MiB', '10 MiB', '20 MiB', '30 MiB', '40 MiB', '50 MiB', '60 MiB'],
  });
  assert.deepEqual(byteAxis(0, 3 * GiB).labels, ['0 GiB', '0.5 GiB', '1 GiB', '1.5 GiB', '2 GiB', '2.5 GiB', '3 GiB']);
  assert.deepEqual(byteAxis(0, 0), { min: 0, max: 1, stepSize: 1, labels: ['0 B', '1 B'] });
  // A trend band's extrapolation below zero does not drag the axis there.
  assert.equal(byteAxis(-3 * MiB, 20 * MiB).min, 0);
  // A flat series starts at zero.
  assert.deepEqual(byteAxis(132 * KiB, 132 * KiB).labels, ['0 KiB', '20 KiB', '40 KiB', '60 KiB', '80 KiB', '100 KiB', '120 KiB', '140 KiB']);
  // Far from zero, the labels keep the unit and as many decimals as the step has.
  assert.deepEqual(byteAxis(1.2 * GiB, 1.5 * GiB).labels, ['1.2 GiB', '1.25 GiB', '1.3 GiB', '1.35 GiB', '1.4 GiB', '1.45 GiB', '1.5 GiB']);
  for (let high = 16; high < 1024 ** 5; high *= 1.37) {
    for (const low of [0, high / 2]) {
      const axis = byteAxis(low, high);
      const ticks = axis.labels.length;
      assert.ok(ticks >= 4 && ticks <= MAX_TICKS, `${low}..${high}: ${axis.labels.join(', ')}`);
      assert.ok(axis.min <= low && axis.max >= high && axis.min >= 0, `${low}..${high}: ${axis.min}..${axis.max}`);
      assert.equal(Math.round((axis.max - axis.min) / axis.stepSize) + 1, ticks);
      assert.match(axis.labels.join(', '), /^\d+(\.\d{1,2})? (B|KiB|MiB|GiB|TiB|PiB)(, \d+(\.\d{1,2})? \2)*$/, 'one unit, at most two decimals');
    }
  }
});

test('time steps: round durations, 4 to 8 ticks over any span', () => {
  assert.deepEqual([0, 12, 16, 60, 100, 35 * 60, 3600, 8 * 3600, 3 * 86400].map((s) => niceDurationStep(s)), [1, 2, 5, 10, 15, 5 * 60, 10 * 60, 2 * 3600, 12 * 3600]);
  for (let span = 8; span < 1000 * 86400; span *= 1.21) {
    const ticks = Math.floor(span / niceDurationStep(span)) + 1;
    assert.ok(ticks >= 4 && ticks <= MAX_TICKS, `${span} s: ${ticks} ticks`);
  }
});

/** A session of `seconds` with the given bytes per type (the rest 0), read every 10 s. */
function modelOf(bytes: Partial<Record<MemoryType, (i: number) => number>>, metric: ReportModel['metric'] = 'committed'): ReportModel {
  const n = 100;
  const series = (f?: (i: number) => number) => Float64Array.from({ length: n }, (_, i) => (f ? f(i) : 0));
  const committed = Object.fromEntries(MEMORY_TYPES.map((type) => [type, series(bytes[type])])) as Record<MemoryType, Float64Array>;
  return {
    session: {
      id: 7, command: `/opt/service/bin/server --config /etc/service/production.yaml --workers 16 --verbose --log-level=debug`,
      label: 'nightly build 1234', pid: 42, host: 'ci', platform: 'linux-x64', mode: 'run', startedAt: 0, endedAt: n * 10_000,
      endReason: 'duration', exitCode: 0, schedule: 'every 10000 ms', limit: null,
    },
    samples: n,
    durationSeconds: (n - 1) * 10,
    findings: [],
    t: Float64Array.from({ length: n }, (_, i) => i * 10),
    committed,
    totalWs: series((i) => committed.heap[i] / 2 + committed.image[i]),
    latest: Object.fromEntries(MEMORY_TYPES.map((type) => [type, { size: 0, committed: 0 }])) as Record<MemoryType, TypeTotals>,
    regions: [],
    restarts: [],
    execs: [],
    metric,
  };
}

const native = modelOf({ heap: (i) => MiB + i * 0.57 * MiB, stack: () => 132 * KiB, image: () => 2 * MiB, private: () => 20 * KiB });

test('a type without memory gets no chart and no line; the page says so in one line', () => {
  const specs = chartSpecs(native);
  assert.deepEqual(specs.map((s) => s.id), ['stacked', 'private', 'heap', 'stack', 'native', 'total', 'ws']);
  assert.deepEqual(specs[0].datasets.map((d) => d.label), ['Private', 'Heap', 'Stack', 'Image']);
  for (const spec of specs) {
    assert.ok(spec.y.min >= 0, `${spec.id}: ${spec.y.labels.join(', ')}`);
    assert.ok(!spec.datasets.some((d) => String(d.label).startsWith('Managed Heap')), spec.id);
  }
  // The stacked axis reaches the top of the stack, not just of one area.
  assert.ok(specs[0].y.max >= 1 * MiB + 99 * 0.57 * MiB + 132 * KiB + 2 * MiB + 20 * KiB);
  const page = renderReport(native, '');
  assert.ok(page.includes('<p class="no-memory">no Managed Heap memory in this session</p>'));
  assert.ok(!page.includes('chart-managedHeap'));
  const empty = modelOf({});
  assert.deepEqual(chartSpecs(empty), []);
  assert.equal(renderReport(empty, '').match(/class="no-memory"/g)?.length, 8);
});

test('each y axis names what it shows', () => {
  const titles = (model: ReportModel) => Object.fromEntries(chartSpecs(model).map((s) => [s.id, s.yTitle]));
  assert.deepEqual(titles(native), { stacked: 'committed', private: 'committed', heap: 'committed', stack: 'committed', native: 'committed', total: 'committed', ws: 'bytes' });
  const ws = titles({ ...native, metric: 'ws' });
  assert.equal(ws.heap, 'working set');
  assert.equal(ws.ws, 'working set (resident)');
  assert.equal(titles({ ...native, totalWs: native.totalWs.map(() => NaN) }).ws, 'committed');
});

test('a PNG\'s configuration: session id, label and shortened command in the title; the same round axes', () => {
  const spec = chartSpecs(native).find((s) => s.id === 'heap')!;
  const config = pngChartConfig(spec, native.session, 990);
  const [chartTitle, sessionLine] = config.options!.plugins!.title!.text as string[];
  assert.equal(chartTitle, spec.title);
  assert.equal(sessionLine, 'leakwatch session 7 "nightly build 1234": /opt/service/bin/server --config /etc/service/production.ya…');
  const command = sessionLine.slice(sessionLine.indexOf(': ') + 2);
  assert.equal([...command].length, 60);
  assert.equal(pngChartConfig(spec, { ...native.session, label: null, command: 'sleep\n 5' }, 990).options!.plugins!.title!.text![1], 'leakwatch session 7: sleep 5');
  const { x, y } = config.options!.scales! as Record<string, Record<string, unknown> & { ticks: Record<string, unknown> }>;
  assert.equal(x.ticks.stepSize, niceDurationStep(990));
  assert.deepEqual([y.min, y.max, y.ticks.stepSize], [spec.y.min, spec.y.max, spec.y.stepSize]);
  const label = y.ticks.callback as (value: number, index: number) => string;
  assert.deepEqual(spec.y.labels.map((_, i) => label(spec.y.min + i * spec.y.stepSize, i)), spec.y.labels);
});

// chartjs-node-canvas (and canvas under it) are optional: render only where they load.
const RENDERER_PACKAGE: string = 'chartjs-node-canvas';
const canvasPresent = await import(RENDERER_PACKAGE).then(() => true, () => false);

test('with canvas present, writePngs renders every chart', { skip: !canvasPresent && 'chartjs-node-canvas is not installed' }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-charts-'));
  try {
    const files = await writePngs(native, dir, 'session-7');
    assert.deepEqual(files.map((f) => path.basename(f)), chartSpecs(native).map((s) => `session-7-${s.id}.png`));
    for (const file of files) assert.deepEqual([...readFileSync(file).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
