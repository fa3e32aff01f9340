import { Command } from 'commander';
import { LeakwatchError } from '../../errors.js';
import type { Finding } from '../../analysis/types.js';
import { ANALYZED_ROWS, EXIT, GATED_ROWS, isGated, MEMORY_TYPES, type MemoryType, type Metric, parseDuration, type Row } from '../../vocabulary.js';
import { addExamples, addOutputOptions, dbOption, metricOption, outputFormat, parseSessionId, parseTypeList } from '../options.js';
import { printCsv, printJson, printText } from '../print.js';

const FORMATS = ['table', 'csv', 'json'] as const;

interface AnalyzeOptions {
  db: string;
  json?: boolean;
  format?: string;
  types?: Row[];
  failOnLeak?: boolean;
  junit?: string;
  metric: Metric;
  prometheus?: string;
  query?: string;
  range: string;
  step?: string;
  end?: string;
  type: MemoryType;
  save?: boolean;
  label?: string;
}

const PROMETHEUS_ONLY = ['query', 'range', 'step', 'end', 'type', 'save', 'label'] as const;

/** `--end`: an ISO time or Unix seconds; now when not given. Returns Unix seconds. */
function parseEnd(text: string | undefined): number {
  if (text === undefined) return Date.now() / 1000;
  const seconds = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Date.parse(text) / 1000;
  if (!Number.isFinite(seconds)) throw new LeakwatchError(`--end needs an ISO time (2026-12-02T08:00:00Z) or Unix seconds, got '${text}'`);
  return seconds;
}

function parseMemoryType(text: string): MemoryType {
  if (!(MEMORY_TYPES as readonly string[]).includes(text)) throw new LeakwatchError(`unknown --type '${text}' (one of: ${MEMORY_TYPES.join(', ')})`);
  return text as MemoryType;
}

/** A range query's series from a Prometheus server, each judged: the same output, gate and JUnit as for a session. */
async function analyzePrometheusSeries(options: AnalyzeOptions, explicit: (name: string) => boolean): Promise<void> {
  if (options.query === undefined) throw new LeakwatchError('--prometheus needs --query <PromQL>, e.g. --query \'process_resident_memory_bytes{job="app"}\'');
  if (options.types || explicit('metric')) throw new LeakwatchError('--types and --metric are for a recorded session; with --prometheus, --type says what the series measures');
  if (options.label !== undefined && !options.save) throw new LeakwatchError('--label names the sessions --save stores: give --save too');
  const [{ parseServer }, { analyzePrometheus }] = await Promise.all([import('../../import/prometheus.js'), import('../../session/prometheus.js')]);
  const server = parseServer(options.prometheus!);
  const rangeMs = parseDuration(options.range, '--range');
  // ~2,000 points: far more than the analysis' 200 buckets need, far fewer than a page holds.
  const stepMs = options.step === undefined ? Math.max(1000, Math.ceil(rangeMs / 2000 / 1000) * 1000) : parseDuration(options.step, '--step');
  const end = parseEnd(options.end);
  const range = { server, query: options.query, start: end - rangeMs / 1000, end, step: stepMs / 1000 };
  const judged = await analyzePrometheus(range, { type: options.type, save: options.save ? { db: options.db, label: options.label } : undefined });
  if (judged.length === 0) throw new LeakwatchError(`the query returned no series between ${new Date(range.start * 1000).toISOString()} and ${new Date(range.end * 1000).toISOString()}: check the query and --range`);
  const [{ labelsText }, { findingsTable }, { writeOutputFile }, { junitSuite }] = await Promise.all([
    import('../../import/prometheus.js'),
    import('../../report/text.js'),
    import('../../session/output.js'),
    import('../../report/junit.js'),
  ]);
  const names = new Map(judged.map((j) => [j.finding, labelsText(j.labels)]));
  const format = outputFormat(options, FORMATS);
  if (format === 'json') {
    printJson({ prometheus: server.href, query: range.query, start: range.start, end: range.end, step: range.step,
      series: judged.map((j) => ({ labels: j.labels, type: j.type, points: j.points, from: j.from, to: j.to, session: j.session ?? null, finding: { ...j.finding, gated: true } })) });
  } else if (format === 'csv') {
    printCsv(['series', 'type', 'points', 'session', 'verdict', 'slopeBytesPerHour', 'ciLow', 'ciHigh', 'onsetSeconds', 'growthBytes', 'confidence', 'explanation'],
      judged.map(({ finding: f, ...j }) => [names.get(f), j.type, j.points, j.session, f.verdict, f.slopeBytesPerHour, f.ci[0], f.ci[1], f.onsetSeconds, f.growthBytes, f.confidence, f.explanation]));
  } else {
    const saved = judged.some((j) => j.session !== undefined) ? `\nStored as sessions ${judged.map((j) => j.session).join(', ')} in ${options.db}.` : '';
    printText(`Prometheus ${server.origin}: ${range.query}\n${judged.length} series over ${options.range} to ${new Date(range.end * 1000).toISOString()}, every ${options.step ?? `${stepMs / 1000}s`}${saved}\n\n`
      + findingsTable(judged.map((j) => j.finding), () => true, (f) => names.get(f)!, 'Series'));
  }
  if (options.junit) writeOutputFile(options.junit, junitSuite(`leakwatch: ${range.query} on ${server.origin}`, 'leakwatch.prometheus', judged.map((j) => ({ name: `${names.get(j.finding)} does not leak`, failure: `${names.get(j.finding)} leaks`, finding: j.finding, gated: true }))));
  if (options.failOnLeak && judged.some((j) => j.finding.verdict === 'leak')) throw new LeakwatchError('a series leaks (--fail-on-leak)', EXIT.gateFailed);
}

export function analyzeCommand(): Command {
  const command = addOutputOptions(new Command('analyze'), FORMATS)
    .description('decide per memory type, for Native (Private + Heap) and the Total, whether a recorded session leaks: rate, onset, confidence, time to limit; or judge the series a Prometheus query returns')
    .argument('[session]', 'session id (printed by watch/run)', parseSessionId)
    .addOption(dbOption('read'))
    .option('--types <list>', `comma-separated types and sums to judge, all of them gated (default: ${ANALYZED_ROWS.join(',')}, of which ${GATED_ROWS.join(',')} gated)`, (text: string) => parseTypeList(text, ANALYZED_ROWS))
    .addOption(metricOption())
    .option('--fail-on-leak', `exit ${EXIT.gateFailed} when a gated type or sum leaks`)
    .option('--junit <file>', 'also write JUnit XML: one test case per type (per series), a leak is a failure')
    .option('--prometheus <url>', 'instead of a session: judge each series a range query to this Prometheus server returns (http://host:9090)')
    .option('--query <promql>', 'with --prometheus: the PromQL query, e.g. \'process_resident_memory_bytes{job="app"}\'')
    .option('--range <duration>', 'with --prometheus: how far back from --end (12h, 7d)', '1h')
    .option('--step <duration>', 'with --prometheus: the resolution (default: the range / 2000, at least 1s; long ranges are fetched in pages)')
    .option('--end <time>', 'with --prometheus: the end of the range, an ISO time or Unix seconds (default: now)')
    .option('--type <type>', `with --prometheus: the memory type a series measures when it has no type label (${MEMORY_TYPES.join(', ')})`, parseMemoryType, 'private')
    .option('--save', 'with --prometheus: store each series in --db as an imported session (for report and compare)')
    .option('--label <label>', 'with --prometheus --save: the sessions\' label (default: the series\' labels)')
    .action(async (id: number | undefined, options: AnalyzeOptions, command: Command) => {
      const explicit = (name: string) => command.getOptionValueSource(name) === 'cli';
      if (options.prometheus !== undefined) {
        if (id !== undefined) throw new LeakwatchError('analyze takes a session id or --prometheus, not both');
        await analyzePrometheusSeries(options, explicit);
        return;
      }
      const misplaced = PROMETHEUS_ONLY.find(explicit);
      if (misplaced) throw new LeakwatchError(`--${misplaced} goes with --prometheus`);
      if (id === undefined) throw new LeakwatchError('analyze needs a session id (see leakwatch sessions), or --prometheus <url> --query <PromQL>');
      const [{ analyseStoredSession }, { withReadOnlyDatabase }, { writeOutputFile }, { findingsTable, sessionHeading }, { junitXml }] = await Promise.all([
        import('../../session/analyse.js'),
        import('../../session/database.js'),
        import('../../session/output.js'),
        import('../../report/text.js'),
        import('../../report/junit.js'),
      ]);
      const analysed = await withReadOnlyDatabase(options.db, (db, alive) => analyseStoredSession(db, id, options.db, options.types ?? ANALYZED_ROWS, alive, options.metric));
      const { session, samples, durationSeconds, findings } = analysed;
      // Types named with --types are the gated set; by default the allocating types and Native are.
      const gated = (f: Finding) => (options.types ? options.types.includes(f.type) : isGated(f.type));
      const format = outputFormat(options, FORMATS);
      if (format === 'json') {
        printJson({ session: id, label: session.label, command: session.command, durationSeconds, samples, metric: options.metric, findings: findings.map((f) => ({ ...f, gated: gated(f) })) });
      } else if (format === 'csv') {
        printCsv(['type', 'gated', 'verdict', 'slopeBytesPerHour', 'ciLow', 'ciHigh', 'onsetSeconds', 'growthBytes', 'timeToLimitSeconds', 'confidence', 'explanation'],
          findings.map((f) => [f.type, gated(f), f.verdict, f.slopeBytesPerHour, f.ci[0], f.ci[1], f.onsetSeconds, f.growthBytes, f.timeToLimitSeconds, f.confidence, f.explanation]));
      } else {
        printText(`${sessionHeading(analysed)}\n\n${findingsTable(findings, gated)}`);
      }
      if (options.junit) writeOutputFile(options.junit, junitXml(id, session.command, findings, gated));
      if (options.failOnLeak && findings.some((f) => gated(f) && f.verdict === 'leak')) {
        throw new LeakwatchError('a gated memory type leaks (--fail-on-leak)', EXIT.gateFailed);
      }
    });
  return addExamples(command, [
    'leakwatch analyze 12',
    'leakwatch analyze 12 --fail-on-leak --junit leakwatch.xml   # in CI: exit 1 on a leak',
    `leakwatch analyze --prometheus http://127.0.0.1:9090 --query 'process_resident_memory_bytes{job="app"}' --range 12h --fail-on-leak`,
  ]);
}
