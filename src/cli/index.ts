/**
 * The command line: builds the commander program and maps every failure to one line on stderr and an exit code.
 * Exit codes are in the vocabulary (EXIT); a reader of stdout that went away (`leakwatch export 4 | head`) ends the
 * command quietly with 0.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { LeakwatchError } from '../errors.js';
import { commands } from './commands/index.js';
import { printable } from '../report/text.js';
import { carryOnWithoutStderr, writeStderr } from '../session/terminal.js';
import { EXIT } from '../vocabulary.js';


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
  // One prefix for every error line, commander's own (unknown option, missing argument) included, and one line:
  // commander's suggestion ("\n(Did you mean --json?)") joins the message.
  const output = { outputError: (text: string, write: (text: string) => void) => write(`leakwatch: ${text.replace(/^error: /, '').replace(/\n(?=.)/g, ' ')}`) };
  program.configureOutput(output);
  for (const command of commands()) program.addCommand(command.exitOverride().configureOutput(output));
  return program;
}

/** The one line for an error nobody expected; its stack only with LEAKWATCH_DEBUG. */
function internalError(error: Error): number {
  const detail = process.env.LEAKWATCH_DEBUG ? error.stack : printable(error.message);
  writeStderr(`leakwatch: internal error: ${detail} (set LEAKWATCH_DEBUG=1 for the stack)\n`);
  return EXIT.internal;
}

/**
 * EPIPE on stdout: its reader went away, which is not an error, and nothing more can be said. The process ends
 * at once, quietly, with the exit code the command has set (0 while it still runs). The handler is on the stream,
 * so it covers one big write, a streamed one (waiting for 'drain') and writes after the pipe closed. Commands write
 * to stdout before or after a recording, never while a target runs, so none is left behind.
 */
function endQuietlyWhenStdoutCloses(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit();
    process.exit(internalError(error));
  });
}

export async function main(argv: string[]): Promise<number> {
  endQuietlyWhenStdoutCloses();
  carryOnWithoutStderr();
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has already printed its one-line message (or the help text).
      return error.exitCode === 0 ? 0 : EXIT.usage;
    }
    if (error instanceof LeakwatchError) {
      // One line, whatever a path or a stored string in it holds.
      writeStderr(`leakwatch: ${printable(error.message)}\n`);
      return error.exitCode;
    }
    return internalError(error as Error);
  }
}
