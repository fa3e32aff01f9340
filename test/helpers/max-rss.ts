/**
 * Loaded into a CLI run with `node --import`: as the process exits, writes its peak resident set (KiB, getrusage's
 * maxrss) to the file named by LEAKWATCH_MAX_RSS_FILE.
 */
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  const file = process.env.LEAKWATCH_MAX_RSS_FILE;
  if (file) writeFileSync(file, String(process.resourceUsage().maxRSS));
});
