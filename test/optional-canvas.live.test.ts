/**
 * PNG charts are optional. With chartjs-node-canvas hidden by a resolve hook (as where npm dropped it), `report --png`
 * says what to install in one line (exit 2), and no other command loads the PNG code or the package.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { assertPngUnavailable, runCli, type CliResult } from './helpers/cli.js';
import { repoRoot } from './helpers/targets.js';

let dir: string;
let db: string;
let moduleLog: string;

const hooks = pathToFileURL(path.join(repoRoot(), 'dist', 'test', 'helpers', 'without-canvas.js')).href;
const registerHooks = `import { register } from 'node:module'; register(${JSON.stringify(hooks)});`;

/** Runs the CLI without the canvas packages; returns its result and the modules it resolved. */
async function cliWithoutCanvas(args: string[]): Promise<CliResult & { modules: string[] }> {
  writeFileSync(moduleLog, '');
  const result = await runCli(args, {
    nodeArgs: ['--import', `data:text/javascript,${encodeURIComponent(registerHooks)}`],
    env: { ...process.env, LEAKWATCH_TEST_MODULE_LOG: moduleLog },
  });
  return { ...result, modules: readFileSync(moduleLog, 'utf8').split('\n').filter(Boolean) };
}

const loadsPng = (modules: string[]) => modules.filter((url) => /\/report\/png\.js$|chartjs-node-canvas|\/canvas\//.test(url));

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-nocanvas-'));
  db = path.join(dir, 'nocanvas.db');
  moduleLog = path.join(dir, 'modules.log');
  const recorded = await cliWithoutCanvas(['run', '--every', '100ms', '--duration', '2s', '--db', db, '--', 'sleep', '5']);
  assert.equal(recorded.code, 0, recorded.stderr);
  assert.deepEqual(loadsPng(recorded.modules), []);
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('report --png without the optional packages: one line naming the Debian and Fedora packages, exit 2', async () => {
  const result = await cliWithoutCanvas(['report', '1', '--db', db, '-o', path.join(dir, 'r.html'), '--png', path.join(dir, 'charts')]);
  assertPngUnavailable(result);
  assert.ok(result.modules.some((url) => url.endsWith('/report/png.js')), 'the module log sees the PNG code load');
});

test('no other command loads the PNG code or chartjs-node-canvas', async () => {
  const commands = [
    ['--help'], ['report', '--help'], ['--version'],
    ['snapshot', String(process.pid)],
    ['sessions', '--db', db], ['show', '1', '--db', db], ['query', '1', '--format', 'csv', '--db', db],
    ['export', '1', '--format', 'json', '--db', db], ['analyze', '1', '--db', db], ['regions', '1', '--db', db],
    ['compare', '1', '1', '--db', db], ['report', '1', '--db', db, '-o', path.join(dir, 'report.html')],
  ];
  for (const args of commands) {
    const result = await cliWithoutCanvas(args);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    assert.ok(result.modules.length > 0, `${args.join(' ')}: the module log is written`);
    assert.deepEqual(loadsPng(result.modules), [], args.join(' '));
  }
  assert.ok(existsSync(path.join(dir, 'report.html')));
});
