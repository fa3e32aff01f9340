/**
 * A watchdog for restart tests: runs a command, writes its pid to a pid file, and starts it again (after 300 ms)
 * whenever it exits, until SIGTERM. Usage: node supervisor.mjs <pidfile> <command> [args...]
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const [pidfile, file, ...args] = process.argv.slice(2);
let child;
let stopping = false;

function start() {
  child = spawn(file, args, { stdio: 'ignore' });
  writeFileSync(pidfile, `${child.pid}\n`);
  child.on('exit', () => {
    if (!stopping) setTimeout(start, 300);
  });
}

process.on('SIGTERM', () => {
  stopping = true;
  child.kill('SIGKILL');
  process.exit(0);
});
start();
