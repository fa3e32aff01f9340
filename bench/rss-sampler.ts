/**
 * The peer of the overhead benchmark: an RSS-only sampler, as psrecord or pidusage sample a process. Each tick it
 * reads /proc/PID/stat (utime, stime: fields 14 and 15, see `man 5 proc`) and /proc/PID/status (VmRSS) and appends
 * one line to a file, until killed.
 *   node rss-sampler.js <pid> <interval-ms> <out-file>
 */
import { openSync, readFileSync, writeSync } from 'node:fs';

const [pid, intervalMs, out] = process.argv.slice(2);
const fd = openSync(out, 'w');
setInterval(() => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const rssKiB = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
  writeSync(fd, `${Date.now()} ${fields[11]} ${fields[12]} ${rssKiB}\n`);
}, Number(intervalMs));
