/** The process the snapshot and watch benchmarks sample. */
import { startAllocTarget, type Target } from '../test/helpers/targets.js';

/** ~1000 mappings (500 of them one-page anonymous rw-p), 64 MiB in [heap], 24 large mallocs (glibc mmapped chunks). */
export async function startBenchTarget(): Promise<Target> {
  const target = await startAllocTarget();
  await target.send('many 1000');
  await target.send(`malloc ${64 * 1024 * 1024}`);
  await target.send(`big 24 ${3 * 1024 * 1024}`);
  return target;
}
