/**
 * Windows programs under Wine, sampled from Linux (`snapshot --wine`, `watch --wine`): the Windows collector runs in
 * Windows Node under Wine and answers the Linux side, which stores, analyses and reports as for any session. A
 * Windows leak is found end to end: a session stored as win32-x64, `analyze --fail-on-leak` exiting 1 on the right
 * type at the leak's rate.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { runCli } from './helpers/cli.js';
import { query, startCli, until } from './helpers/live.js';
import { type AllocReport, buildWindowsTarget, ensureWine, type LeakReport, startWindowsTarget, stopWine, wineAvailable } from './helpers/wine.js';

const skip = wineAvailable().reason;
const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-wine-watch-'));
after(() => {
  stopWine();
  rmSync(dir, { recursive: true, force: true });
});

const MiB = 1024 * 1024;
/** The CLI on Linux, pointed at the test file's Wine prefix. */
const wineEnv = () => ({ ...process.env, WINEPREFIX: ensureWine().prefix });

// Each leak: 256 KiB every 100 ms (2.5 MiB/s, 80 MiB over the 32 s watch), through VirtualAlloc (Private) or
// HeapAlloc on the process heap (Heap: under Wine its growth lands in further segments, Wine's subheaps, found by
// their list in the heap's header, the PEB heap list being empty).
const LEAKS = [['virtual', 'private'], ['heap', 'heap']] as const;
type LeakMode = (typeof LEAKS)[number][0];

/** A 32 s `watch --wine` of leak.exe in a mode: its database, closing JSON and target's Windows pid. */
async function recordLeak(mode: LeakMode) {
  const target = await startWindowsTarget<LeakReport>(buildWindowsTarget('leak'), [mode, '256', '100']);
  const db = path.join(dir, `${mode}.db`);
  try {
    const watch = await runCli(['watch', String(target.pid), '--wine', '--every', '250ms', '--duration', '32s', '--db', db, '--json'], { env: wineEnv(), timeoutMs: 180_000 });
    return { db, watch, pid: target.pid };
  } finally {
    await target.stop();
  }
}
// Both recorded at once, from the start, while the other tests run: the Wine part of CI stays short.
const recordings = skip === undefined ? new Map(LEAKS.map(([mode]) => [mode, recordLeak(mode)])) : undefined;
// A failure is reported by the test that awaits it, not as an unhandled rejection.
for (const recording of recordings?.values() ?? []) recording.catch(() => undefined);

for (const [mode, type] of LEAKS) {
  test(`watch --wine: a Windows program leaking through ${mode === 'virtual' ? 'VirtualAlloc' : 'HeapAlloc'} is recorded as win32-x64, and analyze --fail-on-leak flags ${type === 'private' ? 'Private' : 'Heap'} at its rate`, { skip }, async () => {
    const { db, watch, pid } = await recordings!.get(mode)!;
    assert.equal(watch.code, 0, watch.stderr);
    const result = JSON.parse(watch.stdout) as { session: number; samples: number; endReason: string };
    assert.equal(result.endReason, 'duration');
    assert.ok(result.samples >= 80, `${result.samples} samples in 32 s at 250 ms`);
    const [session] = query<{ platform: string; target_pid: number; command: string }>(db, 'SELECT platform, target_pid, command FROM sessions');
    assert.equal(session.platform, 'win32-x64');
    assert.equal(session.target_pid, pid);
    assert.match(session.command, /leak\.exe/i);

    const analyze = await runCli(['analyze', '1', '--db', db, '--json', '--fail-on-leak']);
    assert.equal(analyze.code, 1, `a leak fails the gate: ${analyze.stderr}`);
    const findings = (JSON.parse(analyze.stdout) as { findings: { type: string; verdict: string; slopeBytesPerHour: number }[] }).findings;
    const verdict = (row: string) => findings.find((f) => f.type === row)!;
    assert.equal(verdict(type).verdict, 'leak');
    const expected = (256 * 1024 / 0.1) * 3600;
    assert.ok(Math.abs(verdict(type).slopeBytesPerHour / expected - 1) < 0.2, `${verdict(type).slopeBytesPerHour} B/h vs ${expected}`);
    for (const other of ['private', 'heap', 'stack', 'managedHeap'].filter((t) => t !== type)) assert.notEqual(verdict(other).verdict, 'leak', `${other} does not leak`);
    // The report reads it like any session.
    const html = path.join(dir, `${mode}.html`);
    const report = await runCli(['report', '1', '--db', db, '-o', html]);
    assert.equal(report.code, 0, report.stderr);
    assert.ok(existsSync(html));
  });
}

test('snapshot --wine: alloc.exe through the remote collector, each known allocation in its type', { skip }, async () => {
  const target = await startWindowsTarget<AllocReport>(buildWindowsTarget('alloc'));
  try {
    const result = await runCli(['snapshot', String(target.pid), '--wine', '--json'], { env: wineEnv(), timeoutMs: 120_000 });
    assert.equal(result.code, 0, result.stderr);
    const snapshot = JSON.parse(result.stdout) as { pid: number; regions: { start: string; type: string; size: number; details: string }[]; types: Record<string, { committed: number }> };
    assert.equal(snapshot.pid, target.pid);
    const typeAt = (address: number) => snapshot.regions.find((r) => BigInt(`0x${r.start}`) <= BigInt(address) && BigInt(address) < BigInt(`0x${r.start}`) + BigInt(r.size))?.type;
    for (const allocation of target.report.allocations) {
      const expected = { image: 'image', section: 'shareable', virtualAlloc: 'private', mappedFile: 'mappedFile', threadStack: 'stack' }[allocation.kind as string];
      if (expected === undefined) continue; // heaps: see windows-collector.live (Wine has no PEB heap list)
      assert.equal(typeAt(allocation.address), expected, `${allocation.kind} at ${allocation.address.toString(16)}`);
    }
    assert.ok(snapshot.types.private.committed >= 4 * MiB, 'the 4 MiB committed by VirtualAlloc');
  } finally {
    await target.stop();
  }
});

test('--wine: a pid Wine does not have is one line and exit 2; a watch killed with SIGKILL leaves no Windows collector behind', { skip }, async () => {
  const missing = await runCli(['snapshot', '999999', '--wine'], { env: wineEnv(), timeoutMs: 120_000 });
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /^leakwatch: [^\n]+\n$/);

  const target = await startWindowsTarget<LeakReport>(buildWindowsTarget('leak'), ['virtual', '64', '100']);
  try {
    const db = path.join(dir, 'killed.db');
    const running = startCli(['watch', String(target.pid), '--wine', '--every', '250ms', '--db', db, '--quiet'], { env: wineEnv() });
    await until('samples stored', () => {
      try {
        return query<{ n: number }>(db, 'SELECT count(*) AS n FROM samples')[0].n >= 4;
      } catch {
        return false;
      }
    }, 120_000);
    const near = running.child.pid!;
    assert.equal(farSidesOf(near).length, 1, 'the Windows collector runs while the watch does');
    running.child.kill('SIGKILL');
    await running.done;
    // The far side notices within a second or two that the near side is gone, and ends.
    await until('no Windows collector left', () => farSidesOf(near).length === 0, 15_000);
  } finally {
    await target.stop();
  }
});

/** The processes running the far side (node.exe … serve.js … Z:\proc\<near>) of a near side's remote collector. */
function farSidesOf(near: number): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return argv.some((a) => a.endsWith('serve.js')) && argv.includes(`Z:\\proc\\${near}`);
    } catch {
      return false;
    }
  });
}
