/** History from the CLI: sessions, query, export, compare. Every command opens the database read-only. */
import { statSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ANALYZED_ROWS, isGated, rowValues } from '../../analysis/session.js';
import type { Metric } from '../../analysis/types.js';
import { MEMORY_TYPES, type MemoryType } from '../../collector/types.js';
import { LeakwatchError } from '../../errors.js';
import type { Aggregate, Row } from '../../history/resample.js';
import { printable, renderTable } from '../../report/text.js';
import { formatBytes, formatElapsed } from '../../units.js';
import { parseDuration } from '../../watch/schedule.js';
import { collectorAlive, withReadOnlyDatabase, writeStreamed } from '../io.js';
import { metricOption, parseSessionId, parseTimePoint, parseTypeList } from '../options.js';

const dbOption = () => new Option('--db <file>', 'SQLite database to read').default('leakwatch.db');

export function sessionsCommand(): Command {
  return new Command('sessions')
    .description('list recorded sessions, newest first')
    .addOption(dbOption())
    .option('--label <glob>', 'only labels matching this glob, e.g. nightly-*')
    .option('--since <duration>', 'only sessions started within this long (7d, 12h)')
    .option('--json', 'print JSON')
    .addOption(new Option('--format <format>', 'output format (--json is --format json)').choices(['table', 'csv', 'json']).default('table'))
    .action(async (options: { db: string; label?: string; since?: string; json?: boolean; format: string }) => {
      const sinceMs = options.since === undefined ? undefined : Date.now() - parseDuration(options.since, '--since');
      const { listSessions } = await import('../../db/history.js');
      const sessions = await withReadOnlyDatabase(options.db, (db, alive) => listSessions(db, { labelGlob: options.label, sinceMs }, alive));
      if (options.json || options.format === 'json') {
        process.stdout.write(`${JSON.stringify(sessions)}\n`);
        return;
      }
      if (options.format === 'csv') {
        const quote = (text: string | null) => (text === null ? '' : `"${text.replace(/"/g, '""')}"`);
        const lines = sessions.map((s) => [s.id, quote(s.label), quote(s.command), s.startedAt, s.endedAt ?? '', s.endReason ?? '', s.samples, s.restarts,
          quote(Object.entries(s.verdicts).map(([type, verdict]) => `${type}:${verdict}`).join(' '))].join(','));
        process.stdout.write(`${['id,label,command,startedAt,endedAt,endReason,samples,restarts,alerts', ...lines].join('\n')}\n`);
        return;
      }
      const rows = sessions.map((s) => [
        String(s.id),
        s.label ?? '',
        new Date(s.startedAt).toISOString().replace('T', ' ').slice(0, 19),
        s.endedAt === null ? 'running' : formatElapsed(s.endedAt - s.startedAt),
        String(s.samples),
        String(s.restarts),
        s.endReason ?? '',
        Object.entries(s.verdicts).map(([type, verdict]) => `${type} ${verdict}`).join(', '),
        printable(s.command),
      ]);
      process.stdout.write(`${renderTable([['ID', 'LABEL', 'STARTED (UTC)', 'DURATION', 'SAMPLES', 'RESTARTS', 'END', 'ALERTS', 'COMMAND'], ...rows], 'all')}\n`);
    });
}

export function queryCommand(): Command {
  return new Command('query')
    .description('committed bytes per type over a time range of a session, optionally resampled')
    .argument('<session>', 'session id', parseSessionId)
    .addOption(dbOption())
    .option('--type <list>', 'comma-separated types (default: all)', (text: string) => parseTypeList(text, MEMORY_TYPES))
    .option('--from <time>', 'start: a duration after the session start (10m) or an ISO time')
    .option('--to <time>', 'end: a duration after the session start (2h) or an ISO time')
    .option('--every <interval>', 'one row per interval (1m, 1h)')
    .addOption(new Option('--agg <aggregate>', 'how --every reduces a bucket').choices(['max', 'avg', 'last']).default('max'))
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'csv', 'json']).default('table'))
    .action(async (id: number, options: { db: string; type?: MemoryType[]; from?: string; to?: string; every?: string; agg: Aggregate; format: string }) => {
      const every = options.every === undefined ? undefined : parseDuration(options.every, '--every') / 1000;
      const [{ committedColumns, loadSession, tickSums }, { csvLines, jsonLines, resample }, { tableLines }] = await Promise.all([
        import('../../db/read.js'),
        import('../../history/resample.js'),
        import('../../report/text.js'),
      ]);
      await withReadOnlyDatabase(options.db, async (db, alive) => {
        const session = loadSession(db, id, options.db, alive);
        const types = options.type ?? MEMORY_TYPES.filter((t) => t !== 'free');
        const from = options.from === undefined ? -Infinity : parseTimePoint(options.from, '--from', session.startedAt);
        const to = options.to === undefined ? Infinity : parseTimePoint(options.to, '--to', session.startedAt);
        // Only the range is read, and resampled as it comes: the rows of a week-long session are never all held.
        const rows = (): Iterable<Row> => {
          const ticks = tickSums(db, id, committedColumns(types), from, to);
          return every === undefined ? ticks : resample(ticks, every, options.agg);
        };
        const probe = rows()[Symbol.iterator]();
        const empty = probe.next().done;
        probe.return?.(); // closes its statement: the connection runs one at a time
        if (empty) throw new LeakwatchError(`no samples between ${options.from ?? 'the start'} and ${options.to ?? 'the end'} in session ${id}`);
        if (options.format === 'csv') return writeStreamed(csvLines(types, rows()));
        if (options.format === 'json') return writeStreamed(jsonLines(types, rows()));
        const cells = function* () {
          yield ['ELAPSED', ...types];
          for (const row of rows()) yield [formatElapsed(row.seconds * 1000), ...row.values.map(formatBytes)];
        };
        return writeStreamed(tableLines(cells, 'all'));
      });
    });
}

export function exportCommand(): Command {
  return new Command('export')
    .description('a session: csv = committed bytes per type and tick (for spreadsheets); json = every stored row (lossless, for import)')
    .argument('<session>', 'session id', parseSessionId)
    .addOption(dbOption())
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json']).default('csv'))
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (id: number, options: { db: string; format: 'csv' | 'json'; output?: string }) => {
      const [{ committedColumns, loadSession, tickSums }, { csvLines }, { dumpSession }, { schemaVersion }] = await Promise.all([
        import('../../db/read.js'),
        import('../../history/resample.js'),
        import('../../db/history.js'),
        import('../../db/open.js'),
      ]);
      // Streamed from SQLite to the output as the rows come.
      await withReadOnlyDatabase(options.db, (db, alive) => {
        const session = loadSession(db, id, options.db, alive);
        const text = options.format === 'json' ? dumpSession(db, session, schemaVersion()) : csvLines(MEMORY_TYPES, tickSums(db, id, committedColumns(MEMORY_TYPES)));
        return writeStreamed(text, options.output);
      });
    });
}

export function importCommand(): Command {
  return new Command('import')
    .description("load a leakwatch JSON export, VMMap CSV exports (one snapshot each: a timeline in the order given) or a VMMap .mmp file")
    .argument('<files...>', 'the files to import')
    .option('--db <file>', 'SQLite database to write', 'leakwatch.db')
    .option('--label <label>', 'a label for the imported session')
    .action(async (files: string[], options: { db: string; label?: string }) => {
      const [{ openForWrite, schemaVersion }, { loadDump, storeForeignSnapshots }, { parseVmmapCsv }, { parseVmmapMmp }, { detectImportFormat, readImportFile }, { decodeImportText }] = await Promise.all([
        import('../../db/open.js'),
        import('../../db/history.js'),
        import('../../import/vmmap-csv.js'),
        import('../../import/vmmap-mmp.js'),
        import('../../import/read.js'),
        import('../../import/text.js'),
      ]);
      const contents = files.map(readImportFile);
      const parse = <T>(file: string, fn: () => T): T => {
        try {
          return fn();
        } catch (error) {
          throw new LeakwatchError(`${file}: ${(error as Error).message}`);
        }
      };
      const kinds = contents.map(detectImportFormat);
      if (new Set(kinds).size > 1 || (kinds[0] !== 'csv' && files.length > 1)) {
        throw new LeakwatchError('import takes one JSON export, one .mmp file, or one or more VMMap CSV exports');
      }
      const db = openForWrite(options.db);
      try {
        let id: number;
        let count: number;
        if (kinds[0] === 'json') {
          const dump = parse(files[0], () => JSON.parse(decodeImportText(contents[0])));
          if (dump?.format !== 'leakwatch-session') throw new LeakwatchError(`${files[0]} is not a leakwatch export (export --format json)`);
          if (dump.schema > schemaVersion()) throw new LeakwatchError(`${files[0]} was exported by a newer leakwatch (schema ${dump.schema}; this one knows up to ${schemaVersion()})`);
          id = parse(files[0], () => loadDump(db, dump, options.label));
          count = dump.samples.length;
        } else if (kinds[0] === 'mmp') {
          const snapshots = parse(files[0], () => parseVmmapMmp(contents[0]));
          const firstTime = Date.parse(snapshots[0].timestamp ?? '') || statSync(files[0]).mtimeMs;
          // Without timestamps in the file the snapshots' times are unknown: they are stored a minute apart, in order.
          const ticks = snapshots.map((s, i) => {
            const at = Date.parse(s.timestamp ?? '') || firstTime + i * 60_000;
            return { takenAt: at, elapsedMs: at - firstTime, types: s.totals };
          });
          id = storeForeignSnapshots(db, { command: `VMMap snapshots from ${files[0]}`, platform: 'windows (VMMap .mmp)', label: options.label }, ticks);
          count = ticks.length;
        } else {
          // One snapshot per CSV file, timed by the files' modification times.
          const times = files.map((file) => statSync(file).mtimeMs);
          const ticks = files.map((file, i) => ({ takenAt: times[i], elapsedMs: Math.max(0, times[i] - times[0]), types: parse(file, () => parseVmmapCsv(contents[i])) }));
          id = storeForeignSnapshots(db, { command: `VMMap CSV exports: ${files.join(' ')}`, platform: 'windows (VMMap .csv)', label: options.label }, ticks);
          count = ticks.length;
        }
        process.stdout.write(`imported ${files.join(', ')} as session ${id} (${count} sample${count === 1 ? '' : 's'})\n`);
      } finally {
        db.$client.close();
      }
    });
}

export function compareCommand(): Command {
  return new Command('compare')
    .description('did session B leak more than session A? Per-type rates with CIs, the regression in words')
    .argument('<a>', 'session A (e.g. build N)', parseSessionId)
    .argument('<b>', 'session B (e.g. build N+1)', parseSessionId)
    .addOption(dbOption())
    .option('--json', 'print JSON')
    .option('--fail-on-regression', 'exit 1 when a gated type or sum grows significantly faster in B')
    .addOption(metricOption())
    .action(async (a: number, b: number, options: { db: string; json?: boolean; failOnRegression?: boolean; metric: Metric }) => {
      const [{ analyseStoredSession }, { compareFindings }] = await Promise.all([import('../analysis.js'), import('../../analysis/compare.js')]);
      const comparisons = await withReadOnlyDatabase(options.db, (db, alive) => {
        const fa = analyseStoredSession(db, a, options.db, ANALYZED_ROWS, alive, options.metric).findings;
        const fb = analyseStoredSession(db, b, options.db, ANALYZED_ROWS, alive, options.metric).findings;
        return ANALYZED_ROWS.map((type, i) => ({ type, gated: isGated(type), a: fa[i], b: fb[i], ...compareFindings(fa[i], fb[i]) }));
      });
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ a, b, metric: options.metric, types: comparisons.map((c) => ({ type: c.type, change: c.change, a: c.a, b: c.b, sentence: c.sentence })) })}\n`);
      } else {
        process.stdout.write(`${comparisons.filter((c) => c.gated || c.change !== 'same').map((c) => `- ${c.sentence}`).join('\n')}\n`);
      }
      if (options.failOnRegression && comparisons.some((c) => c.gated && c.change === 'regression')) {
        throw new LeakwatchError(`session ${b} leaks more than session ${a} (--fail-on-regression)`, 1);
      }
    });
}

export function pruneCommand(): Command {
  return new Command('prune')
    .description('delete old sessions (never one that is still being written)')
    .addOption(new Option('--db <file>', 'SQLite database').default('leakwatch.db'))
    .option('--older-than <duration>', 'delete sessions started longer ago than this (30d)')
    .option('--keep <n>', 'keep only the newest n sessions')
    .option('--dry-run', 'only list what would be deleted')
    .action(async (options: { db: string; olderThan?: string; keep?: string; dryRun?: boolean }) => {
      if (options.olderThan === undefined && options.keep === undefined) throw new LeakwatchError('prune needs --older-than <duration> or --keep <n>');
      if (options.keep !== undefined && !/^\d+$/.test(options.keep)) throw new LeakwatchError(`--keep needs a number of sessions, got '${options.keep}'`);
      const olderThanMs = options.olderThan === undefined ? undefined : Date.now() - parseDuration(options.olderThan, '--older-than');
      const [{ openForWrite }, { sessionsToPrune, deleteSessions }, alive] = await Promise.all([
        import('../../db/open.js'),
        import('../../db/history.js'),
        collectorAlive(),
      ]);
      const db = openForWrite(options.db);
      try {
        const doomed = sessionsToPrune(db, { olderThanMs, keep: options.keep === undefined ? undefined : Number(options.keep) },
          (s) => s.endedAt === null && alive(s.collectorPid, s.collectorStartTime));
        if (!options.dryRun) deleteSessions(db, doomed.map((s) => s.id));
        const verb = options.dryRun ? 'would delete' : 'deleted';
        process.stdout.write(`${verb} ${doomed.length} session${doomed.length === 1 ? '' : 's'}${doomed.length ? `: ${doomed.map((s) => s.id).join(', ')}` : ''}\n`);
      } finally {
        db.$client.close();
      }
    });
}

interface RegionsOptions {
  db: string;
  at?: string;
  diff?: string;
  top: string;
  json?: boolean;
}

export function regionsCommand(): Command {
  return new Command('regions')
    .description('the region list of a session rebuilt at a time, or what changed between two times')
    .argument('<session>', 'session id', parseSessionId)
    .addOption(dbOption())
    .option('--at <time>', 'rebuild the regions at this time (10m, 2h, ISO; default: the last tick)')
    .option('--diff <from..to>', 'what changed between two times, e.g. 1h..3h')
    .option('--top <n>', 'show this many regions, largest (or largest change) first', '20')
    .option('--json', 'print JSON')
    .action(async (id: number, options: RegionsOptions) => {
      if (!/^\d+$/.test(options.top)) throw new LeakwatchError(`--top needs a number, got '${options.top}'`);
      const top = Number(options.top);
      const [{ loadSession, regionsAt }, { tickAt, processesAt }, { diffRegions, sortedRegions }] = await Promise.all([
        import('../../db/read.js'),
        import('../../db/history.js'),
        import('../../db/region-deltas.js'),
      ]);
      const rows = await withReadOnlyDatabase(options.db, (db, alive) => {
        const session = loadSession(db, id, options.db, alive);
        const tick = (text: string | undefined, option: string) => {
          const seq = tickAt(db, id, text === undefined ? Infinity : parseTimePoint(text, option, session.startedAt));
          if (seq === undefined) throw new LeakwatchError(`session ${id} has no samples`);
          return seq;
        };
        if (options.diff !== undefined) {
          const [from, to] = options.diff.split('..');
          if (from === undefined || to === undefined) throw new LeakwatchError(`--diff needs <from>..<to>, e.g. 1h..3h, got '${options.diff}'`);
          const [a, b] = [tick(from, '--diff'), tick(to, '--diff')];
          return processesAt(db, id, b).flatMap((p) => {
            const before = regionsAt(db, p.id, a);
            return diffRegions(before, sortedRegions(regionsAt(db, p.id, b))).map((d) => {
              const was = d.kind === 'changed' ? before.get(d.start)!.committed : 0;
              return { pid: p.pid, change: d.kind, start: d.start, end: d.end, type: d.type, protection: d.protection, committedDelta: d.kind === 'removed' ? -d.committed : d.committed - was, details: d.details };
            });
          }).sort((x, y) => Math.abs(y.committedDelta) - Math.abs(x.committedDelta)).slice(0, top);
        }
        const seq = tick(options.at, '--at');
        return processesAt(db, id, seq)
          .flatMap((p) => sortedRegions(regionsAt(db, p.id, seq)).map((r) => ({ pid: p.pid, start: r.start, end: r.end, type: r.type, protection: r.protection, size: r.size, committed: r.committed, details: r.details })))
          .sort((x, y) => y.committed - x.committed)
          .slice(0, top);
      });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(rows)}\n`);
        return;
      }
      const table = rows.map((r) => [
        String(r.pid),
        'change' in r ? r.change : '',
        `${r.start}-${r.end}`,
        r.type,
        r.protection,
        'committedDelta' in r ? `${r.committedDelta >= 0 ? '+' : ''}${formatBytes(r.committedDelta)}` : formatBytes(r.committed),
        printable(r.details),
      ]);
      process.stdout.write(`${renderTable([['PID', options.diff ? 'CHANGE' : '', 'ADDRESS', 'TYPE', 'PROT', options.diff ? 'COMMITTED Δ' : 'COMMITTED', 'DETAILS'], ...table], 'all')}\n`);
    });
}

export function showCommand(): Command {
  return new Command('show')
    .description("one session's facts, first / last / peak committed memory per type, and its verdicts")
    .argument('<session>', 'session id', parseSessionId)
    .addOption(dbOption())
    .option('--json', 'print JSON')
    .action(async (id: number, options: { db: string; json?: boolean }) => {
      const { analyseStoredSession } = await import('../analysis.js');
      const { session, series, samples, durationSeconds, findings, restarts } = await withReadOnlyDatabase(options.db, (db, alive) => analyseStoredSession(db, id, options.db, ANALYZED_ROWS, alive));
      const types = Object.fromEntries(ANALYZED_ROWS.map((type) => {
        const values = rowValues(series.committed, type);
        const finding = findings.find((f) => f.type === type)!;
        return [type, { first: values[0] ?? 0, last: values.at(-1) ?? 0, peak: values.length ? values.reduce((a, b) => Math.max(a, b)) : 0, verdict: finding.verdict, slopeBytesPerHour: finding.slopeBytesPerHour }];
      }));
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ session, samples, durationSeconds, restarts, types })}\n`);
        return;
      }
      const facts = [
        `session ${id}${session.label ? ` (${printable(session.label)})` : ''}: ${printable(session.command)}`,
        `${session.mode} of pid ${session.targetPid} on ${session.host}, ${new Date(session.startedAt).toISOString()}, ${samples} samples over ${formatElapsed(durationSeconds * 1000)}, ended by ${session.endReason ?? 'nothing yet (still being recorded)'}${session.exitCode === null ? '' : ` (exit code ${session.exitCode})`}`,
        ...(restarts.length > 0 ? [`the program restarted ${restarts.length} time${restarts.length === 1 ? '' : 's'}, at ${restarts.map((r) => formatElapsed(r * 1000)).join(', ')}; each life is judged on its own`] : []),
      ];
      const rows = ANALYZED_ROWS.map((type) => {
        const t = types[type];
        return [type, formatBytes(t.first), formatBytes(t.last), formatBytes(t.peak), t.verdict, `${formatBytes(t.slopeBytesPerHour)}/h`];
      });
      process.stdout.write(`${facts.join('\n')}\n\n${renderTable([['TYPE', 'FIRST', 'LAST', 'PEAK', 'VERDICT', 'RATE'], ...rows], 'all')}\n`);
    });
}
