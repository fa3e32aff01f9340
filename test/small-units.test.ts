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
