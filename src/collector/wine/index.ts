/**
 * Windows programs under Wine, sampled from Linux: the Windows collector runs in Windows Node under Wine (koffi's
 * Windows binary, the Win32 API as Wine provides it) and answers this process as a remote collector over a pair of
 * files (see ../remote/protocol.ts). Everything above the collector is the Linux side's: the schedule, the database
 * (better-sqlite3's Linux binary cannot load in Windows Node), the analysis. The far side ends when asked, or when it
 * finds this process gone (its /proc entry, seen through Wine's Z: drive), so a kill -9 leaves nothing running.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LeakwatchError } from '../../errors.js';
import type { Collector } from '../types.js';
import { hasExited, parseStat } from '../linux/procfs.js';
import { lastLine, RemoteCollector } from '../remote/client.js';
import { setupWine, windowsNodeArgs, windowsPath } from './setup.js';

/** The far side's platform: Windows Node x64 is what the setup fetches. */
const PLATFORM = 'win32-x64';

/** Starts the Windows collector under Wine (in $WINEPREFIX, else ~/.wine, as `wine` itself) and returns its near side. */
export function startWineCollector(): Collector {
  let setup;
  try {
    setup = setupWine({ winesDefault: true, log: (line: string) => process.stderr.write(`leakwatch: ${line}\n`) });
  } catch (error) {
    throw new LeakwatchError(`--wine: ${(error as Error).message}`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-wine-collector-'));
  const [requests, responses, errors] = ['requests.jsonl', 'responses.jsonl', 'stderr.txt'].map((name) => path.join(dir, name));
  writeFileSync(requests, '');
  writeFileSync(responses, '');
  const errorsFd = openSync(errors, 'w');
  const serve = path.join(import.meta.dirname, '..', 'remote', 'serve.js');
  // Windows Node fails with EBADF on a pipe under Wine: its output goes to a file.
  const child = spawn('wine', windowsNodeArgs(setup, serve, [windowsPath(requests), windowsPath(responses), windowsPath(`/proc/${process.pid}`)]), {
    env: setup.env,
    stdio: ['ignore', errorsFd, errorsFd],
  });
  closeSync(errorsFd);
  // Not waited for: a watch that ends tells it to quit; when this process ends, what is left goes with it.
  child.unref();
  process.once('exit', () => {
    if (child.pid !== undefined && running(child.pid)) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  return new RemoteCollector({
    requests,
    responses,
    name: 'the Windows collector under Wine',
    platform: PLATFORM,
    running: () => child.pid !== undefined && running(child.pid),
    lastWords: () => lastLine(errors),
  });
}

/** Whether a process runs: exists and is not a zombie (the wine process is our child, reaped only by the event loop). */
function running(pid: number): boolean {
  try {
    return !hasExited(parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8')).state);
  } catch {
    return false;
  }
}
