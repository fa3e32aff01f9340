/**
 * `npm run wine -- <leakwatch arguments>`: this checkout's CLI (bin/leakwatch.js, run from dist/) under Wine with
 * Windows Node, set up on first use (setup.ts), in $WINEPREFIX when it is set (so it sees the Windows processes
 * started there) or in a private prefix in the cache. Output comes out on this process's stdout and stderr (node.ts
 * says how), the exit code is the CLI's (128 + the signal's number when it was killed). Windows has no SIGTERM or
 * SIGHUP (Wine kills the program on them), so those become Ctrl-C (SIGINT), which the CLI ends its work on.
 * Setup problems: one line on stderr, exit 2.
 */
import { constants } from 'node:os';
import path from 'node:path';
import { spawnWindowsNode, type Sink } from './node.js';
import { checkoutRoot, setupWine, type WineSetup } from './setup.js';

const say = (line: string) => process.stderr.write(`leakwatch wine: ${line}\n`);

/** A terminal is handed over; anything else gets the output written to it as it comes (EPIPE ends that quietly). */
function sink(stream: NodeJS.WriteStream): Sink {
  if (stream.isTTY) return 'inherit';
  let open = true;
  stream.on('error', () => (open = false)); // the reader went away: the rest is dropped, the CLI runs on
  return (chunk) => {
    if (open) stream.write(chunk);
  };
}

async function main(args: string[]): Promise<number> {
  let setup: WineSetup;
  try {
    setup = setupWine({ log: say });
  } catch (err) {
    say((err as Error).message);
    return 2;
  }
  const { child, exited } = spawnWindowsNode(setup, path.join(checkoutRoot(), 'bin', 'leakwatch.js'), args, {
    stdout: sink(process.stdout),
    stderr: sink(process.stderr),
    // npm runs scripts in the package's folder; relative paths in the arguments mean the caller's.
    cwd: process.env.INIT_CWD ?? process.cwd(),
  });
  const forward = () => child.kill('SIGINT');
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, forward);
  try {
    const { code, signal } = await exited;
    return code ?? 128 + (signal === null ? 0 : constants.signals[signal]);
  } catch (err) {
    say(`could not start wine: ${(err as Error).message}`);
    return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
