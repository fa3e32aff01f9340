/**
 * How often to read smaps. Reading smaps makes the kernel walk every page of the target while holding its mmap
 * lock (NOTES §2), so its cost grows with the target's size; maps is cheap. Each process gets smaps only while
 * the time spent on its smaps reads stays under `fraction` of wall time: a 5 ms read at 2% is allowed every
 * 250 ms (every tick at 1 Hz); a 200 ms read of a huge process only every 10 s.
 */
export class SmapsBudget {
  private readonly last = new Map<number, { at: number; costMs: number }>();

  constructor(private readonly fraction = 0.02) {}

  /** Whether process `pid` may have its smaps read at time `now` (ms, monotonic). */
  allows(pid: number, now: number): boolean {
    const last = this.last.get(pid);
    return last === undefined || now - last.at >= last.costMs / this.fraction;
  }

  record(pid: number, now: number, costMs: number): void {
    this.last.set(pid, { at: now, costMs });
  }

  forget(pid: number): void {
    this.last.delete(pid);
  }

  /** Forgets every process but these (the ones still watched). */
  keepOnly(pids: ReadonlySet<number>): void {
    for (const pid of this.last.keys()) if (!pids.has(pid)) this.last.delete(pid);
  }
}
