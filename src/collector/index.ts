import { LeakwatchError } from '../errors.js';
import type { Collector } from './types.js';

export * from './types.js';

/** Where the processes to sample run: on this machine, or under Wine on it (Windows programs, by Windows pid). */
export type CollectorSource = 'local' | 'wine';

/**
 * The collector for this platform, or the Windows one under Wine, loaded lazily so that `--help` or a report never
 * loads platform code (on Windows that means koffi and its DLLs).
 */
export async function loadCollector(source: CollectorSource = 'local', platform: NodeJS.Platform = process.platform): Promise<Collector> {
  if (source === 'wine') {
    if (platform !== 'linux') throw new LeakwatchError('--wine samples Windows programs under Wine on Linux; here, leave it out');
    return (await import('./wine/index.js')).startWineCollector();
  }
  switch (platform) {
    case 'linux':
      return (await import('./linux/index.js')).linuxCollector;
    case 'win32':
      return (await import('./windows/index.js')).windowsCollector;
    default:
      throw new LeakwatchError(`no collector for platform '${platform}' (Linux and 64-bit Windows are supported)`);
  }
}
