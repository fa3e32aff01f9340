/**
 * Windows Node under Wine: `wine node.exe --import preload.js <script> <args>`, in the set-up prefix, with koffi
 * resolved to its Windows build (see preload.ts).
 *
 * Under Wine, Windows Node fails with EBADF on a stdin, stdout or stderr that is a pipe or a FIFO (measured with Wine
 * 8.0 and Node 20.20.2); a terminal, a file and /dev/null work. So an output stream whose sink is 'inherit' is handed
 * over as it is (for a terminal), and any other goes to a file in a temporary directory that is read as it grows,
 * every 50 ms, and passed on chunk by chunk: the output arrives in order and while the program runs, not only at its
 * end. stdin is /dev/null: leakwatch reads none.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { windowsFileUrl, windowsPath, type WineSetup } from './setup.js';

const POLL_MS = 50;

/** Where an output stream goes: this process's own descriptor (only for a terminal), or a function given each chunk. */
export type Sink = 'inherit' | ((chunk: Buffer) => void);

export interface WindowsNodeOptions {
  stdout: Sink;
  stderr: Sink;
  /** The working directory (Wine maps it to Z:\…); default, this process's. */
  cwd?: string;
}

export interface WindowsNode {
  /** The wine process: under Wine it is node.exe itself (SIGINT reaches it as Ctrl-C, SIGTERM kills it). */
  child: ChildProcess;
  /** Resolves when node.exe has ended and all its output has been passed on. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `node.exe <script> <args>` under Wine; `script` is a Unix path, the arguments go as they are. */
export function spawnWindowsNode(setup: WineSetup, script: string, args: string[], options: WindowsNodeOptions): WindowsNode {
  const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-wine-io-'));
  const relays = { stdout: relay(dir, 'stdout', options.stdout), stderr: relay(dir, 'stderr', options.stderr) };
  const preload = windowsFileUrl(path.join(import.meta.dirname, 'preload.js'));
  let child: ChildProcess;
  try {
    child = spawn('wine', [setup.nodeExe, '--import', preload, windowsPath(script), ...args], {
      cwd: options.cwd,
      env: setup.env,
      stdio: ['ignore', relays.stdout?.writeFd ?? 'inherit', relays.stderr?.writeFd ?? 'inherit'],
    });
  } finally {
    // The child holds its own copies now (or never started).
    for (const r of Object.values(relays)) if (r !== undefined) closeSync(r.writeFd);
  }
  const timer = setInterval(() => {
    relays.stdout?.pump();
    relays.stderr?.pump();
  }, POLL_MS);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    const finish = (): void => {
      clearInterval(timer);
      for (const r of Object.values(relays)) r?.close();
      rmSync(dir, { recursive: true, force: true });
    };
    child.on('error', (err) => {
      finish();
      reject(err);
    });
    child.on('exit', (code, signal) => {
      finish();
      resolve({ code, signal });
    });
  });
  return { child, exited };
}

interface Relay {
  writeFd: number;
  /** Passes on what was written since the last call. */
  pump(): void;
  /** Passes on the rest and closes the file. */
  close(): void;
}

function relay(dir: string, name: string, sink: Sink): Relay | undefined {
  if (sink === 'inherit') return undefined;
  const file = path.join(dir, name);
  const writeFd = openSync(file, 'w');
  const readFd = openSync(file, 'r');
  const buffer = Buffer.alloc(64 * 1024);
  let position = 0;
  const pump = (): void => {
    for (;;) {
      const n = readSync(readFd, buffer, 0, buffer.length, position);
      if (n === 0) return;
      position += n;
      sink(Buffer.from(buffer.subarray(0, n)));
    }
  };
  return {
    writeFd,
    pump,
    close: () => {
      pump();
      closeSync(readFd);
    },
  };
}
