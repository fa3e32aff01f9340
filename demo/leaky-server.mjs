// A small stand-in for a server with a leak, used by `leakwatch demo` and the README.
// Every tick it "handles requests": it keeps a slice of JS objects (V8 heap, the Managed Heap type) and a
// native Buffer (malloc'd outside V8: Heap or Private) in a cache that is never evicted. A worker thread
// gives it a second thread stack. Usage: node demo/leaky-server.mjs [--mb-per-second 2] [--seconds 0 = forever]
import { Worker } from 'node:worker_threads';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    'mb-per-second': { type: 'string', default: '2' },
    seconds: { type: 'string', default: '0' },
  },
});
const bytesPerSecond = Number(values['mb-per-second']) * 1024 * 1024;
const ticksPerSecond = 10;
const leakedSessions = [];

new Worker('setInterval(() => {}, 1000)', { eval: true }).unref();

setInterval(() => {
  const budget = bytesPerSecond / ticksPerSecond;
  // Half the budget as JS objects (about 64 bytes each with their strings), half as a native Buffer.
  const objects = Array.from({ length: Math.round(budget / 2 / 64) }, (_, i) => ({ id: i, user: `user-${i}` }));
  leakedSessions.push({ objects, payload: Buffer.alloc(Math.round(budget / 2), 1) });
}, 1000 / ticksPerSecond);

// Like a busy server, collect regularly (when run with --expose-gc): the V8 heap then follows its live data, so a
// one-minute demo shows the retained objects growing rather than a few large, irregular GC cycles.
if (typeof globalThis.gc === 'function') setInterval(() => globalThis.gc(), 2000);

if (Number(values.seconds) > 0) setTimeout(() => process.exit(0), Number(values.seconds) * 1000);
process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);
