import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { loadCollector } from '../../collector/index.js';
import { LeakwatchError } from '../../errors.js';
import { snapshotHeading, typeTable } from '../../report/text.js';

const DEMO_TARGET = fileURLToPath(new URL('../../../../demo/leaky-server.mjs', import.meta.url));

/** Starts the bundled leaking program and resolves once it has printed its ready line. */
async function startDemoTarget() {
  const child = spawn(process.execPath, [DEMO_TARGET], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await Promise.race([
    once(child.stdout, 'data'),
    once(child, 'exit').then(() => {
      throw new LeakwatchError('the demo target exited before it was ready');
    }),
  ])) as [Buffer];
  child.stdout.resume();
  return { child, pid: (JSON.parse(line.toString()) as { pid: number }).pid };
}

export function demoCommand(): Command {
  return new Command('demo')
    .description('start the bundled leaking demo program and show its memory by type')
    .option('--seconds <n>', 'let it run this long first', '3')
    .action(async (options: { seconds: string }) => {
      const seconds = Number(options.seconds);
      if (!(seconds >= 0)) throw new LeakwatchError(`--seconds must be a number >= 0, got '${options.seconds}'`);
      const { child, pid } = await startDemoTarget();
      try {
        process.stdout.write(`demo target ${DEMO_TARGET} started as pid ${pid}; it leaks ~2 MB/s\n`);
        await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
        const snapshot = (await loadCollector()).snapshot(pid, { usage: true });
        process.stdout.write(`\n${snapshotHeading(snapshot)}\n\n${typeTable(snapshot, undefined)}\n`);
      } finally {
        child.kill();
      }
    });
}
