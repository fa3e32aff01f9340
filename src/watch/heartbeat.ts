/** What a running watch says about itself: the live status line on a terminal, the progress line off one. */
import type { TickStatus } from './recorder.js';
import { formatBytes, formatElapsed, GATED_TYPES, type MemoryType, plural, TYPE_LABELS, VERDICT_LABELS } from '../vocabulary.js';

/** Committed memory of the leak-prone types, the change since the start of the current life, and any alert. */
function typeProgress(status: TickStatus, separator: string): string {
  if (!status.latest || !status.first) return '';
  const { latest, first } = status;
  return GATED_TYPES.map((t) => {
    const now = latest[t].committed;
    const change = now - first[t].committed;
    const alert = status.alerts[t] ? ` ${VERDICT_LABELS[status.alerts[t]!]}` : '';
    return `${TYPE_LABELS[t]} ${formatBytes(now)} (${change >= 0 ? '+' : ''}${formatBytes(change)})${alert}`;
  }).join(separator);
}

/** Elapsed and remaining time, samples, processes, restarts, and whether a --follow watch waits for its target. */
function progressFacts(status: TickStatus): string[] {
  return [
    // Remaining time rounded up: a watch with 0:00:00 left has ended.
    `${formatElapsed(status.elapsedMs)}${status.remainingMs === undefined ? '' : ` (${formatElapsed(Math.ceil(status.remainingMs / 1000) * 1000)} left)`}`,
    plural(status.ticks, 'sample'),
    ...(status.processes > 1 ? [plural(status.processes, 'process')] : []),
    ...(status.restarts > 0 ? [plural(status.restarts, 'restart')] : []),
    ...(status.waiting ? ['waiting for the target to start again'] : []),
    ...(status.outage ? [outageFact(status.outage)] : []),
  ];
}

/** `database locked since 0:00:12, 24 samples waiting`: the samples are taken, and kept in memory until written. */
function outageFact({ cause, sinceMs, waiting }: NonNullable<TickStatus['outage']>): string {
  const what = { locked: 'database locked', full: 'disk full', 'read-only': 'database read-only', io: 'database write errors' }[cause];
  return `${what} since ${formatElapsed(sinceMs)}, ${plural(waiting, 'sample')} waiting`;
}

/** The live line of `watch` / `run` on a terminal, redrawn every tick. */
export function statusLine(status: TickStatus): string {
  return [...progressFacts(status), typeProgress(status, '  ')].filter(Boolean).join('  ');
}

/** The heartbeat off a terminal (nohup, CI, systemd): one plain line every --progress, for a log. */
export function progressLine(session: number | null, status: TickStatus): string {
  const alerts = Object.entries(status.alerts).map(([type, verdict]) => `${TYPE_LABELS[type as MemoryType]} ${VERDICT_LABELS[verdict]}`);
  const parts = [progressFacts(status).join(', '), typeProgress(status, ', '), ...(alerts.length ? [`alerts: ${alerts.join(', ')}`] : [])];
  return `leakwatch: ${session === null ? 'no session yet' : `session ${session}`}: ${parts.filter(Boolean).join('; ')}`;
}

