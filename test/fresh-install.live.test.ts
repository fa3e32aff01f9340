/**
 * Installs anywhere: the checked-out tree (tracked and untracked, not ignored files) is copied to a temporary
 * directory and installed with `npm ci --omit=optional`, as where canvas cannot compile and npm drops
 * chartjs-node-canvas. The build (prepare) and the demo must work; `report --png` says what to install.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { assertPngUnavailable, outputOf, runCli, type CliResult } from './helpers/cli.js';
import { repoRoot } from './helpers/targets.js';

// npm ci compiles better-sqlite3 (1-3 minutes on two busy cores).
const INSTALL_TIMEOUT_MS = 15 * 60_000;

let dir: string;
let checkout: string;

/** Copies what is checked out, not just HEAD; a tracked file deleted in the working tree is not part of it. */
function copyWorkingTree(to: string): void {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: repoRoot(), encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of files.filter((f) => existsSync(path.join(repoRoot(), f)))) {
    mkdirSync(path.dirname(path.join(to, file)), { recursive: true });
    copyFileSync(path.join(repoRoot(), file), path.join(to, file));
  }
}

function npmCiWithoutOptional(cwd: string): Promise<CliResult> {
  // JOBS=max: node-gyp compiles better-sqlite3 on every core (make -j), the longest part of the install.
  return outputOf(spawn('npm', ['ci', '--omit=optional', '--no-audit', '--no-fund'], { cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: INSTALL_TIMEOUT_MS, env: { ...process.env, JOBS: 'max' } }));
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-fresh-'));
  checkout = path.join(dir, 'leakwatch');
  copyWorkingTree(checkout);
  const install = await npmCiWithoutOptional(checkout);
  assert.equal(install.code, 0, (install.stdout + install.stderr).slice(-3000));
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('npm ci without the optional packages installs and builds', () => {
  assert.equal(existsSync(path.join(checkout, 'node_modules', 'chartjs-node-canvas')), false);
  assert.equal(existsSync(path.join(checkout, 'node_modules', 'canvas')), false);
  for (const built of ['src/cli/index.js', 'src/report/png.js']) {
    assert.ok(existsSync(path.join(checkout, 'dist', built)), `prepare built dist/${built}`);
  }
});

test('the demo records, analyses and writes its report without canvas', async () => {
  const db = path.join(dir, 'd.db');
  const result = await runCli(['demo', '--duration', '5s', '--db', db], { root: checkout });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(existsSync(db));
  assert.ok(existsSync(path.join(dir, 'leakwatch-demo-report.html')));
});

test('report --png without canvas: one line naming what to install, exit 2', async () => {
  const result = await runCli(['report', '1', '--db', path.join(dir, 'd.db'), '-o', path.join(dir, 'r.html'), '--png', path.join(dir, 'charts')], { root: checkout });
  assertPngUnavailable(result);
});
