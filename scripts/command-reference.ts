/**
 * The README's command reference: the `--help` text of every command, rendered from the program itself at a fixed
 * width so it does not depend on the terminal. `npm run docs` rewrites the block between the markers in README.md;
 * test/readme-reference.test.ts checks that the README holds what `commandReference()` renders. Importing this file
 * writes nothing: only running it as a program does.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { buildProgram } from '../src/cli/index.js';

export const REFERENCE_START = '<!-- command-reference:start -->';
export const REFERENCE_END = '<!-- command-reference:end -->';
/** The width the README's help texts are wrapped at. */
export const REFERENCE_WIDTH = 100;

/**
 * What `leakwatch <command> --help` prints when its output is `width` columns wide (80 where stdout is not a
 * terminal): commander's help and the text added after it (the Examples). `helpInformation()` alone leaves out the
 * added text, so the help is written through `outputHelp()` into a string.
 */
export function helpText(command: Command, width: number): string {
  let text = '';
  command.configureOutput({ writeOut: (s: string) => (text += s), getOutHelpWidth: () => width, getOutHasColors: () => false });
  command.outputHelp();
  return text;
}

/** The block between the markers: a heading and a fenced help text per command, in the program's order. */
export function commandReference(): string {
  const sections = buildProgram().commands.map((command) =>
    `#### leakwatch ${command.name()}\n\n\`\`\`text\n${helpText(command, REFERENCE_WIDTH).trimEnd()}\n\`\`\``);
  return `${REFERENCE_START}\n${sections.join('\n\n')}\n${REFERENCE_END}`;
}

/** The block README.md holds now, markers included; throws when the markers are missing or out of order. */
export function readmeReference(readme: string): { start: number; end: number; block: string } {
  const start = readme.indexOf(REFERENCE_START);
  const end = readme.indexOf(REFERENCE_END);
  if (start < 0 || end < start || readme.indexOf(REFERENCE_START, start + 1) >= 0) {
    throw new Error(`README.md needs exactly one ${REFERENCE_START} … ${REFERENCE_END} block`);
  }
  return { start, end: end + REFERENCE_END.length, block: readme.slice(start, end + REFERENCE_END.length) };
}

/** Rewrites README.md's block; returns whether it changed. */
export function updateReadme(file: string): boolean {
  const readme = readFileSync(file, 'utf8');
  const { start, end, block } = readmeReference(readme);
  const reference = commandReference();
  if (block === reference) return false;
  writeFileSync(file, readme.slice(0, start) + reference + readme.slice(end));
  return true;
}

// dist/scripts/command-reference.js → the repository's README.md
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const readme = fileURLToPath(new URL('../../README.md', import.meta.url));
  console.log(updateReadme(readme) ? `${readme}: command reference rewritten` : `${readme}: command reference up to date`);
}
