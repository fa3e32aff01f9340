/**
 * Target- and user-controlled strings (labels, command lines, hosts, region details, file paths) reach the terminal
 * with their control characters made visible: no command's table or line can move the cursor, retitle the window
 * or clear the screen.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { type CliResult, runCli } from './helpers/cli.js';
import { validDump } from './helpers/dump.js';
import { startAllocTarget } from './helpers/targets.js';

/** OSC retitle ended by BEL, clear screen, a carriage return, DEL and the one-byte CSI of C1. */
const HOSTILE = '\u001b]0;pwned\u0007\u001b[2J\rX\u007f\u009b31m';
const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-printable-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** No control character but the line break, none of C1 either; and the hostile string was shown, escaped. */
function assertPrintable(text: string, what: string, shown = true): void {
  const bad = [...text].find((c) => {
    const code = c.codePointAt(0)!;
    return (code < 0x20 && c !== '\n') || (code >= 0x7f && code <= 0x9f);
  });
  assert.equal(bad, undefined, `${what}: ${JSON.stringify(text.slice(0, 600))}`);
  if (shown) assert.ok(text.includes('\\x1b]0;pwned\\x07\\x1b[2J'), `${what} shows the string escaped: ${JSON.stringify(text.slice(0, 600))}`);
}

function assertAllPrintable(result: CliResult, what: string, shownIn: 'stdout' | 'stderr' | 'both' | 'none' = 'stdout'): void {
  assert.equal(result.code, 0, `${what}: ${result.stderr}`);
  assertPrintable(result.stdout, `${what} (stdout)`, shownIn === 'stdout' || shownIn === 'both');
  assertPrintable(result.stderr, `${what} (stderr)`, shownIn === 'stderr' || shownIn === 'both');
}

test('an imported session with control characters in its label, command, host and region details: every command shows them escaped', async () => {
  const hostileDir = path.join(dir, `in${HOSTILE.replace(/\r/g, '')}`);
  mkdirSync(hostileDir);
  const db = path.join(dir, 'hostile.db');
  const file = path.join(hostileDir, 'session.json');
  writeFileSync(file, JSON.stringify(validDump({ label: HOSTILE, command: `/usr/bin/app ${HOSTILE}`, host: HOSTILE, details: `/lib/${HOSTILE}.so` })));
  const imported = await runCli(['import', file, '--db', db]);
  assert.equal(imported.code, 0, imported.stderr);
  assertPrintable(imported.stdout, 'import');
  // A second session, imported with a hostile --label too.
  assert.equal((await runCli(['import', file, '--db', db, '--label', `again ${HOSTILE}`])).code, 0);
  const report = path.join(hostileDir, 'report.html');
  const commands = [
    ['sessions'], ['sessions', '--label', '*'], ['show', '1'], ['show', '2'], ['analyze', '1'], ['compare', '1', '2'],
    ['regions', '1'], ['regions', '1', '--diff', '0s..1h'], ['prune', '--keep', '0', '--dry-run'], ['report', '1', '-o', report],
  ];
  for (const args of commands) assertAllPrintable(await runCli([...args, '--db', db]), args.join(' '));
  // query prints only numbers; checked for stray bytes all the same.
  assertAllPrintable(await runCli(['query', '1', '--db', db]), 'query', 'none');
  // An error line naming a hostile path stays one printable line.
  const missing = await runCli(['show', '9', '--db', path.join(hostileDir, 'none.db')]);
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /^leakwatch: [^\n]+\n$/);
  assertPrintable(missing.stderr, 'error line');
});

test('run and snapshot of processes whose command line and mapped file names hold control characters', async () => {
  const db = path.join(dir, 'run.db');
  const script = 'setTimeout(() => {}, 2500)';
  const ran = await runCli(['run', '--every', '250ms', '--duration', '1s', '--label', HOSTILE, '--db', db, '--', process.execPath, '-e', script, HOSTILE], { timeoutMs: 30_000 });
  // The start line (stderr) and the closing line (stdout) name the command; the closing line the database.
  assertAllPrintable(ran, 'run', 'stderr');
  assertAllPrintable(await runCli(['sessions', '--db', db]), 'sessions after run');
  assertAllPrintable(await runCli(['show', '1', '--db', db]), 'show after run');

  const child = spawn(process.execPath, ['-e', script, HOSTILE], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => setTimeout(resolve, 300));
    assertAllPrintable(await runCli(['snapshot', String(child.pid)]), 'snapshot');
  } finally {
    child.kill('SIGKILL');
  }
  // A mapped file whose name holds the string: the region's details.
  const target = await startAllocTarget();
  try {
    const mapped = path.join(dir, `map${HOSTILE.replace(/[\r ]/g, '')}.bin`);
    await target.send(`mapfile ${mapped} 65536`);
    const regions = await runCli(['snapshot', String(target.pid), '--regions']);
    assert.equal(regions.code, 0, regions.stderr);
    assertPrintable(regions.stdout, 'snapshot --regions', false);
    assert.ok(regions.stdout.includes('map\\x1b]0;pwned\\x07\\x1b[2JX\\x7f\\x9b31m.bin'), regions.stdout);
  } finally {
    await target.stop();
  }
});
