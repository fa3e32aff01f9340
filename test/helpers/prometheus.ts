/** The real Prometheus server (Debian's `prometheus` package) on a loopback port, for the fleet tests. */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { sleep } from './live.js';

export interface PrometheusServer {
  url: string;
  /** An instant query's result (vector), at `time` (Unix seconds) or now. */
  query(expr: string, time?: number): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  stop(): Promise<void>;
}

/** Whether the server and promtool are installed (`.ci/run` installs them). */
export const prometheusInstalled = () => spawnSync('prometheus', ['--version']).status === 0 && spawnSync('promtool', ['--version']).status === 0;

/** A port free right now on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts Prometheus with `config` (written as JSON, which YAML reads) and its TSDB in `dataDir`, and waits until it
 * is ready. The server is the real one: scrapes, rules, the query API and its limits are Prometheus's own.
 */
export async function startPrometheus(dir: string, config: object, dataDir = path.join(dir, 'data')): Promise<PrometheusServer> {
  const configFile = path.join(dir, 'prometheus.yml');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const check = spawnSync('promtool', ['check', 'config', configFile], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`promtool check config: ${check.stdout}${check.stderr}`);
  const port = await freePort();
  let log = '';
  const child = spawn('prometheus', [`--config.file=${configFile}`, `--storage.tsdb.path=${dataDir}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (log += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  for (let ready = false; !ready; ) {
    if (child.exitCode !== null) throw new Error(`prometheus exited: ${log}`);
    ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (!ready) await sleep(100);
  }
  return {
    url,
    async query(expr, time) {
      const params = new URLSearchParams({ query: expr, ...(time !== undefined && { time: String(time) }) });
      const reply = (await (await fetch(`${url}/api/v1/query?${params}`)).json()) as { status: string; error?: string; data: { result: [] } };
      if (reply.status !== 'success') throw new Error(`query ${expr}: ${reply.error}`);
      return reply.data.result;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
