/**
 * The HTML report of real sessions, opened in headless Chromium (Debian's package, driven by playwright-core): no
 * console errors, every chart drawn, the verdicts readable, and hostile strings from the target shown as text.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { runCli } from './helpers/cli.js';
import { buildCTarget, startRestartingLeaker } from './helpers/targets.js';

const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-report-'));
const db = path.join(dir, 'report.db');
// A file name that is HTML (form feeds separate the attributes: no spaces or slashes needed), and a command-line
// argument that closes the script element.
const hostilePath = path.join(dir, '<img\fsrc=x\fonerror=window.__pwned=1>.bin');
const hostileArgument = '</script><script>window.__pwned=2</script>';
let browser: Browser;
const reports: Record<'leak' | 'hostile' | 'restarts', string> = { leak: '', hostile: '', restarts: '' };
const sessions: Record<'leak' | 'hostile' | 'restarts', number> = { leak: 0, hostile: 0, restarts: 0 };

async function record(args: string[], command: 'run' | 'watch' = 'run'): Promise<number> {
  const run = await runCli([command, '--every', '200ms', '--db', db, '--json', ...args], { timeoutMs: 120_000 });
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout.trimEnd().split('\n').at(-1)!).session;
}

before(async () => {
  const leaker = buildCTarget('leaker');
  // A leaker that crashes after 80 of its ticks (~8 s) and is restarted by a watchdog, followed by its pid file.
  const pidfile = path.join(dir, 'restarting.pid');
  const watchdog = await startRestartingLeaker(pidfile, 'heap', 80);
  const [leak, hostile, restarts] = await Promise.all([
    record(['--duration', '35s', '--', leaker, 'heap']),
    record(['--duration', '35s', '--', leaker, 'mapfile', hostilePath, hostileArgument]),
    record(['--pidfile', pidfile, '--follow', '--duration', '20s'], 'watch').finally(() => watchdog.kill('SIGTERM')),
  ]);
  Object.assign(sessions, { leak, hostile, restarts });
  for (const [name, session] of [['leak', leak], ['hostile', hostile], ['restarts', restarts]] as const) {
    reports[name] = path.join(dir, `${name}.html`);
    const result = await runCli(['report', String(session), '--db', db, '-o', reports[name]]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `report written to ${reports[name]}\n`);
  }
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Opens a report, collecting console errors and uncaught exceptions; fails on any network request. */
async function open(file: string): Promise<{ page: Page; errors: string[]; requests: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 2000 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('request', (request) => !request.url().startsWith('file:') && requests.push(request.url()));
  await page.goto(`file://${file}`);
  await page.waitForFunction(() => document.querySelectorAll('canvas').length > 0);
  return { page, errors, requests };
}

test('a leaking session: no errors, no network, every chart drawn, the verdict readable in seconds', async () => {
  const { page, errors, requests } = await open(reports.leak);
  assert.deepEqual(errors, []);
  assert.deepEqual(requests, [], 'self-contained: nothing is fetched');
  // Each chart canvas has pixels drawn on it (not blank).
  const drawn = await page.$$eval('canvas', (canvases) =>
    canvases.map((canvas) => {
      const { width, height } = canvas;
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, width, height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
      return { id: canvas.id, painted, total: width * height };
    }),
  );
  // A C program has no managed heap: one line says so where its chart would be.
  const notes = await page.$$eval('.no-memory', (elements) => elements.map((p) => p.textContent));
  assert.ok(notes.includes('no Managed Heap memory in this session'), notes.join(', '));
  assert.equal(drawn.length + notes.length, 8, JSON.stringify(drawn.map((d) => d.id)));
  assert.ok(drawn.some((d) => d.id === 'chart-heap') && !drawn.some((d) => d.id === 'chart-managedHeap'));
  for (const d of drawn) assert.ok(d.painted > d.total * 0.01, `${d.id}: ${d.painted} painted pixels`);
  const headline = await page.textContent('h1');
  assert.match(headline!, /Leaking: Heap at [\d.]+ (MiB|GiB)\/h/);
  const heapCard = await page.textContent('.card.leak');
  assert.match(heapCard!, /Heap\s+LEAK/);
  assert.match(heapCard!, /Heap grew .*steadily, no plateau/);
  const regions = await page.textContent('#regions');
  assert.match(regions!, /\[heap\]/);
  // The time-range control narrows every chart.
  await page.fill('#zoom-from', '500');
  const ranges = await page.evaluate(() => (window as unknown as { Chart: { instances: Record<string, { scales: { x: { min: number } } }> } }).Chart.instances);
  for (const chart of Object.values(ranges)) assert.ok(chart.scales.x.min > 10, 'zoomed in');
  await page.close();
});

type Tick = { value: number; label: string };

/** Every chart's axis ticks as chart.js drew them. */
function axisTicks(page: Page): Promise<{ id: string; x: Tick[]; y: Tick[] }[]> {
  return page.$$eval('canvas', (canvases) => {
    const { Chart } = window as unknown as { Chart: { getChart(canvas: HTMLCanvasElement): { scales: Record<'x' | 'y', { ticks: Tick[] }> } } };
    const plain = (ticks: Tick[]) => ticks.map(({ value, label }) => ({ value, label }));
    return canvases.map((canvas) => ({ id: canvas.id, x: plain(Chart.getChart(canvas).scales.x.ticks), y: plain(Chart.getChart(canvas).scales.y.ticks) }));
  });
}

test('every byte axis steps by a round binary amount, never below zero; time by a round duration, zoomed too', async () => {
  const { page, errors } = await open(reports.leak);
  const units: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };
  const check = async () => {
    for (const { id, x, y } of await axisTicks(page)) {
      assert.ok(y.length >= 2 && y.length <= 8, `${id}: ${y.length} y ticks`);
      const unit = /^[\d.]+ (\w+)$/.exec(y[0].label)?.[1] ?? '';
      const step = (y[1].value - y[0].value) / units[unit];
      // 1, 2 or 5 × a power of ten of one binary unit, and each label says its tick's value.
      const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
      assert.ok([1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-6), `${id}: step ${step} ${unit}`);
      y.forEach((tick, i) => {
        assert.ok(tick.value >= 0, `${id}: negative tick ${tick.label}`);
        const [, number, tickUnit] = /^(\d+(?:\.\d+)?) (\w+)$/.exec(tick.label) ?? [];
        assert.equal(tickUnit, unit, `${id}: ${tick.label}`);
        assert.ok(Math.abs(Number(number) * units[unit] - tick.value) <= 1e-6 * units[unit], `${id}: ${tick.label} is not ${tick.value}`);
        if (i > 0) assert.ok(Math.abs(tick.value - y[i - 1].value - step * units[unit]) < 1e-3 * units[unit], `${id}: uneven at ${tick.label}`);
      });
      const seconds = x.map((tick) => tick.value);
      assert.ok(seconds.length >= 2, `${id}: ${seconds.length} x ticks`);
      const every = seconds[1] - seconds[0];
      assert.ok([1, 2, 5, 10, 15, 30, 60].includes(every), `${id}: time step ${every} s`);
      for (const s of seconds) assert.equal(s % every, 0, `${id}: tick at ${s} s`);
    }
  };
  await check();
  await page.fill('#zoom-from', '333');
  await page.fill('#zoom-to', '777');
  await check();
  assert.deepEqual(errors, []);
  await page.close();
});

test('hostile file names and command lines render as text, never run', async () => {
  const { page, errors } = await open(reports.hostile);
  assert.deepEqual(errors, []);
  assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
  assert.equal(await page.locator('img').count(), 0);
  const command = await page.textContent('.command');
  assert.ok(command!.includes(hostileArgument), command!);
  const regions = await page.textContent('#regions');
  assert.ok(regions!.includes(path.basename(hostilePath)), 'the mapped file is listed by its (hostile) name');
  await page.close();
});

test('restarts are marked on every chart\'s time axis and listed in the facts', async () => {
  const { page, errors } = await open(reports.restarts);
  assert.deepEqual(errors, []);
  const facts = await page.textContent('table.facts');
  const listed = /Restarts(\d+), at ((?:\d+:\d\d:\d\d(?:, )?)+)/.exec(facts!);
  assert.ok(listed, facts!);
  const count = Number(listed[1]);
  assert.ok(count >= 1, `${count} restarts`);
  // Every chart carries one 'restart' dataset with a vertical segment per restart, drawn from the restart's time.
  const marks = await page.evaluate(() => {
    const charts = Object.values((window as unknown as { Chart: { instances: Record<string, { data: { datasets: { label: string; data: { x: number; y: number | null }[] }[] } }> } }).Chart.instances);
    return charts.map((chart) => chart.data.datasets.find((d) => d.label === 'restart')?.data.filter((p) => p.y !== null).map((p) => p.x));
  });
  assert.equal(marks.length, await page.locator('canvas').count());
  for (const xs of marks) {
    assert.ok(xs, 'a restart dataset on every chart');
    assert.equal(xs.length, 2 * count);
  }
  await page.close();
});

test('the report is one modest file', () => {
  assert.ok(statSync(reports.leak).size < 2 * 1024 * 1024);
});

/** Decodes enough of a PNG to check it: signature, size, and image data that is not one flat colour. */
function inspectPng(file: string): { width: number; height: number; distinctBytes: number } {
  const png = readFileSync(file);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${file} is a PNG`);
  const idat: Buffer[] = [];
  let width = 0;
  let height = 0;
  for (let pos = 8; pos < png.length; ) {
    const length = png.readUInt32BE(pos);
    const type = png.toString('latin1', pos + 4, pos + 8);
    const body = png.subarray(pos + 8, pos + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
    }
    if (type === 'IDAT') idat.push(body);
    pos += 12 + length;
  }
  const pixels = inflateSync(Buffer.concat(idat));
  return { width, height, distinctBytes: new Set(pixels).size };
}

test('--png writes every chart as a PNG that decodes and is not blank', async () => {
  const pngDir = path.join(dir, 'charts');
  const result = await runCli(['report', '1', '--db', db, '-o', path.join(dir, 'again.html'), '--png', pngDir]);
  assert.equal(result.code, 0, result.stderr);
  const files = readdirSync(pngDir).sort();
  // No chart for the managed heap a C program does not have.
  for (const chart of ['heap', 'native', 'stacked', 'total', 'ws']) assert.ok(files.includes(`session-1-${chart}.png`), `${chart}: ${files.join(', ')}`);
  assert.ok(files.every((file) => /^session-1-\w+\.png$/.test(file) && file !== 'session-1-managedHeap.png'), files.join(', '));
  for (const file of files) {
    const png = inspectPng(path.join(pngDir, file));
    assert.deepEqual([png.width, png.height], [1200, 500]);
    assert.ok(png.distinctBytes > 20, `${file}: only ${png.distinctBytes} distinct byte values`);
  }
});

test('--compare: B leaking where A does not is a regression, said in words and drawn overlaid', async () => {
  const file = path.join(dir, 'compare.html');
  const result = await runCli(['report', '--compare', String(sessions.hostile), String(sessions.leak), '--db', db, '-o', file]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `comparison written to ${file}\n`);
  const { page, errors } = await open(file);
  assert.deepEqual(errors, []);
  assert.match((await page.textContent('h1'))!, /B leaks more than A: Heap, Native$/);
  assert.match((await page.textContent('#differences'))!, /Heap grows faster in B: .* — a regression\./);
  assert.equal(await page.locator('canvas').count(), 3);
  assert.equal(await page.textContent('#gated .no-memory'), 'no Managed Heap memory in either session');
  await page.close();
  const usage = await runCli(['report', '--compare', '1', '--db', db]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--compare needs exactly two session ids, got 1/);
});
