/** When to sample: a fixed interval (`--every 1s`) or a cron expression with seconds (`--cron "0,30 * * * * *"`). */
import cron from 'node-cron';
import { LeakwatchError } from '../errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration: one or more `<number><unit>` parts, units ms, s, m, h, d (`500ms`, `1s`, `1h30m`, `1.5h`).
 * @throws LeakwatchError naming the option on anything else, zero or negative.
 */
export function parseDuration(text: string, option: string): number {
  const parts = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/.test(text) ? text.match(/\d+(?:\.\d+)?(?:ms|s|m|h|d)/g)! : undefined;
  const ms = parts?.reduce((sum, part) => {
    const [, amount, unit] = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(part)!;
    return sum + Number(amount) * UNIT_MS[unit];
  }, 0);
  if (ms === undefined || !(ms >= 1)) {
    throw new LeakwatchError(`${option} needs a duration like 500ms, 1s, 5m, 12h or 1h30m, got '${text}'`);
  }
  return Math.round(ms);
}

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
  let timer: NodeJS.Timeout | undefined;
  const run = () => {
    tick();
    const next = Math.floor((performance.now() - start) / schedule.ms) + 1;
    if (next > slot + 1) onSkipped(next - slot - 1);
    slot = next;
    timer = setTimeout(run, Math.max(0, start + slot * schedule.ms - performance.now()));
  };
  run();
  return { stop: () => clearTimeout(timer) };
}
