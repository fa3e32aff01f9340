import { Command } from 'commander';
import { writeStderr } from '../../session/terminal.js';
import { parseDuration } from '../../vocabulary.js';
import { addExamples, dbOption, DEFAULT_LISTEN, parseListen } from '../options.js';
import { printJson } from '../print.js';
import { setLongTimeout } from '../../watch/timer.js';

export function serveCommand(): Command {
  const command = new Command('serve')
    .description('expose every session being recorded into a database to Prometheus (/metrics), until Ctrl-C or SIGTERM')
    .addOption(dbOption('read'))
    .option('--listen <[host:]port>', `where to serve http://host:port/metrics (a port alone: on 127.0.0.1; another host is an explicit choice)`, parseListen, parseListen(DEFAULT_LISTEN))
    .option('--duration <duration>', 'stop after this long (12h); default: until Ctrl-C or SIGTERM')
    .option('--json', 'print {"url","db"} on stdout once serving')
    .action(async (options: { db: string; listen: { host: string; port: number }; duration?: string; json?: boolean }) => {
      const durationMs = options.duration === undefined ? undefined : parseDuration(options.duration, '--duration');
      const { serveMetrics } = await import('../../session/serve.js');
      const server = await serveMetrics(options.db, options.listen, 'live');
      writeStderr(`leakwatch: serving Prometheus metrics at ${server.url} (the sessions being recorded into ${options.db})\n`);
      if (server.waiting) writeStderr(`leakwatch: no database at ${options.db} yet: no sessions until a watch creates it\n`);
      if (options.json) printJson({ url: server.url, db: options.db });
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => resolve());
        if (durationMs !== undefined) setLongTimeout(resolve, durationMs);
      });
      await server.close();
    });
  return addExamples(command, [
    'leakwatch serve --db soak.db                        # http://127.0.0.1:9464/metrics',
    'leakwatch serve --db soak.db --listen 0.0.0.0:9464  # reachable from other machines',
  ]);
}
