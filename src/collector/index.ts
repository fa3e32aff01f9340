import { LeakwatchError } from '../errors.js';
import type { Collector } from './types.js';

export * from './types.js';

/**
 * The collector for this platform, loaded lazily so that `--help` or a report never loads platform code
 * (on Windows that means koffi and its DLLs).
 */
export async function loadCollector(platform: NodeJS.Platform = process.platform): Promise<Collector> {
  switch (platform) {
    case 'linux':
      return (await import('./linux/index.js')).linuxCollector;
    case 'win32':
      return (await import('./windows/index.js')).windowsCollector;
    default:
      throw new LeakwatchError(`no collector for platform '${platform}' (Linux and 64-bit Windows are supported)`);
  }
}
