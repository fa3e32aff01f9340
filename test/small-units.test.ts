/** Pure helpers with known answers: limits parsers, escaping for HTML, script JSON and XML, downsampling. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAddressSpaceLimit, parseMeminfo, parseMemoryCgroup } from '../src/collector/linux/limits.js';
import { escapeHtml, scriptJson } from '../src/report/html.js';
import { escapeXml } from '../src/report/junit.js';
import { lttb } from '../src/report/lttb.js';

test('memory limits: /proc/PID/limits, /proc/meminfo and /proc/PID/cgroup', () => {
  assert.equal(parseAddressSpaceLimit('Max address space         unlimited            unlimited            bytes\n'), undefined);
  assert.equal(parseAddressSpaceLimit('Max address space         4294967296           unlimited            bytes\n'), 4294967296);
  assert.equal(parseMeminfo('MemTotal:       24000000 kB\nCommitLimit:    12341808 kB\n', 'CommitLimit'), 12341808 * 1024);
  assert.equal(parseMeminfo('MemTotal: 1 kB\n', 'CommitLimit'), undefined);
  assert.deepEqual(parseMemoryCgroup('0::/user.slice/app.service\n'), { version: 2, path: '/user.slice/app.service' });
  assert.deepEqual(parseMemoryCgroup('5:cpu,cpuacct:/\n4:memory:/docker/abc\n0::/\n'), { version: 1, path: '/docker/abc' });
  assert.equal(parseMemoryCgroup(''), undefined);
});

test('escaping: HTML text, JSON inside a script element, XML', () => {
  assert.equal(escapeHtml(`<img src=x onerror="a('b')">&`), '&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;');
  const json = scriptJson({ path: '</script><script>alert(1)</script>', sep: '\u2028' });
  assert.ok(!json.includes('<') && !json.includes('\u2028'));
  assert.deepEqual(JSON.parse(json), { path: '</script><script>alert(1)</script>', sep: '\u2028' });
  assert.equal(escapeXml('a<b>&"c"\u0001'), 'a&lt;b&gt;&amp;&quot;c&quot;');
});

test('LTTB keeps the first, the last and the peaks, and no more points than asked', () => {
  const x = Array.from({ length: 1000 }, (_, i) => i);
  const y = x.map((i) => (i === 500 ? 1000 : Math.sin(i / 50)));
  const d = lttb(x, y, 100);
  assert.equal(d.x.length, 100);
  assert.equal(d.x[0], 0);
  assert.equal(d.x[99], 999);
  assert.ok(d.y.includes(1000), 'the spike survives');
  assert.deepEqual(lttb([1, 2], [3, 4], 10), { x: [1, 2], y: [3, 4] });
});

test('formatDuration says a duration the way the options take it, and parseDuration reads it back', async () => {
  const { formatDuration, parseDuration } = await import('../src/vocabulary.js');
  const durations = [250, 1000, 2500, 300_000, 5_400_000, 43_200_000, 604_800_000];
  assert.deepEqual(durations.map(formatDuration), ['250ms', '1s', '2.5s', '5m', '1h30m', '12h', '7d']);
  assert.deepEqual(durations.map((ms) => parseDuration(formatDuration(ms), '--every')), durations);
  assert.equal(parseDuration('0s', '--at', { allowZero: true }), 0);
  assert.throws(() => parseDuration('0s', '--every'), /--every needs a duration like 500ms/);
});

test('formatElapsed: one rounding rule (nearest second), days from 24 h, milliseconds on request', async () => {
  const { formatElapsed } = await import('../src/vocabulary.js');
  // The time to a limit in a table (rounded seconds) and in a sentence (unrounded) read the same.
  assert.equal(formatElapsed(3_131_600), formatElapsed(3_131_500.4));
  assert.equal(formatElapsed(3_131_600), '0:52:12');
  assert.equal(formatElapsed(285_253_000), '3d 7:14:13');
  assert.equal(formatElapsed(9_250, 'ms'), '0:00:09.250');
  assert.equal(formatElapsed(9_999.6, 'ms'), '0:00:10.000');
  assert.equal(formatElapsed(0), '0:00:00');
});

test('formatBytes: three significant digits in binary units, whole bytes below 1 KiB', async () => {
  const { formatBytes } = await import('../src/vocabulary.js');
  assert.deepEqual([0, 1023, 1536, 20_000_000, -20_000_000, 150 * 2 ** 30].map(formatBytes), ['0 B', '1023 B', '1.50 KiB', '19.1 MiB', '-19.1 MiB', '150 GiB']);
});

test('--name matching: a glob on the process name or its program file; with a "/", part of the command line', async () => {
  const { matchesName } = await import('../src/watch/targets.js');
  const redis = { name: 'redis-server', argv: ['/usr/bin/redis-server', '*:6379'] };
  const python = { name: 'python3', argv: ['/usr/bin/python3', '/srv/app/server.py', '--port', '80'] };
  // The kernel's name is cut to 15 characters; the program's file name is not.
  const long = { name: 'my-very-long-se', argv: ['/opt/my-very-long-service-name'] };
  assert.ok(matchesName('redis-server', redis));
  assert.ok(matchesName('redis-*', redis));
  assert.ok(!matchesName('redis', redis), 'a name is matched whole');
  assert.ok(matchesName('my-very-long-service-name', long));
  assert.ok(matchesName('/srv/app/server.py', python));
  assert.ok(!matchesName('/srv/app/server.py', redis));
  assert.ok(!matchesName('python3.*', python), 'a dot is a dot');
});

test('readPidFile: the pid on the first line; nothing for a missing, empty or garbled file', async () => {
  const { readPidFile } = await import('../src/watch/targets.js');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(`${tmpdir()}/leakwatch-pidfile-`);
  try {
    const file = (text: string) => {
      writeFileSync(`${dir}/p`, text);
      return `${dir}/p`;
    };
    assert.equal(readPidFile(file('1234\n'))?.pid, 1234);
    assert.equal(readPidFile(file(' 77 '))?.pid, 77);
    assert.ok(Math.abs(readPidFile(file('5'))!.writtenAt - Date.now()) < 5000, 'when the file was written');
    assert.equal(readPidFile(file('')), undefined);
    assert.equal(readPidFile(file('pid=5\n')), undefined);
    assert.equal(readPidFile(`${dir}/missing`), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
