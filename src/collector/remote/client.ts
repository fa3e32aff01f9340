/**
 * The near side of a remote collector (see protocol.ts): a Collector whose every call is a request to a collector in
 * another process, answered synchronously (the Collector interface is synchronous), so that everything above the
 * collector (schedules, the store, the analysis) runs unchanged on samples taken elsewhere.
 */
import { appendFileSync, openSync, readFileSync } from 'node:fs';
import { LeakwatchError } from '../../errors.js';
import { EXIT } from '../../vocabulary.js';
import type { Collector, MemoryLimit, ProcessInfo, ProcessProbe, Snapshot, SnapshotOptions } from '../types.js';
import { fromWire, LineReader, type Method, type Response } from './protocol.js';

/** The far side as it runs: its files, and how to tell it has gone. */
export interface FarSide {
  requests: string;
  responses: string;
  /** Whether its process still runs. */
  running(): boolean;
  /** What it said before it went (its stderr), for the error. */
  lastWords(): string;
  /** Names it in errors: `the Windows collector under Wine`. */
  name: string;
  /** The platform it samples (`win32-x64`): what the sessions it records are stored as. */
  platform: string;
}

// How long an answer may take: the first one includes starting the far side (Wine: a few seconds).
const FIRST_ANSWER_MS = 120_000;
const ANSWER_MS = 60_000;
// How often the responses file is looked at while waiting.
const POLL_MS = 1;

export class RemoteCollector implements Collector {
  private nextId = 1;
  private answered = false;
  private readonly responses: LineReader;
  private readonly sleeper = new Int32Array(new SharedArrayBuffer(4));

  constructor(private readonly far: FarSide) {
    this.responses = new LineReader(openSync(far.responses, 'r'));
  }

  get platform(): string {
    return this.far.platform;
  }

  /** Sends one request and waits for its answer; the far side's errors are thrown here as the same kind. */
  call<T>(method: Method, ...args: unknown[]): T {
    const id = this.nextId++;
    appendFileSync(this.far.requests, `${JSON.stringify({ id, method, args })}\n`);
    const patience = this.answered ? ANSWER_MS : FIRST_ANSWER_MS;
    const deadline = Date.now() + patience;
    for (;;) {
      for (const line of this.responses.lines()) {
        const response = JSON.parse(line) as Response;
        if (response.id !== id && response.id !== -1) continue;
        this.answered = true;
        if (response.ok) return response.value as T;
        throw response.id === -1 ? new LeakwatchError(`${this.far.name} failed: ${response.error.message}`, EXIT.watchFailed) : fromWire(response.error);
      }
      if (!this.far.running()) {
        const words = this.far.lastWords();
        throw new LeakwatchError(`${this.far.name} has exited${words ? `: ${words}` : ''}`, EXIT.watchFailed);
      }
      if (Date.now() > deadline) throw new LeakwatchError(`${this.far.name} did not answer ${method} within ${patience / 1000} s`, EXIT.watchFailed);
      Atomics.wait(this.sleeper, 0, 0, POLL_MS);
    }
  }

  /** Asks the far side to end. */
  close(): void {
    appendFileSync(this.far.requests, `${JSON.stringify({ quit: true })}\n`);
  }

  snapshot(pid: number, options: SnapshotOptions): Snapshot {
    return this.call('snapshot', pid, options);
  }

  open(pid: number): ProcessProbe {
    const handle = this.call<number>('open', pid);
    let execs = 0;
    return {
      pid,
      get execs() {
        return execs;
      },
      sample: (options) => {
        const sampled = this.call<{ snapshot: Snapshot; execs: number }>('sample', handle, options);
        execs = sampled.execs;
        return sampled.snapshot;
      },
    };
  }

  children(pid: number): number[] {
    return this.call('children', pid);
  }

  startTimeOf(pid: number): string | undefined {
    return this.call<string | null>('startTimeOf', pid) ?? undefined;
  }

  memoryLimit(pid: number): MemoryLimit | undefined {
    return this.call<MemoryLimit | null>('memoryLimit', pid) ?? undefined;
  }

  processes(): ProcessInfo[] {
    return this.call('processes');
  }

  groupMembers(pgid: number): number[] {
    return this.call('groupMembers', pgid);
  }
}

/** The last line of a file the far side wrote its errors to, or ''. */
export function lastLine(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).at(-1) ?? '';
  } catch {
    return '';
  }
}
