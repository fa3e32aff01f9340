// Live-test target for leakwatch's V8 heap detection.
//
// Run with `node test/targets/v8-grow.mjs` (any --max-old-space-size works).
// Prints {"ready":true,"pid":N}, then reads one command per line from stdin and
// answers each with exactly one JSON line on stdout:
//   grow <MB>    retain about MB more megabytes of small plain JS objects on the
//                V8 heap (no Buffers/ArrayBuffers: those live outside it); replies
//                {"ok":"grow","heapUsed":…,"heapTotal":…,"retainedMB":…}
//   stats        {"ok":"stats",...process.memoryUsage(),"retainedMB":…}
//   exit <code>  exit with that code, no reply (EOF on stdin exits 0)
// Anything else answers {"error":"…"}.
import { createInterface } from 'node:readline';

// Size of one retained object plus its array slot: a 3-property object literal is
// map + properties + elements + 3 in-object fields, each a tagged pointer (8 bytes,
// or 4 with pointer compression).
const TAGGED = process.config.variables.v8_enable_pointer_compression ? 4 : 8;
const BYTES_PER_OBJECT = 7 * TAGGED;
// Objects per block: keeps each block's backing store below V8's 128 KiB
// large-object threshold, so everything lands in regular old space.
const BLOCK = 8192;

/** Everything ever grown; global so nothing becomes collectable. */
globalThis.leakwatchRetained = [];
let retainedBytes = 0;

function reply(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function grow(megabytes) {
  const target = retainedBytes + megabytes * 1024 * 1024;
  let serial = 0;
  while (retainedBytes < target) {
    const block = new Array(BLOCK);
    for (let i = 0; i < BLOCK; i++) block[i] = { id: serial++, next: null, tag: i & 7 };
    globalThis.leakwatchRetained.push(block);
    retainedBytes += BLOCK * BYTES_PER_OBJECT;
  }
}

function retainedMB() {
  return Math.round((retainedBytes / (1024 * 1024)) * 10) / 10;
}

function command(line) {
  const [cmd, arg, extra] = line.trim().split(/\s+/);
  const num = arg !== undefined && /^\d+$/.test(arg) ? Number(arg) : NaN;
  if (cmd === 'grow' && num > 0 && extra === undefined) {
    grow(num);
    const { heapUsed, heapTotal } = process.memoryUsage();
    reply({ ok: 'grow', heapUsed, heapTotal, retainedMB: retainedMB() });
  } else if (cmd === 'stats' && arg === undefined) {
    reply({ ok: 'stats', ...process.memoryUsage(), retainedMB: retainedMB() });
  } else if (cmd === 'exit' && (arg === undefined || !Number.isNaN(num))) {
    process.exit(arg === undefined ? 0 : num);
  } else {
    reply({ error: `bad command: ${JSON.stringify(line)}` });
  }
}

reply({ ready: true, pid: process.pid });
const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', command);
rl.on('close', () => process.exit(0));
