/**
 * What leakwatch measures, in the Prometheus text exposition format (through prom-client): the metric names and
 * their meaning, the labels, and the alert rules that use them. One scrape shows each live session as it stands.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { Finding } from '../analysis/types.js';
import type { ProcessUsage } from '../collector/types.js';
import type { LatestProcessSample } from '../db/read.js';
import { GATED_TYPES, MEMORY_TYPES, VERDICTS } from '../vocabulary.js';

/** A session as the exporter shows it. */
export interface ExportedSession {
  id: number;
  label: string | null;
  host: string;
  /** The watched (or started) process and its command. */
  pid: number;
  command: string;
  /** Ticks stored so far, and when the last was taken (epoch ms). */
  samples: number;
  lastSampleAt: number | null;
  processes: LatestProcessSample[];
  /** The analysis of the data so far; empty until it first ran. */
  findings: Finding[];
  /** The collector process recording the session, when it runs on this machine. */
  collector: ProcessUsage | undefined;
}

/** Every metric: its name and its meaning (the HELP line, also the README's table). */
export const METRICS = {
  committed: ['leakwatch_committed_bytes', 'Committed bytes of one memory type of one process at the last sample (VMMap Committed).'],
  size: ['leakwatch_size_bytes', 'Reserved plus committed address space of one memory type of one process at the last sample (VMMap Size).'],
  workingSet: ['leakwatch_working_set_bytes', 'Resident bytes of one memory type of one process at the last sample that read them (VMMap Total WS).'],
  privateWorkingSet: ['leakwatch_private_working_set_bytes', 'Resident bytes of one memory type used by this process alone, at the last sample that read them (VMMap Private WS).'],
  blocks: ['leakwatch_blocks', 'Regions (mappings) of one memory type of one process at the last sample (VMMap Blocks).'],
  verdict: ['leakwatch_verdict', 'The analysis of the session so far, per type and sum: a state set, 1 for the current verdict (leak, suspected, no-leak, insufficient-data) and 0 for the others.'],
  rate: ['leakwatch_growth_rate_bytes_per_second', 'Growth rate since its onset (Theil-Sen slope of the session totals), per type and sum; only once judged.'],
  rateLow: ['leakwatch_growth_rate_low_bytes_per_second', 'Lower bound of the growth rate\'s 95% confidence interval.'],
  rateHigh: ['leakwatch_growth_rate_high_bytes_per_second', 'Upper bound of the growth rate\'s 95% confidence interval.'],
  confidence: ['leakwatch_leak_confidence', 'How sure the verdict is, 0 to 1 (1 minus the p-value of the trend test).'],
  timeToLimit: ['leakwatch_time_to_limit_seconds', 'At the growth rate, seconds until the process reaches its memory limit (cgroup, rlimit or RAM); only for a growing type with a known limit.'],
  samples: ['leakwatch_samples_total', 'Ticks the session has stored.'],
  lastSample: ['leakwatch_last_sample_timestamp_seconds', 'When the session\'s last tick was taken (Unix time): a collector that stopped leaves it behind time().'],
  collectorCpu: ['leakwatch_collector_cpu_seconds_total', 'CPU time used by the leakwatch process recording the session (user + system).'],
  collectorRss: ['leakwatch_collector_resident_bytes', 'Resident memory of the leakwatch process recording the session.'],
} as const satisfies Record<string, readonly [string, string]>;

/** The labels of every metric of a session; process metrics have the process's pid and command, `type` per type. */
export const SESSION_LABELS = ['session', 'label', 'host', 'pid', 'command'] as const;
// A label value is part of the series' identity: a long command line (hundreds of arguments) would bloat every sample.
export const COMMAND_LABEL_MAX = 120;

const boundedCommand = (command: string) => (command.length > COMMAND_LABEL_MAX ? `${command.slice(0, COMMAND_LABEL_MAX - 1)}…` : command);

type Labels = Record<(typeof SESSION_LABELS)[number], string>;

function sessionLabels(session: ExportedSession, pid = session.pid, command = session.command): Labels {
  return { session: String(session.id), label: session.label ?? '', host: session.host, pid: String(pid), command: boundedCommand(command) };
}

/** The exposition of these sessions, with its content type: a registry made for the one scrape. */
export async function exposition(sessions: readonly ExportedSession[]): Promise<{ contentType: string; body: string }> {
  const registry = new Registry();
  const gauge = ([name, help]: readonly [string, string], extra: string[] = []) =>
    new Gauge({ name, help, labelNames: [...SESSION_LABELS, ...extra], registers: [registry] });
  const counter = ([name, help]: readonly [string, string]) => new Counter({ name, help, labelNames: [...SESSION_LABELS], registers: [registry] });
  const perType = {
    committed: gauge(METRICS.committed, ['type']),
    size: gauge(METRICS.size, ['type']),
    totalWs: gauge(METRICS.workingSet, ['type']),
    privateWs: gauge(METRICS.privateWorkingSet, ['type']),
    blocks: gauge(METRICS.blocks, ['type']),
  };
  const verdict = gauge(METRICS.verdict, ['type', 'verdict']);
  const rate = gauge(METRICS.rate, ['type']);
  const rateLow = gauge(METRICS.rateLow, ['type']);
  const rateHigh = gauge(METRICS.rateHigh, ['type']);
  const confidence = gauge(METRICS.confidence, ['type']);
  const timeToLimit = gauge(METRICS.timeToLimit, ['type']);
  const samples = counter(METRICS.samples);
  const lastSample = gauge(METRICS.lastSample);
  const collectorCpu = counter(METRICS.collectorCpu);
  const collectorRss = gauge(METRICS.collectorRss);

  for (const session of sessions) {
    const labels = sessionLabels(session);
    for (const sampled of session.processes) {
      const own = sessionLabels(session, sampled.pid, sampled.command);
      for (const type of MEMORY_TYPES) {
        const totals = sampled.types[type];
        for (const [column, metric] of Object.entries(perType) as [keyof typeof perType, Gauge][]) {
          const value = totals[column];
          if (value !== undefined) metric.set({ ...own, type }, value);
        }
      }
    }
    for (const finding of session.findings) {
      const typed = { ...labels, type: finding.type };
      for (const state of VERDICTS) verdict.set({ ...typed, verdict: state }, finding.verdict === state ? 1 : 0);
      if (finding.verdict === 'insufficient-data') continue;
      rate.set(typed, finding.slopeBytesPerHour / 3600);
      rateLow.set(typed, finding.ci[0] / 3600);
      rateHigh.set(typed, finding.ci[1] / 3600);
      confidence.set(typed, finding.confidence);
      if (finding.timeToLimitSeconds !== null) timeToLimit.set(typed, finding.timeToLimitSeconds);
    }
    samples.inc(labels, session.samples);
    if (session.lastSampleAt !== null) lastSample.set(labels, session.lastSampleAt / 1000);
    if (session.collector) {
      collectorCpu.inc(labels, session.collector.cpuSeconds);
      collectorRss.set(labels, session.collector.residentBytes);
    }
  }
  return { contentType: registry.contentType, body: await registry.metrics() };
}

/** The types whose leak pages someone: what a program allocates, as `analyze --fail-on-leak` gates by default. */
const GATED_MATCH = `type=~"${GATED_TYPES.join('|')}"`;

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A Prometheus rule file: what `rule_files` loads (as YAML, of which JSON is a part). */
export interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}

/**
 * Recording and alerting rules on the exported verdicts: a fleet alerts on leakwatch's judgement (which warm-ups,
 * caches at their cap, steps and GC sawtooth do not fool), not on a slope.
 * @param forDuration how long a verdict must hold before the alert fires (Prometheus duration: 5m, 30s).
 */
export function alertRules(forDuration: string): RuleFile {
  const [verdict] = METRICS.verdict;
  const where = 'session {{ $labels.session }} ({{ $labels.label }}), pid {{ $labels.pid }} on {{ $labels.host }}';
  // The growth rate of the same session and type, looked up when the alert is rendered.
  const rate = `{{ with printf \`${METRICS.rate[0]}{session="%s",type="%s"}\` $labels.session $labels.type | query }}{{ . | first | value | humanize1024 }}B/s{{ end }}`;
  return {
    groups: [{
      name: 'leakwatch',
      rules: [
        { record: 'leakwatch:leaking_types:count', expr: `count by (session, label, host, pid, command) (${verdict}{verdict="leak", ${GATED_MATCH}} == 1)` },
        {
          alert: 'MemoryLeak',
          expr: `${verdict}{verdict="leak", ${GATED_MATCH}} == 1`,
          for: forDuration,
          labels: { severity: 'warning' },
          annotations: {
            summary: '{{ $labels.type }} memory of {{ $labels.command }} leaks',
            description: `${where}: leaking at ${rate} (leakwatch analyze {{ $labels.session }} for the evidence).`,
          },
        },
        {
          alert: 'MemoryLeakSuspected',
          expr: `${verdict}{verdict="suspected", ${GATED_MATCH}} == 1`,
          for: forDuration,
          labels: { severity: 'info' },
          annotations: { summary: '{{ $labels.type }} memory of {{ $labels.command }} may leak', description: `${where}: growing at ${rate}, not yet significant.` },
        },
        {
          alert: 'MemoryLimitSoon',
          expr: `${METRICS.timeToLimit[0]}{${GATED_MATCH}} < 6 * 3600`,
          for: forDuration,
          labels: { severity: 'critical' },
          annotations: {
            summary: '{{ $labels.command }} reaches its memory limit within 6 h',
            description: `${where}: at the growth of its {{ $labels.type }} memory it reaches its memory limit in {{ $value | humanizeDuration }}.`,
          },
        },
        {
          alert: 'LeakwatchStalled',
          expr: `time() - ${METRICS.lastSample[0]} > 300`,
          labels: { severity: 'warning' },
          annotations: {
            summary: 'leakwatch session {{ $labels.session }} has stored no sample for 5 minutes',
            description: `${where}: its collector is stuck or its database failing, and the session is still open.`,
          },
        },
      ],
    }],
  };
}

// Single-quoted YAML scalars: nothing inside is special but the quote itself, written twice.
const yamlString = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** The rule file as YAML, as Prometheus's own examples write it. */
export function rulesYaml(file: RuleFile): string {
  const lines = ["# leakwatch's alert rules: on the verdict exported by `watch --serve` / `leakwatch serve`, not on a raw slope.",
    '# Add this file to rule_files in prometheus.yml; check it with: promtool check rules <file>', 'groups:'];
  for (const group of file.groups) {
    lines.push(`  - name: ${yamlString(group.name)}`, '    rules:');
    for (const rule of group.rules) {
      const entries = Object.entries(rule);
      entries.forEach(([key, value], i) => {
        const lead = i === 0 ? '      - ' : '        ';
        if (typeof value === 'string') lines.push(`${lead}${key}: ${yamlString(value)}`);
        else {
          lines.push(`${lead}${key}:`);
          for (const [k, v] of Object.entries(value as Record<string, string>)) lines.push(`          ${k}: ${yamlString(v)}`);
        }
      });
    }
  }
  return `${lines.join('\n')}\n`;
}
