/**
 * The Wine harness itself: `npm run wine` runs this checkout's CLI with Windows Node, the Windows test programs run
 * and say where their memory is, and Windows Node with koffi sees that memory from another process (what the
 * Windows collector will do). Skipped, with the reason, where Wine or mingw-w64 is missing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { MEM_COMMIT, MEM_IMAGE, MEM_MAPPED, MEM_PRIVATE, MEM_RESERVE } from '../src/collector/windows/structs.js';
import { windowsPath } from '../src/collector/wine/setup.js';
import { outputOf, runCli } from './helpers/cli.js';
import { sleep } from './helpers/live.js';
import { repoRoot } from './helpers/targets.js';
import {
  buildWindowsTarget, ensureWine, runLeakwatchUnderWine, runWindowsScript, startWindowsTarget, stopWine, wineAvailable,
  type Allocation, type AllocReport, type LeakReport,
} from './helpers/wine.js';

const skip = wineAvailable().reason;
const MiB = 1024 * 1024;
const PAGE_READWRITE = 0x04;

let scratch: string;
before(() => {
  if (skip) return;
  ensureWine();
  scratch = mkdtempSync(path.join(tmpdir(), 'leakwatch-wine-test-'));
});
after(() => {
  stopWine();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

interface Probe {
  error?: string;
  ticks: number;
  memory: { privateUsage: number; workingSetSize: number; pagefileUsage: number };
  regions: { baseAddress: number; allocationBase: number; regionSize: number; state: number; protect: number; type: number }[];
}

/** test/targets/windows/probe.mjs on a Windows pid: its memory counters and VirtualQueryEx at each address. */
async function probe(pid: number, addresses: number[] = []): Promise<Probe> {
  const out = path.join(scratch, `probe-${pid}-${Date.now()}.json`);
  const run = await runWindowsScript(path.join(repoRoot(), 'test', 'targets', 'windows', 'probe.mjs'), [windowsPath(out), String(pid), ...addresses.map(String)]);
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(readFileSync(out, 'utf8')) as Probe;
  assert.equal(result.error, undefined);
  return result;
}

test('npm run wine -- --version: the CLI runs under Windows Node and its output comes out of npm', { skip }, async () => {
  const version = (JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  const npm = spawn('npm', ['run', '--silent', 'wine', '--', '--version'], { cwd: repoRoot(), env: ensureWine().env, stdio: ['ignore', 'pipe', 'pipe'] });
  const result = await outputOf(npm);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `${version}\n`);
});

test('under Wine: the help is what Linux prints, and an error keeps its exit code and its line on stderr', { skip }, async () => {
  const [windows, linux] = await Promise.all([runLeakwatchUnderWine(['--help']), runCli(['--help'])]);
  assert.equal(windows.code, 0, windows.stderr);
  assert.equal(windows.stdout, linux.stdout);
  const wrong = await runLeakwatchUnderWine(['nosuch']);
  assert.deepEqual(wrong, { code: 2, stdout: '', stderr: "leakwatch: unknown command 'nosuch'\n" });
});

test('alloc.exe reports its allocations, and Windows Node with koffi finds each one from another process', { skip }, async () => {
  const target = await startWindowsTarget<AllocReport>(buildWindowsTarget('alloc'));
  try {
    const one = <K extends Allocation['kind']>(kind: K) => target.report.allocations.find((a) => a.kind === kind) as Extract<Allocation, { kind: K }>;
    const count = (kind: Allocation['kind']) => target.report.allocations.filter((a) => a.kind === kind).length;
    assert.deepEqual([count('image'), count('virtualAlloc'), count('heap'), count('heapBlock'), count('section'), count('mappedFile'), count('threadStack')],
      [1, 1, 1, 17, 1, 1, 3]);
    const [image, va, section, file] = [one('image'), one('virtualAlloc'), one('section'), one('mappedFile')];
    assert.match(file.path, /^Z:\\.*\\out\.json\.dat$/);

    const { regions } = await probe(target.pid, [va.address, va.address + va.committed, section.address, file.address, image.address]);
    const [committed, reserved, sectionView, fileView, imageStart] = regions;
    assert.deepEqual([committed!.baseAddress, committed!.allocationBase, committed!.regionSize, committed!.state, committed!.protect, committed!.type],
      [va.address, va.address, va.committed, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE]);
    assert.deepEqual([reserved!.allocationBase, reserved!.regionSize, reserved!.state, reserved!.type],
      [va.address, va.size - va.committed, MEM_RESERVE, MEM_PRIVATE]);
    assert.deepEqual([sectionView!.allocationBase, sectionView!.regionSize, sectionView!.type], [section.address, section.size, MEM_MAPPED]);
    assert.deepEqual([fileView!.allocationBase, fileView!.type], [file.address, MEM_MAPPED]);
    assert.deepEqual([imageStart!.allocationBase, imageStart!.type], [image.address, MEM_IMAGE]);
  } finally {
    assert.equal(await target.stop(), 0);
  }
});

test('leak.exe grows at the rate it is given, as Windows counts its committed bytes', { skip }, async () => {
  const kibPerStep = 256;
  const msPerStep = 100;
  const target = await startWindowsTarget<LeakReport>(buildWindowsTarget('leak'), ['heap', String(kibPerStep), String(msPerStep)]);
  try {
    assert.deepEqual([target.report.mode, target.report.kibPerStep, target.report.msPerStep], ['heap', kibPerStep, msPerStep]);
    const first = await probe(target.pid);
    await sleep(2000);
    const second = await probe(target.pid);
    // PagefileUsage, the commit charge: Wine leaves PrivateUsage 0.
    const bytesPerSecond = (second.memory.pagefileUsage - first.memory.pagefileUsage) / ((second.ticks - first.ticks) / 1000);
    const expected = (kibPerStep * 1024 * 1000) / msPerStep;
    assert.ok(Math.abs(bytesPerSecond - expected) < 0.25 * expected,
      `committed bytes grew ${(bytesPerSecond / MiB).toFixed(2)} MiB/s, expected ${(expected / MiB).toFixed(2)} MiB/s`);
  } finally {
    assert.equal(await target.stop(), 0);
  }
});
