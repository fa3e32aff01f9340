/**
 * The command line: builds the commander program and maps every failure to one line on stderr and an exit code.
 * Exit codes: 0 success, 1 a leak was found (analysis gates), 2 usage or input error, 70 internal error.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { LeakwatchError } from '../errors.js';
import { analyzeCommand } from './commands/analyze.js';
import { demoCommand } from './commands/demo.js';
import { compareCommand, exportCommand, importCommand, pruneCommand, queryCommand, regionsCommand, sessionsCommand, showCommand } from './commands/history.js';
import { reportCommand } from './commands/report.js';
import { snapshotCommand } from './commands/snapshot.js';
import { runCommand, watchCommand } from './commands/watch.js';

export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 70;

function packageVersion(): string {
  // dist/src/cli/index.js → the repository's package.json
  return JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).version;
}

export function buildProgram(): Command {
  const program = new Command('leakwatch')
    .description('Memory-leak detector: VMMap-style memory types of a process, over time.')
    .version(packageVersion())
    .exitOverride()
    .showSuggestionAfterError();
  const commands = [
    snapshotCommand(), watchCommand(), runCommand(), analyzeCommand(), reportCommand(), sessionsCommand(), showCommand(),
    queryCommand(), regionsCommand(), compareCommand(), exportCommand(), importCommand(), pruneCommand(), demoCommand(),
  ];
  for (const command of commands) program.addCommand(command.exitOverride());
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has already printed its one-line message (or the help text).
      return error.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (error instanceof LeakwatchError) {
      process.stderr.write(`leakwatch: ${error.message}\n`);
      return error.exitCode;
    }
    const detail = process.env.LEAKWATCH_DEBUG ? (error as Error).stack : (error as Error).message;
    process.stderr.write(`leakwatch: internal error: ${detail} (set LEAKWATCH_DEBUG=1 for the stack)\n`);
    return EXIT_INTERNAL;
  }
}
