/** When to sample: a fixed interval (`--every 1s`) or a cron expression with seconds (`--cron "0,30 * * * * *"`). */
import cron from 'node-cron';
import { LeakwatchError } from '../errors.js';
import { type LongTimer, setLongTimeout } from './timer.js';

export type Schedule = { kind: 'every'; ms: number } | { kind: 'cron'; expression: string };

export function parseCron(expression: string): Schedule {
  if (!cron.validate(expression)) {
    throw new LeakwatchError(`--cron needs a cron expression (5 fields, or 6 with seconds first), got '${expression}'`);
  }
  return { kind: 'cron', expression };
}

export interface Ticker {
  stop(): void;
}

/**
 * Calls `tick` on the schedule, the first time right away. A tick that overruns its slot makes the ticks it
 * covered be skipped, not queued (`onSkipped` counts them): a slow read must not turn into a burst of reads.
 */
export function startTicker(schedule: Schedule, tick: () => void, onSkipped: (count: number) => void): Ticker {
  if (schedule.kind === 'cron') {
    tick();
    const task = cron.createTask(schedule.expression, () => tick(), { noOverlap: true });
    task.start();
    return { stop: () => void task.destroy() };
  }
  const start = performance.now();
  let slot = 0;
  let timer: LongTimer | undefined;
  const run = () => {
    tick();
    const next = Math.floor((performance.now() - start) / schedule.ms) + 1;
    if (next > slot + 1) onSkipped(next - slot - 1);
    slot = next;
    // An interval may be longer than a Node timer can wait (--every 25d).
    timer = setLongTimeout(run, Math.max(0, start + slot * schedule.ms - performance.now()));
  };
  run();
  return { stop: () => timer?.clear() };
}
