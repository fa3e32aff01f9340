/**
 * The far side of a remote collector: this platform's collector answering requests (see protocol.ts). Started by the
 * near side as `node serve.js <requests> <responses> <watcher>`: it polls the requests file, answers each in order,
 * and ends when asked to, or when the watcher's marker file is gone (the near side has ended, even by kill -9: it
 * removes nothing then, so the marker is its /proc entry, seen through Wine's Z: drive).
 */
import { appendFileSync, existsSync, openSync } from 'node:fs';
import { ProcessGoneError } from '../../errors.js';
import { loadCollector } from '../index.js';
import type { ProcessProbe } from '../types.js';
import { LineReader, type Request, type Response, toWire } from './protocol.js';

// How often the requests file is looked at: a sample is asked for every 250 ms at the fastest.
const POLL_MS = 1;
// How often the near side's marker is checked.
const WATCH_MS = 1000;

async function serve(requestsFile: string, responsesFile: string, marker: string): Promise<void> {
  const collector = await loadCollector();
  const probes = new Map<number, ProcessProbe>();
  let nextProbe = 1;
  const answer = (request: Request): unknown => {
    const [first, second] = request.args as [never, never];
    switch (request.method) {
      case 'snapshot': return collector.snapshot(first, second);
      case 'open': {
        probes.set(nextProbe, collector.open(first));
        return nextProbe++;
      }
      case 'sample': {
        const probe = probes.get(first);
        if (!probe) throw new Error(`no probe ${first}`);
        try {
          return { snapshot: probe.sample(second), execs: probe.execs };
        } catch (error) {
          // A probe of a gone process is asked nothing more: what it kept is freed.
          if (error instanceof ProcessGoneError) probes.delete(first);
          throw error;
        }
      }
      case 'children': return collector.children(first);
      case 'startTimeOf': return collector.startTimeOf(first) ?? null;
      case 'memoryLimit': return collector.memoryLimit(first) ?? null;
      case 'processes': return collector.processes();
      case 'groupMembers': return collector.groupMembers(first);
    }
  };
  const requests = new LineReader(openSync(requestsFile, 'r'));
  let lastWatched = Date.now();
  for (;;) {
    for (const line of requests.lines()) {
      const request = JSON.parse(line) as Request | { quit: true };
      if ('quit' in request) return;
      let response: Response;
      try {
        response = { id: request.id, ok: true, value: answer(request) };
      } catch (error) {
        response = { id: request.id, ok: false, error: toWire(error) };
      }
      appendFileSync(responsesFile, `${JSON.stringify(response)}\n`);
    }
    if (Date.now() - lastWatched > WATCH_MS) {
      if (!existsSync(marker)) return;
      lastWatched = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

const [requestsFile, responsesFile, marker] = process.argv.slice(2);
serve(requestsFile, responsesFile, marker).catch((error: unknown) => {
  process.exitCode = 70;
  appendFileSync(responsesFile, `${JSON.stringify({ id: -1, ok: false, error: toWire(error) })}\n`);
});
