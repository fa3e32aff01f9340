// A process tree for `run --children`: the root starts two children that hold memory; the short-lived one exits
// after 1.5 s, the other lives until the root exits (after --seconds, default 4).
import { spawn } from 'node:child_process';

const seconds = Number(process.argv[2] ?? 4);
const hold = (ms) => `globalThis.kept = Buffer.alloc(16 * 1024 * 1024, 1); setTimeout(() => {}, ${ms});`;
const longLived = spawn(process.execPath, ['-e', hold(seconds * 1000 + 5000)], { stdio: 'ignore' });
const shortLived = spawn(process.execPath, ['-e', hold(1500)], { stdio: 'ignore' });
process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid, children: [longLived.pid, shortLived.pid] })}\n`);
setTimeout(() => {
  longLived.kill();
  process.exit(0);
}, seconds * 1000);
