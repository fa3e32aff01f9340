/**
 * Platform code loads only where it runs: on Linux no command resolves koffi (the Windows collector's only import of
 * it), `--help` included. Seen by a module resolution hook that logs every `koffi` specifier, checked first on a
 * script that does import it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { repoRoot } from './helpers/targets.js';

const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-platform-loading-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const log = path.join(dir, 'koffi.log');
writeFileSync(path.join(dir, 'hook.mjs'), `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  if (specifier === 'koffi' || specifier.startsWith('koffi/')) appendFileSync(${JSON.stringify(log)}, specifier + '\\n');
  return next(specifier, context);
}
`);
writeFileSync(path.join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister('./hook.mjs', import.meta.url);\n`);

/** Runs node with the hook, which must succeed; returns the koffi specifiers it resolved. */
function koffiResolved(args: string[]): string[] {
  rmSync(log, { force: true });
  const result = spawnSync(process.execPath, ['--import', path.join(dir, 'register.mjs'), ...args], { cwd: repoRoot(), encoding: 'utf8', timeout: 60_000 });
  assert.equal(result.status, 0, `${args.join(' ')}: ${result.stderr}`);
  return existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
}

test('on Linux, no command loads koffi: --help, snapshot, a short watch, the database readers', () => {
  // The hook sees an import of koffi (the control: a test that could not fail proves nothing).
  assert.deepEqual(koffiResolved(['--input-type=module', '-e', "await import('koffi').catch(() => {})"]), ['koffi']);
  const cli = path.join(repoRoot(), 'bin', 'leakwatch.js');
  const db = path.join(dir, 'l.db');
  for (const args of [['--help'], ['snapshot', '--help'], ['snapshot', String(process.pid), '--json'], ['watch', String(process.pid), '--every', '100ms', '--duration', '300ms', '--db', db, '--quiet'], ['sessions', '--db', db], ['report', '1', '--db', db, '-o', path.join(dir, 'r.html')]]) {
    assert.deepEqual(koffiResolved([cli, ...args]), [], args.join(' '));
  }
});
