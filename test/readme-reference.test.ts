/** README.md's command reference is what the program's --help prints: `npm run docs` writes it, this test checks it. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { commandReference, readmeReference } from '../scripts/command-reference.js';
import { repoRoot } from './helpers/targets.js';

test("README's command reference is the --help of every command", () => {
  const readme = readFileSync(path.join(repoRoot(), 'README.md'), 'utf8');
  const { block } = readmeReference(readme);
  assert.equal(block, commandReference(), "README's command reference is out of date: run npm run docs");
  // It sits at the end of ## Commands.
  const at = readme.indexOf(block);
  assert.ok(readme.lastIndexOf('\n## Commands\n', at) >= 0 && readme.lastIndexOf('\n### Command reference\n', at) > readme.lastIndexOf('\n## Commands\n', at));
  const after = readme.slice(at + block.length);
  assert.match(after, /^\s*\n## /, 'the reference ends ## Commands: the next section follows it');
});
