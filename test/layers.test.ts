/**
 * The layers of src/, read from the imports themselves: arrows only go down the pipeline (collect → store → analyse
 * → report; watch and the use cases above them; the CLI on top), and no module imports itself back through others.
 * Type-only imports count: a type that flows upwards is a design that does.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './helpers/targets.js';

const SRC = path.join(repoRoot(), 'src');

/** What each part of src/ may import besides itself. Anything not listed is against the layers. */
const ALLOWED: Record<string, readonly string[]> = {
  errors: [],
  vocabulary: ['errors'],
  collector: ['vocabulary', 'errors'],
  import: ['vocabulary', 'errors', 'collector'],
  db: ['vocabulary', 'errors', 'collector'],
  analysis: ['vocabulary', 'errors', 'collector', 'db'],
  report: ['vocabulary', 'errors', 'collector', 'db', 'analysis'],
  watch: ['vocabulary', 'errors', 'collector', 'db', 'analysis'],
  session: ['vocabulary', 'errors', 'collector', 'import', 'db', 'analysis', 'report', 'watch'],
  cli: ['vocabulary', 'errors', 'collector', 'import', 'db', 'analysis', 'report', 'watch', 'session'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(file) : entry.name.endsWith('.ts') ? [file] : [];
  });
}

/** The part of src/ a file belongs to: its folder, or the file's own name for the modules at the top. */
const partOf = (file: string) => path.relative(SRC, file).split(path.sep)[0].replace(/\.ts$/, '');

/** Every relative module a file imports (static, dynamic, type-only, re-export), as source file paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)'(\.[^']+)'/gm)].map((m) => m[1]);
  return specifiers.map((s) => path.resolve(path.dirname(file), s).replace(/\.js$/, '.ts'));
}

const files = sourceFiles(SRC);
const graph = new Map(files.map((file) => [file, importsOf(file)]));

test('the import scanner sees the imports (a check of the check)', () => {
  const cliIndex = graph.get(path.join(SRC, 'cli', 'index.ts'))!;
  assert.ok(cliIndex.includes(path.join(SRC, 'cli', 'commands', 'index.ts')));
  assert.ok(graph.get(path.join(SRC, 'session', 'report.ts'))!.includes(path.join(SRC, 'report', 'html.ts')), 'dynamic imports count');
  for (const [file, imports] of graph) for (const target of imports) assert.ok(graph.has(target), `${path.relative(SRC, file)} imports ${path.relative(SRC, target)}, which is not a file of src/`);
});

test('every part of src/ is in the layer table, and every import goes down the layers', () => {
  const against: string[] = [];
  for (const [file, imports] of graph) {
    const from = partOf(file);
    assert.ok(from in ALLOWED, `${path.relative(SRC, file)}: '${from}' is not in the layer table`);
    for (const target of imports) {
      const to = partOf(target);
      if (to !== from && !ALLOWED[from].includes(to)) against.push(`${path.relative(SRC, file)} → ${path.relative(SRC, target)} (${from} may not import ${to})`);
    }
  }
  assert.deepEqual(against, []);
});

test('no import cycles, within a part or across parts', () => {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, trail: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      cycles.push([...trail.slice(trail.indexOf(file)), file].map((f) => path.relative(SRC, f)).join(' → '));
      return;
    }
    state.set(file, 'open');
    for (const target of graph.get(file) ?? []) visit(target, [...trail, file]);
    state.set(file, 'done');
  };
  for (const file of files) visit(file, []);
  assert.deepEqual(cycles, []);
});
