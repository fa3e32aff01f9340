/**
 * Loaded into a CLI run with `node --import`: as the process exits, writes to the file named by
 * LEAKWATCH_MAX_RSS_FILE its peak resident set (`maxRssKiB`, getrusage's maxrss) and the bytes it read (`readBytes`,
 * rchar of /proc/self/io: files, pipes and its own modules; null where Linux's /proc is missing).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

process.on('exit', () => {
  const file = process.env.LEAKWATCH_MAX_RSS_FILE;
  if (!file) return;
  const readBytes = existsSync('/proc/self/io') ? Number(/^rchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))![1]) : null;
  writeFileSync(file, JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS, readBytes }));
});
