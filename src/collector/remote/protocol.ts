/**
 * A collector in another process, spoken to in JSON lines over a pair of files: one request per line, one response
 * per line with the request's id. Files, because they are what Windows Node under Wine can share with a Linux
 * process (its pipes fail with EBADF, NOTES §3); any other transport would do on a real machine.
 */
import { readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { LeakwatchError, ProcessGoneError } from '../../errors.js';

/** The Collector's methods, and a probe's sample (by the handle `open` returned). */
export type Method = 'snapshot' | 'open' | 'sample' | 'children' | 'startTimeOf' | 'memoryLimit' | 'processes' | 'groupMembers';

export interface Request {
  id: number;
  method: Method;
  args: unknown[];
}

/** An error as it crosses: enough to throw the same kind again on the other side. */
export interface WireError {
  name: string;
  message: string;
  exitCode?: number;
  reason?: ProcessGoneError['reason'];
}

export type Response = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };

export function toWire(error: unknown): WireError {
  if (error instanceof ProcessGoneError) return { name: error.name, message: error.message, reason: error.reason };
  if (error instanceof LeakwatchError) return { name: error.name, message: error.message, exitCode: error.exitCode };
  return { name: 'Error', message: error instanceof Error ? error.message : String(error) };
}

/** The error the collector threw, of the same kind: a gone process stays a ProcessGoneError, a refusal a LeakwatchError. */
export function fromWire(error: WireError): Error {
  if (error.name === 'ProcessGoneError' && error.reason) return new ProcessGoneError(error.message, error.reason);
  if (error.name === 'LeakwatchError') return new LeakwatchError(error.message, error.exitCode);
  return new Error(error.message);
}

/**
 * Complete lines appended to a file since the last read: the reader keeps its offset and an unfinished last line.
 * Synchronous, so that either side can wait for an answer without an event loop turn.
 */
export class LineReader {
  private offset = 0;
  private pending = '';
  private readonly buffer = Buffer.alloc(1 << 16);
  // A character split across two reads is decoded whole.
  private readonly decoder = new StringDecoder('utf8');

  constructor(private readonly fd: number) {}

  lines(): string[] {
    for (;;) {
      const n = readSync(this.fd, this.buffer, 0, this.buffer.length, this.offset);
      if (n <= 0) break;
      this.offset += n;
      this.pending += this.decoder.write(this.buffer.subarray(0, n));
    }
    const end = this.pending.lastIndexOf('\n');
    if (end < 0) return [];
    const complete = this.pending.slice(0, end).split('\n');
    this.pending = this.pending.slice(end + 1);
    return complete;
  }
}
