/**
 * The exporter of `watch --serve`, in a worker thread: its analysis of the data so far (seconds on a long session)
 * never holds up the recorder's ticks. The parent tells it the session once the recording has one.
 */
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { LeakwatchError } from '../errors.js';
import { type Listen, type MetricsServer, serveMetrics } from './serve.js';

type ToWorker = { session: number } | { close: true };
type FromWorker = { url: string } | { error: string } | { closed: true };

/** Starts the worker serving `file`'s session (once told which) on `listen`; a port in use is a one-line error. */
export async function startMetricsWorker(file: string, listen: Listen): Promise<MetricsServer & { show(session: number): void }> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { file, listen } });
  const next = () => new Promise<FromWorker>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const started = await next();
  if ('error' in started) {
    await worker.terminate();
    throw new LeakwatchError(started.error);
  }
  if (!('url' in started)) throw new Error('the metrics worker did not start');
  return {
    url: started.url,
    waiting: false,
    show: (session) => worker.postMessage({ session } satisfies ToWorker),
    async close() {
      const closed = next();
      worker.postMessage({ close: true } satisfies ToWorker);
      await closed.catch(() => undefined);
      await worker.terminate();
    },
  };
}

async function runWorker(port: NonNullable<typeof parentPort>): Promise<void> {
  const { file, listen } = workerData as { file: string; listen: Listen };
  const shown: number[] = [];
  let server: MetricsServer;
  try {
    server = await serveMetrics(file, listen, () => shown);
  } catch (error) {
    port.postMessage({ error: (error as Error).message } satisfies FromWorker);
    return;
  }
  port.on('message', async (message: ToWorker) => {
    if ('session' in message) shown.push(message.session);
    else {
      await server.close();
      port.postMessage({ closed: true } satisfies FromWorker);
      port.close();
    }
  });
  port.postMessage({ url: server.url } satisfies FromWorker);
}

if (parentPort && workerData?.listen) void runWorker(parentPort);
