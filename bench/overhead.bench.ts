/**
 * What leakwatch costs, as a user pays it: one table (measure / now / goal / ratio to a baseline measured in the
 * same run) and bench/results.json. Every row runs leakwatch as its own process, as a user runs it.
 *
 * - CPU per sample of a whole `watch` process (utime + stime of /proc/PID/stat, all its threads), read right after
 *   its first sample is stored and again at the end, divided by the samples stored in between: start-up and the
 *   first tick (the full region list) are left out. The baseline is bench/proc-reader.c reading the same /proc
 *   file into one buffer (the kernel's cost), run on the same target in the same run.
 * - smaps and maps-only tick alone: solved from the two watches (each stores which ticks read smaps).
 * - Storage: a watch of a target that remaps every 50 ms, and of the steady one; page bytes from `dbstat`.
 * - Start-up, and the read commands on long sessions built in SQL from a 5 s recording (test/helpers/long-session.ts):
 *   wall time and peak RSS of each command in its own process (bench/peak-rss.ts).
 * - Peer: an RSS-only sampler (bench/rss-sampler.ts, what psrecord/pidusage read each tick) of the same target.
 *
 * Run: npm run bench (about 4 minutes), or `npm run bench -- --quick` (about 1.5 minutes: shorter watches,
 * smaller long sessions, fewer rounds).
 */
import Database from 'better-sqlite3';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { lengthenSession, recordShortSession } from '../test/helpers/long-session.js';
import { repoRoot } from '../test/helpers/targets.js';
import { measureCommand } from './measure-command.js';

const QUICK = process.argv.includes('--quick') || process.env.LEAKWATCH_BENCH_QUICK === '1';
/** Seconds each measured watch runs after its first sample. */
const WATCH_SECONDS = QUICK ? 10 : 30;
const ROOT = repoRoot();
const BIN = path.join(ROOT, 'bin', 'leakwatch.js');
const RSS_SAMPLER = fileURLToPath(new URL('./rss-sampler.js', import.meta.url));
/** USER_HZ: the unit of utime and stime in /proc/PID/stat (100 on every Linux leakwatch supports). */
const CLOCK_TICKS_PER_S = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];

interface Row {
  measure: string;
  now: string;
  goal: string;
  ratio: string;
  values: Record<string, number>;
}
const rows: Row[] = [];
const row = (measure: string, now: string, goal: string, ratio: string, values: Record<string, number>) => {
  rows.push({ measure, now, goal, ratio, values });
  process.stderr.write(`  ${measure}: ${now}${ratio ? ` (${ratio})` : ''}\n`);
};

/** Compiles bench/<name>.c with -O2 into `dir`. */
function compile(dir: string, name: string): string {
  const binary = path.join(dir, name);
  const build = spawnSync('gcc', ['-O2', '-Wall', '-Wextra', '-o', binary, path.join(ROOT, 'bench', `${name}.c`)], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`gcc ${name}.c failed: ${build.error?.message ?? build.stderr}`);
  return binary;
}

/** A running process and a promise of its exit. */
function start(command: string, args: string[]): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code, signal) => {
    if (code !== 0 && signal !== 'SIGTERM' && signal !== 'SIGKILL') process.stderr.write(`${command} ${args.join(' ')} exited ${code}: ${stderr}\n`);
    resolve(code);
  }));
  return { child, exited };
}

async function startTarget(binary: string, remapMs = 0): Promise<{ pid: number; stop: () => Promise<void> }> {
  const { child, exited } = start(binary, remapMs ? [String(remapMs)] : []);
  const pid = await new Promise<number>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').once('data', (line: string) => resolve(Number(line.trim())));
    child.once('error', reject);
  });
  return { pid, stop: async () => { child.kill('SIGKILL'); await exited; } };
}

/** utime + stime of a process, all its threads, in ms (man 5 proc: fields 14 and 15 of /proc/PID/stat). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
}

/** Page bytes per table and index (dbstat), all together, and the samples stored with and without smaps. */
function storage(db: Database.Database): { bytes: number; byTable: Record<string, number>; samples: number; smaps: number } {
  const byTable = Object.fromEntries((db.prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name').all() as { name: string; bytes: number }[])
    .map((r) => [r.name, r.bytes]));
  const counts = db.prepare('SELECT count(*) AS samples, coalesce(sum(with_usage), 0) AS smaps FROM samples').get() as { samples: number; smaps: number };
  return { bytes: Object.values(byTable).reduce((a, b) => a + b, 0), byTable, ...counts };
}

interface Sampled {
  cpuMsPerSample: number;
  samples: number;
  smapsShare: number;
  bytesPerSample: number;
  byTable: Record<string, number>;
}

/**
 * Runs `watch` on `pid` for WATCH_SECONDS after its first stored sample; CPU and storage between that sample and
 * the end (so neither start-up nor the first tick's full region list is counted).
 */
async function measureWatch(dir: string, name: string, pid: number, every: string, seconds = WATCH_SECONDS): Promise<Sampled> {
  const file = path.join(dir, `${name}.db`);
  const watch = start(process.execPath, [BIN, 'watch', String(pid), '--every', every, '--db', file, '--quiet']);
  const watcher = watch.child.pid!;
  let db: Database.Database | undefined;
  let first: ReturnType<typeof storage> | undefined;
  while (first === undefined) {
    await sleep(20);
    if (db === undefined && existsSync(file)) db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const now = db && storage(db);
      if (now && now.samples >= 1) first = now;
    } catch {
      // The watch has not created its tables yet: ask again on the next turn.
    }
  }
  const cpuStart = cpuMs(watcher);
  await sleep(seconds * 1000);
  const cpuEnd = cpuMs(watcher);
  const last = storage(db!);
  watch.child.kill('SIGTERM');
  await watch.exited;
  db!.close();
  const samples = last.samples - first.samples;
  const byTable = Object.fromEntries(Object.entries(last.byTable).map(([table, bytes]) => [table, (bytes - (first!.byTable[table] ?? 0)) / samples]));
  return {
    cpuMsPerSample: (cpuEnd - cpuStart) / samples, samples, smapsShare: (last.smaps - first.smaps) / samples,
    bytesPerSample: (last.bytes - first.bytes) / samples, byTable,
  };
}

/** The same for the RSS-only peer sampler (its samples are the lines of its output file). */
async function measurePeer(dir: string, pid: number, intervalMs: number): Promise<number> {
  const out = path.join(dir, 'peer.txt');
  const peer = start(process.execPath, [RSS_SAMPLER, String(pid), String(intervalMs), out]);
  const lines = () => (existsSync(out) ? readFileSync(out, 'latin1').split('\n').length - 1 : 0);
  while (lines() < 1) await sleep(20);
  const [cpuStart, firstLines] = [cpuMs(peer.child.pid!), lines()];
  await sleep(WATCH_SECONDS * 1000);
  const [cpuEnd, lastLines] = [cpuMs(peer.child.pid!), lines()];
  peer.child.kill('SIGTERM');
  await peer.exited;
  return (cpuEnd - cpuStart) / (lastLines - firstLines);
}

/** CPU µs per round of proc-reader (median of 5 runs of `rounds`). */
function bareRead(reader: string, pid: number, mode: 'smaps' | 'maps' | 'rss', rounds: number): number {
  return median(Array.from({ length: 5 }, () => {
    const run = spawnSync(reader, [String(pid), mode, String(rounds)], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`proc-reader ${mode}: ${run.stderr}`);
    return Number(run.stdout.split(' ')[0]) / 1000;
  }));
}

/** Median wall time of `rounds` runs of a command, in ms. */
function wallMs(command: string, args: string[], rounds: number): number {
  return median(Array.from({ length: rounds }, () => {
    const begin = performance.now();
    const run = spawnSync(command, args, { stdio: 'ignore' });
    if (run.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${run.status}`);
    return performance.now() - begin;
  }));
}

const ms = (value: number) => (value >= 100 ? `${value.toFixed(0)} ms` : value >= 10 ? `${value.toFixed(1)} ms` : `${value.toFixed(2)} ms`);
const s = (value: number) => `${value.toFixed(2)} s`;
const x = (value: number) => `${value.toFixed(value >= 10 ? 0 : value >= 2 ? 1 : 2)}×`;
const pct = (value: number) => `${(value * 100).toFixed(value < 0.1 ? 1 : 0)} %`;

const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-bench-'));
const binaries = path.join(dir, 'bin');
mkdirSync(binaries);
try {
  const reader = compile(binaries, 'proc-reader');
  const churn = compile(binaries, 'churn-target');
  const load = readFileSync('/proc/loadavg', 'latin1').split(' ').slice(0, 3).join(' ');

  // Rows 1–3 and 9: two watches and the peer on one steady target, at once (the same load for all three).
  process.stderr.write(`watching a steady target for ${WATCH_SECONDS} s at 1 s and at 100 ms, for 30 s at 3 s, and the RSS-only peer at 100 ms…\n`);
  const steady = await startTarget(churn);
  const mappings = readFileSync(`/proc/${steady.pid}/maps`, 'latin1').split('\n').length - 1;
  // A third watch at 3 s reads smaps on more of its ticks than the other two: with the 100 ms one it gives the
  // smaps and the maps-only tick alone. Its 30 s make 10 samples however short the run.
  const [slow, fast, peer, slowest] = await Promise.all([
    measureWatch(dir, 'steady-1s', steady.pid, '1s'), measureWatch(dir, 'steady-100ms', steady.pid, '100ms'), measurePeer(dir, steady.pid, 100),
    measureWatch(dir, 'steady-3s', steady.pid, '3s', 30),
  ]);
  const bare = { smaps: bareRead(reader, steady.pid, 'smaps', 100), maps: bareRead(reader, steady.pid, 'maps', 500), rss: bareRead(reader, steady.pid, 'rss', 2000) };
  await steady.stop();
  row(`CPU per sample of \`watch --every 1s\` (${mappings} mappings; smaps on ${pct(slow.smapsShare)} of ticks)`,
    `${ms(slow.cpuMsPerSample)} = ${pct(slow.cpuMsPerSample / 1000)} of a core`, '≤ 1.3× the bare smaps read, < 0.5 % of a core',
    `${x(slow.cpuMsPerSample / bare.smaps)} a bare smaps read (${ms(bare.smaps)})`, { cpuMsPerSample: slow.cpuMsPerSample, smapsShare: slow.smapsShare, samples: slow.samples, bareSmapsMs: bare.smaps });
  row(`CPU per sample of \`watch --every 100ms\` (smaps on ${pct(fast.smapsShare)} of ticks)`, ms(fast.cpuMsPerSample), '≤ 1.0× the bare smaps read',
    `${x(fast.cpuMsPerSample / bare.smaps)} a bare smaps read, ${x(fast.cpuMsPerSample / bare.maps)} a bare maps read (${ms(bare.maps)})`,
    { cpuMsPerSample: fast.cpuMsPerSample, smapsShare: fast.smapsShare, samples: fast.samples, bareMapsMs: bare.maps });
  // cpu = share × smapsTick + (1 − share) × mapsTick for the 100 ms watch and for the 1 s and 3 s ones pooled (more
  // of their ticks read smaps, as the budget allows): two equations, two unknowns. What the process does per second
  // rather than per tick (timers, GC, WAL checkpoints) weighs more per sample at 1 s and 3 s and lands on the smaps
  // tick: the smaps tick comes out high, the maps-only tick slightly low.
  const pooledSamples = slow.samples + slowest.samples;
  const pooledSmaps = Math.round(slow.smapsShare * slow.samples + slowest.smapsShare * slowest.samples);
  const pooled = { cpu: (slow.cpuMsPerSample * slow.samples + slowest.cpuMsPerSample * slowest.samples) / pooledSamples, share: pooledSmaps / pooledSamples };
  const shares = pooled.share - fast.smapsShare;
  const tickValues = { pooledCpuMsPerSample: pooled.cpu, pooledSmapsShare: pooled.share, pooledSmapsTicks: pooledSmaps, slowestCpuMsPerSample: slowest.cpuMsPerSample, slowestSmapsShare: slowest.smapsShare };
  if (pooledSmaps >= 2 && shares >= 0.03) {
    const smapsTick = (pooled.cpu * (1 - fast.smapsShare) - fast.cpuMsPerSample * (1 - pooled.share)) / shares;
    const mapsTick = (fast.cpuMsPerSample * pooled.share - pooled.cpu * fast.smapsShare) / shares;
    const rough = pooledSmaps < 10 ? `; rough: from ${pooledSmaps} smaps ticks` : '';
    row(`smaps tick alone (solved from the 100 ms watch and the 1 s and 3 s ones; high: per-second work counts as smaps${rough})`, `~${ms(smapsTick)}`, '≤ 1.3× the bare smaps read', `${x(smapsTick / bare.smaps)} the bare read`,
      { smapsTickMs: smapsTick, ...tickValues });
    row('maps-only tick alone (solved from the same; slightly low)', `~${ms(mapsTick)}`, '≤ 2× the bare maps read', `${x(mapsTick / bare.maps)} the bare read (${ms(bare.maps)})`, { mapsTickMs: mapsTick });
  } else {
    row('smaps / maps-only tick alone', 'not solvable', '≤ 1.3× / ≤ 2× the bare read',
      `the budget let too few ticks read smaps (${pooledSmaps} of ${pooledSamples} at 1 s and 3 s, ${pct(fast.smapsShare)} at 100 ms)`, tickValues);
  }
  row('peer: RSS-only sampler (Node, reads stat + status each tick) at 100 ms', ms(peer), 'leakwatch ≤ 2 ms with all nine types',
    `leakwatch at 100 ms: ${x(fast.cpuMsPerSample / peer)} it; a bare C read of stat + status ${ms(bare.rss)}`, { peerCpuMsPerSample: peer, bareRssMs: bare.rss });

  // Row 4: storage.
  process.stderr.write(`watching a target that remaps every 50 ms for ${WATCH_SECONDS} s at 100 ms…\n`);
  const remapping = await startTarget(churn, 50);
  const churned = await measureWatch(dir, 'remap-100ms', remapping.pid, '100ms');
  await remapping.stop();
  const split = (sampled: Sampled) => Object.entries(sampled.byTable).filter(([, bytes]) => bytes >= 1).sort((a, b) => b[1] - a[1])
    .map(([table, bytes]) => `${table} ${bytes.toFixed(0)}`).join(', ');
  row(`storage per sample, a target that remaps every 50 ms (${churned.samples} samples at 100 ms after the first)`, `${churned.bytesPerSample.toFixed(0)} B`, '≤ 150 B',
    `by table and index: ${split(churned)}`, { bytesPerSample: churned.bytesPerSample, samples: churned.samples, ...churned.byTable });
  row(`storage per sample, steady target (${fast.samples} samples at 100 ms after the first)`, `${fast.bytesPerSample.toFixed(0)} B`, '≤ 80 B',
    `by table and index: ${split(fast)}`, { bytesPerSample: fast.bytesPerSample, samples: fast.samples, ...fast.byTable });

  // Row 5: start-up.
  const rounds = QUICK ? 5 : 11;
  const nodeStart = wallMs(process.execPath, ['-e', '0'], rounds);
  const help = wallMs(process.execPath, [BIN, '--help'], rounds);
  row('`leakwatch --help` start-up (wall, median)', s(help / 1000), '≤ 1.3× `node -e 0`', `${x(help / nodeStart)} \`node -e 0\` (${s(nodeStart / 1000)})`, { helpMs: help, nodeMs: nodeStart });

  // Rows 6–8: long sessions built in SQL from one short recording.
  process.stderr.write('recording 5 s of a leaking program and building long sessions from it…\n');
  const short = path.join(dir, 'short.db');
  const template = await recordShortSession(short);
  const build = (name: string, ticks: number, intervalMs: number) => {
    const file = path.join(dir, `${name}.db`);
    copyFileSync(short, file);
    return { file, id: String(lengthenSession(file, template, { ticks, intervalMs })), ticks };
  };
  const scale = QUICK ? 4 : 1;
  const halfDay = build('12h-250ms', (12 * 3600 * 4) / scale, 250);
  const halfDayName = QUICK ? '3 h @ 250 ms (quick; 12 h in a full run)' : '12 h @ 250 ms';
  const exported = await measureCommand(['cli', 'export', halfDay.id, '--format', 'json', '--db', halfDay.file]);
  const halfDayRows = await measureCommand(['rows', halfDay.file, halfDay.id]);
  row(`\`export --format json\` of ${halfDayName}, ${halfDay.ticks.toLocaleString('en')} ticks`, `${s(exported.seconds)}, ${exported.peakMiB.toFixed(0)} MiB peak RSS`, '< 3 s, < 150 MB (streamed)',
    `${x(exported.seconds / halfDayRows.seconds)} the time, ${x(exported.peakMiB / halfDayRows.peakMiB)} the RSS of node reading every stored sample value (${s(halfDayRows.seconds)}, ${halfDayRows.peakMiB.toFixed(0)} MiB)`,
    { seconds: exported.seconds, peakMiB: exported.peakMiB, baselineSeconds: halfDayRows.seconds, baselinePeakMiB: halfDayRows.peakMiB });
  rmSync(halfDay.file);

  const day = build('24h-1s', 24 * 3600, 1000);
  /** Median wall time of three runs of a leakwatch command. */
  const thrice = async (args: string[]) => {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) times.push((await measureCommand(['cli', ...args])).seconds);
    return median(times);
  };
  const query = await thrice(['query', day.id, '--from', '1h', '--to', '2h', '--format', 'csv', '--db', day.file]);
  const idle = await thrice(['sessions', '--db', short]);
  row('`query --from 1h --to 2h` of a 24 h @ 1 Hz session (whole process)', `${s(query)}; ${ms(Math.max(0, query - idle) * 1000)} beyond start-up`, '< 50 ms for an hour\'s range (range in SQL)',
    `start-up: \`sessions\` on a one-session database ${s(idle)}`, { seconds: query, startupSeconds: idle });
  rmSync(day.file);

  // The 12 h @ 1 Hz figures of the analysis and report sections, and `sessions` over 10,000 sessions.
  const twelve = build('12h-1s', (12 * 3600) / scale, 1000);
  const twelveName = QUICK ? '3 h @ 1 Hz (quick; 12 h in a full run)' : '12 h @ 1 Hz';
  const twelveAnalyze = await measureCommand(['cli', 'analyze', twelve.id, '--json', '--db', twelve.file]);
  row(`${twelveName}: \`analyze\``, `${s(twelveAnalyze.seconds)}, ${twelveAnalyze.peakMiB.toFixed(0)} MiB peak RSS`, '—', `${s(Math.max(0, twelveAnalyze.seconds - idle))} beyond start-up`,
    { seconds: twelveAnalyze.seconds, peakMiB: twelveAnalyze.peakMiB });
  const html = path.join(dir, 'report-12h.html');
  const twelveReport = await measureCommand(['cli', 'report', twelve.id, '-o', html, '--db', twelve.file]);
  row(`${twelveName}: \`report\` (HTML)`, `${s(twelveReport.seconds)}, ${(statSync(html).size / 1024).toFixed(0)} KiB file`, '—', `${s(Math.max(0, twelveReport.seconds - idle))} beyond start-up`,
    { seconds: twelveReport.seconds, peakMiB: twelveReport.peakMiB, fileBytes: statSync(html).size });
  rmSync(twelve.file);
  const many = path.join(dir, 'many.db');
  copyFileSync(short, many);
  const client = new Database(many);
  const columns = (client.prepare('PRAGMA table_info(sessions)').all() as { name: string }[]).map((c) => c.name).filter((c) => c !== 'id');
  client.prepare(`INSERT INTO sessions (${columns.join(', ')}) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 9999)
    SELECT ${columns.map((c) => (c === 'label' ? "'nightly-' || i" : c)).join(', ')} FROM n, sessions WHERE id = ?`).run(template);
  client.close();
  const listed = await thrice(['sessions', '--db', many]);
  row('`sessions` over 10,000 sessions', s(listed), '—', `${ms(Math.max(0, listed - idle) * 1000)} beyond start-up`, { seconds: listed });

  const week = build('7d-1s', (7 * 86400) / scale, 1000);
  const weekName = QUICK ? '1.75 days @ 1 s (quick; 7 days in a full run)' : '7 days @ 1 s';
  const weekRows = await measureCommand(['rows', week.file, week.id]);
  const commands: [string, string[], string][] = [
    ['analyze', ['analyze', week.id, '--json'], '< 1 s'],
    ['report', ['report', week.id, '-o', path.join(dir, 'report.html')], '< 2 s'],
    ['query --every 1h', ['query', week.id, '--every', '1h', '--format', 'csv'], '< 0.3 s'],
    ['export (csv)', ['export', week.id], 'streamed, < 100 MB'],
  ];
  for (const [name, args, goal] of commands) {
    const m = await measureCommand(['cli', ...args, '--db', week.file]);
    row(`${weekName} (${week.ticks.toLocaleString('en')} ticks): \`${name}\``, `${s(m.seconds)}, ${m.peakMiB.toFixed(0)} MiB peak RSS`, goal,
      `${x(m.seconds / weekRows.seconds)} the time, ${x(m.peakMiB / weekRows.peakMiB)} the RSS of node reading every stored sample value`,
      { seconds: m.seconds, peakMiB: m.peakMiB });
  }
  rows.at(-1)!.values.baselineSeconds = weekRows.seconds;
  rows.at(-1)!.values.baselinePeakMiB = weekRows.peakMiB;

  const header = `overhead of leakwatch (${QUICK ? 'quick run' : 'full run'}; load average ${load} at the start; baselines: bench/proc-reader.c reading the same /proc file into one buffer, ` +
    `node reading every stored value of the same session's samples in ${s(weekRows.seconds)} / ${weekRows.peakMiB.toFixed(0)} MiB)`;
  console.log(`\n${header}\n`);
  console.log('| measure | now | goal | ratio to a baseline of the same run |');
  console.log('| --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.measure} | ${r.now} | ${r.goal} | ${r.ratio} |`);
  const results = path.join(ROOT, 'bench', 'results.json');
  writeFileSync(results, `${JSON.stringify({ measuredAt: new Date().toISOString(), quick: QUICK, loadAverage: load, watchSeconds: WATCH_SECONDS, mappings, rows }, null, 2)}\n`);
  console.log(`\nwritten: ${path.relative(process.cwd(), results)} (${statSync(results).size} bytes)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
