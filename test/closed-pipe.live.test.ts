/**
 * A reader that goes away (`leakwatch export 1 | head -c 10`) ends the command quietly with exit 0, through a real
 * pipe from bash; a closed stderr never ends a watch. The session is inflated with SQL until every output is many
 * times the 64 KiB pipe buffer, so the pipe closes while leakwatch is still writing.
 */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { outputOf, runCli } from './helpers/cli.js';
import { repoRoot } from './helpers/targets.js';

const TICK_COPIES = 500;
const SESSION_COPIES = 5000;
const PIPE_BUFFER = 64 * 1024;

let dir: string;
let db: string;

/** Repeats the session's ticks (new seq and times) and its session row, so that every listing is large. */
function inflate(file: string): void {
  const sqlite = new Database(file);
  try {
    const columns = (sqlite.prepare(`SELECT name FROM pragma_table_info('samples') WHERE name <> 'id'`).pluck().all() as string[]);
    const { ticks, span } = sqlite.prepare('SELECT max(seq) + 1 AS ticks, max(elapsed_ms) + 100 AS span FROM samples').get() as { ticks: number; span: number };
    const shifted = columns.map((c) => (c === 'seq' ? `seq + k * ${ticks}` : c === 'taken_at' || c === 'elapsed_ms' ? `${c} + k * ${span}` : c));
    const sessionColumns = (sqlite.prepare(`SELECT name FROM pragma_table_info('sessions') WHERE name <> 'id'`).pluck().all() as string[]).join(', ');
    sqlite.exec(`
      WITH RECURSIVE copy(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM copy WHERE k < ${TICK_COPIES})
      INSERT INTO samples (${columns.join(', ')}) SELECT ${shifted.join(', ')} FROM samples, copy;
      UPDATE processes SET last_seq = (SELECT max(seq) FROM samples);
      WITH RECURSIVE copy(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM copy WHERE k < ${SESSION_COPIES})
      INSERT INTO sessions (${sessionColumns}) SELECT ${sessionColumns} FROM sessions, copy WHERE sessions.id = 1;
    `);
  } finally {
    sqlite.close();
  }
}

interface PipeResult {
  /** leakwatch's own exit code (PIPESTATUS), not the reader's. */
  code: number;
  stderr: string;
  /** What the reader printed. */
  read: string;
}

/** Runs `leakwatch <args> | <reader>` in bash, through a real pipe. */
async function throughPipe(args: string[], reader: string): Promise<PipeResult> {
  const script = `set -o pipefail; "$@" | ${reader}; echo "leakwatch exit \${PIPESTATUS[0]}"`;
  const { stdout, stderr } = await outputOf(spawn('bash', ['-c', script, 'bash', process.execPath, path.join(repoRoot(), 'bin', 'leakwatch.js'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  }));
  const match = /leakwatch exit (\d+)\n$/.exec(stdout);
  assert.ok(match, `no exit status from bash: ${stdout.slice(-200)} ${stderr}`);
  return { code: Number(match[1]), stderr, read: stdout.slice(0, match.index) };
}

/** The full output's size, to show that it is far larger than what the pipe holds. */
async function outputSize(args: string[]): Promise<number> {
  const result = await runCli(args);
  assert.equal(result.code, 0, result.stderr);
  return Buffer.byteLength(result.stdout);
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-pipe-'));
  db = path.join(dir, 'pipe.db');
  const recorded = await runCli(['run', '--every', '100ms', '--duration', '2s', '--db', db, '--', 'sleep', '5']);
  assert.equal(recorded.code, 0, recorded.stderr);
  inflate(db);
});

after(() => rmSync(dir, { recursive: true, force: true }));

const readers: [string[], string, RegExp][] = [
  [['export', '1', '--format', 'json'], 'head -c 10', /^\{"format":/],
  [['export', '1', '--format', 'csv'], 'head -c 10', /^time,secon/],
  [['query', '1', '--format', 'csv'], 'head -n 1', /^time,seconds,[a-zA-Z,]+\n$/],
  [['sessions'], 'head -n 1', /^ID +LABEL/],
];

for (const [command, reader, firstBytes] of readers) {
  test(`${command.join(' ')} | ${reader}: exit 0, nothing on stderr`, async () => {
    const args = [...command, '--db', db];
    assert.ok((await outputSize(args)) > 4 * PIPE_BUFFER, 'the output is far larger than the pipe buffer');
    const result = await throughPipe(args, reader);
    assert.equal(result.stderr, '');
    assert.equal(result.code, 0);
    assert.match(result.read, firstBytes);
  });
}

test('a watch whose stdout reader is gone ends quietly after recording, exit 0', async () => {
  const watchDb = path.join(dir, 'gone-stdout.db');
  const result = await throughPipe(['run', '--every', '100ms', '--duration', '2s', '--db', watchDb, '--', 'sleep', '5'], 'true');
  // Only the heartbeat's start line and the warning that 2 s is too short to judge: no error about the closed stdout.
  assert.match(result.stderr, /^session 1 → .*: running pid \d+ \(sleep 5\) every 100ms for 2s\nleakwatch: warning: --duration 2s is too short[^\n]*\n$/);
  assert.equal(result.code, 0);
  const sessions = await runCli(['sessions', '--json', '--db', watchDb]);
  assert.deepEqual(JSON.parse(sessions.stdout).map((s: { endReason: string }) => s.endReason), ['duration']);
});

test('a watch whose stderr reader is gone keeps recording and exits 0', async () => {
  const watchDb = path.join(dir, 'gone-stderr.db');
  const child = spawn(process.execPath, [path.join(repoRoot(), 'bin', 'leakwatch.js'), 'run', '--json', '--every', '100ms', '--duration', '2s', '--db', watchDb, '--', 'sleep', '5'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  // --json puts the closing summary on stderr: its write fails with EPIPE.
  child.stderr.destroy();
  const { code, stdout } = await outputOf(child);
  assert.equal(code, 0, stdout);
  const last = JSON.parse(stdout.trim().split('\n').at(-1)!);
  assert.equal(last.endReason, 'duration');
  assert.ok(last.samples >= 15, `${last.samples} samples`);
});
