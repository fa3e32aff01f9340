import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Command } from 'commander';
import { ANALYZED_TYPES } from '../../analysis/session.js';
import { LeakwatchError } from '../../errors.js';
import { formatBytes } from '../../units.js';
import { parseSessionId } from '../options.js';

/** chart.js's UMD bundle, next to its CommonJS entry (the package does not export the file itself). */
function chartJsBundle(): string {
  return path.join(path.dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');
}

// The regions table shows this many of the largest growths.
const REGION_ROWS = 20;

interface ReportOptions {
  db: string;
  output?: string;
}

export function reportCommand(): Command {
  return new Command('report')
    .description('write a self-contained HTML report of a session: verdicts, charts, regions, latest sample')
    .argument('<session>', 'session id', parseSessionId)
    .option('--db <file>', 'SQLite database to read', 'leakwatch.db')
    .option('-o, --output <file>', 'where to write the report (default: leakwatch-session-<id>.html)')
    .action(async (id: number, options: ReportOptions) => {
      const [{ openForRead }, { regionGrowth, typeTotalsAtLastTick }, { analyseStoredSession }, { renderReport }] = await Promise.all([
        import('../../db/open.js'),
        import('../../db/read.js'),
        import('../analysis.js'),
        import('../../report/html.js'),
      ]);
      const db = openForRead(options.db);
      let html: string;
      try {
        const analysed = analyseStoredSession(db, id, options.db, ANALYZED_TYPES);
        const { session, series } = analysed;
        html = renderReport(
          {
            session: {
              id,
              command: session.command,
              label: session.label,
              pid: session.targetPid,
              host: session.host,
              platform: session.platform,
              mode: session.mode,
              startedAt: session.startedAt,
              endedAt: session.endedAt,
              endReason: session.endReason,
              exitCode: session.exitCode,
              schedule: session.cron ? `cron "${session.cron}"` : `every ${session.intervalMs} ms`,
              limit: session.limitBytes === null ? null : `${formatBytes(session.limitBytes)} (${session.limitSource})`,
            },
            samples: analysed.samples,
            durationSeconds: analysed.durationSeconds,
            findings: analysed.findings,
            t: series.t,
            committed: series.committed,
            totalWs: series.totalWs,
            latest: typeTotalsAtLastTick(db, id),
            regions: regionGrowth(db, id, series.t[0] ?? 0).filter((r) => r.growthBytes !== 0).slice(0, REGION_ROWS),
          },
          readFileSync(chartJsBundle(), 'utf8'),
        );
      } finally {
        db.$client.close();
      }
      const output = options.output ?? `leakwatch-session-${id}.html`;
      try {
        writeFileSync(output, html);
      } catch (error) {
        throw new LeakwatchError(`cannot write ${output}: ${(error as Error).message}`);
      }
      process.stdout.write(`report written to ${output}\n`);
    });
}
