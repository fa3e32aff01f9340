/**
 * Timers of any length. Node's setTimeout takes at most 2^31 − 1 ms (24.8 days); a longer delay fires after 1 ms
 * with a TimeoutOverflowWarning (NOTES §7), so `--duration 30d` ended at once and `--every 25d` sampled every few
 * milliseconds. A long delay is waited out in pieces of at most that length.
 */

/** The longest delay Node's timers take. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LongTimer {
  clear(): void;
}

/**
 * Calls `fn` once after `ms` milliseconds, whatever their number. The pieces are counted, not measured against a
 * clock, so a wall-clock jump (NTP, a suspended machine resuming) neither shortens nor stretches the wait beyond
 * what Node's own timers do.
 */
export function setLongTimeout(fn: () => void, ms: number): LongTimer {
  let timer: NodeJS.Timeout | undefined;
  let cleared = false;
  const wait = (left: number) => {
    const piece = Math.min(Math.max(0, left), MAX_TIMER_MS);
    timer = setTimeout(() => {
      if (cleared) return;
      if (left > piece) wait(left - piece);
      else fn();
    }, piece);
  };
  wait(ms);
  return {
    clear: () => {
      cleared = true;
      clearTimeout(timer);
    },
  };
}
