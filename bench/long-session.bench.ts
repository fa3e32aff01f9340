/**
 * Every read command on long sessions built from a short real one (test/helpers/long-session.ts): 12 h at 250 ms
 * (172,800 ticks) and 7 days at 1 s (604,800 ticks). Each command runs as its own process, as a user runs it, with
 * its stdout read through a pipe; per command its wall time and peak RSS, against a bare node process reading every
 * stored value of the same session's samples (measured in the same run, so the ratios mean something on a noisy
 * machine). Run: npm run build && node dist/bench/long-session.bench.js (npm run bench runs bench/overhead.bench.ts)
 */
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { lengthenSession, recordShortSession } from '../test/helpers/long-session.js';
import { measureCommand as measure } from './measure-command.js';

const SIZES = [
  { name: '12 h at 250 ms', ticks: 172_800, intervalMs: 250 },
  { name: '7 days at 1 s', ticks: 604_800, intervalMs: 1000 },
];

const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-bench-'));
try {
  const short = path.join(dir, 'short.db');
  const template = await recordShortSession(short);
  for (const size of SIZES) {
    const db = path.join(dir, `${size.ticks}.db`);
    copyFileSync(short, db);
    const buildStart = performance.now();
    const id = String(lengthenSession(db, template, size));
    const built = (performance.now() - buildStart) / 1000;
    const commands = [
      ['sessions'], ['show', id], ['query', id, '--every', '1h', '--format', 'csv'], ['query', id, '--from', '1h', '--to', '2h', '--format', 'csv'],
      ['query', id], ['regions', id], ['analyze', id, '--json'], ['report', id, '-o', path.join(dir, 'report.html')], ['compare', id, id],
      ['export', id], ['export', id, '--format', 'json'],
    ];
    const baseline = await measure(['rows', db, id]);
    console.log(`\n${size.name}: ${size.ticks.toLocaleString('en')} ticks, built in ${built.toFixed(1)} s from a 5 s recording (database ${(statSync(db).size / 2 ** 20).toFixed(0)} MiB)`);
    console.log(`baseline: node reading every stored value of its ${size.ticks.toLocaleString('en')} sample rows: ${baseline.seconds.toFixed(2)} s, ${baseline.peakMiB.toFixed(0)} MiB peak RSS\n`);
    console.log('| command | wall time | peak RSS | vs. baseline (time, RSS) | stdout |');
    console.log('| --- | --- | --- | --- | --- |');
    for (const command of commands) {
      const m = await measure(['cli', ...command, '--db', db]);
      const shown = command.map((a) => (a === id ? '<id>' : a.startsWith(dir) ? path.basename(a) : a)).join(' ');
      console.log(`| ${shown} | ${m.seconds.toFixed(2)} s | ${m.peakMiB.toFixed(0)} MiB | ${(m.seconds / baseline.seconds).toFixed(1)}x, ${(m.peakMiB / baseline.peakMiB).toFixed(1)}x | ${(m.outputBytes / 2 ** 20).toFixed(1)} MiB |`);
    }
    rmSync(db);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
