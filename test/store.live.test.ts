/**
 * Storage against a real process and a real SQLite file: samples of a process whose mappings change between ticks,
 * then every tick's region set rebuilt from an earlier full list plus the deltas must equal the full list the
 * collector stored at that tick (full lists are written every tick here, only to have the truth to compare with).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { linuxCollector } from '../src/collector/linux/index.js';
import { openForWrite } from '../src/db/open.js';
import { regionsAt } from '../src/db/regions.js';
import { sortedRegions } from '../src/db/region-deltas.js';
import { closeAbandonedSessions, SessionWriter } from '../src/db/store.js';
import { startAllocTarget } from './helpers/targets.js';

const MiB = 1024 * 1024;
const identity = ({ totalWs: _t, privateWs: _p, ...r }: { totalWs?: number; privateWs?: number }) => r;

test('region deltas rebuild the exact region set of every later tick', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-store-'));
  const target = await startAllocTarget();
  try {
    const db = openForWrite(path.join(dir, 'test.db'));
    const probe = linuxCollector.open(target.pid);
    const first = probe.sample({ usage: true });
    const writer = SessionWriter.create(db, {
      command: first.command, mode: 'watch', targetPid: target.pid, targetStartTime: first.startTime, host: hostname(),
      platform: 'linux', intervalMs: 1000, followChildren: false, startedAt: Date.now(), collectorPid: process.pid,
      collectorStartTime: linuxCollector.startTimeOf(process.pid)!,
    }, 1);
    // Each step changes the mappings: new regions, a grown heap, a new thread stack, regions that merge, one that
    // goes; an empty step changes nothing, and the probe hands out the same region objects again where it can.
    const steps = ['', `mmap ${4 * MiB}`, '', `malloc ${8 * MiB}`, `thread ${MiB}`, '', 'many 50', `reserve ${16 * MiB}`, '', 'unmap', `arena ${4 * MiB}`, ''];
    let mmapAddr = '';
    for (const [seq, step] of steps.entries()) {
      const reply = step && (await target.send(step === 'unmap' ? `unmap ${4 * MiB} ${mmapAddr}` : step));
      if (step.startsWith('mmap')) mmapAddr = (reply as Record<string, string>).addr;
      // Without usage now and then (seq 3, 7, 11): the next tick has the same regions with working sets added.
      const usage = seq % 4 !== 3;
      const snapshot = seq === 0 ? first : probe.sample({ usage });
      writer.recordTick({ seq, takenAt: Date.now(), elapsedMs: seq * 1000, samples: [{ snapshot, withUsage: usage, parentPid: undefined }] });
    }
    const processId = 1;
    for (let seq = 1; seq < steps.length; seq++) {
      const stored = sortedRegions(regionsAt(db, processId, seq)).map(identity);
      const rebuilt = sortedRegions(regionsAt(db, processId, seq, 0)).map(identity);
      assert.ok(stored.length > 0);
      assert.deepEqual(rebuilt, stored, `tick ${seq}`);
    }
    // A removed row is the region as the tick before had it, working sets included.
    const rows = (seq: number, kind: string) => db.$client.prepare(`SELECT r.start, r."end", r.type, r.protection, r.size, r.committed, r.total_ws, r.private_ws, r.details
      FROM regions r JOIN samples s ON s.id = r.sample_id WHERE s.seq = ? AND r.kind = ? ORDER BY r.id`).all(seq, kind) as { start: number }[];
    const unmapSeq = steps.indexOf('unmap');
    const removed = rows(unmapSeq, 'removed');
    assert.ok(removed.length > 0, 'the unmapped region is removed');
    for (const row of removed) assert.deepEqual(row, rows(unmapSeq - 1, 'full').find((r) => r.start === row.start));
    // The rebuilt set really changed over the ticks (the test would be empty otherwise).
    assert.ok(regionsAt(db, processId, steps.length - 1, 0).size > regionsAt(db, processId, 0).size + 40);
    db.$client.close();
  } finally {
    await target.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a session whose collector is gone is closed as interrupted at its last sample', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-store-'));
  try {
    const db = openForWrite(path.join(dir, 'test.db'));
    const snapshot = linuxCollector.snapshot(process.pid, { usage: false });
    const session = (collectorPid: number, collectorStartTime: string) => SessionWriter.create(db, {
      command: 'x', mode: 'watch', targetPid: process.pid, targetStartTime: snapshot.startTime, host: hostname(),
      platform: 'linux', followChildren: false, startedAt: 1000, collectorPid, collectorStartTime,
    });
    const dead = session(process.pid, '2000-01-01T00:00:00.000Z'); // our pid, another start time: a dead collector
    dead.recordTick({ seq: 0, takenAt: 5000, elapsedMs: 0, samples: [{ snapshot, withUsage: false, parentPid: undefined }] });
    const alive = session(process.pid, linuxCollector.startTimeOf(process.pid)!);
    const closed = closeAbandonedSessions(db, hostname(), (pid, startTime) => linuxCollector.startTimeOf(pid) === startTime);
    assert.equal(closed, 1);
    const rows = db.$client.prepare('SELECT id, end_reason, ended_at FROM sessions ORDER BY id').all();
    assert.deepEqual(rows, [
      { id: dead.id, end_reason: 'interrupted', ended_at: 5000 },
      { id: alive.id, end_reason: null, ended_at: null },
    ]);
    db.$client.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
