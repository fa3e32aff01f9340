/** Imports of VMMap's files (NOTES §5): hand-made fixtures and files built here, malformed and hostile ones refused. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { LeakwatchError } from '../src/errors.js';
import { detectImportFormat, importFileChunks, importFormat, readImportFile } from '../src/import/read.js';
import { MAX_IMPORT_BYTES } from '../src/import/text.js';
import { MAX_RECORD_CHARS, parseVmmapCsv } from '../src/import/vmmap-csv.js';
import { parseVmmapMmp } from '../src/import/vmmap-mmp.js';
import { repoRoot } from './helpers/targets.js';

const fixture = (name: string) => readFileSync(path.join(repoRoot(), 'test', 'fixtures', name));
const KiB = 1024;
const MiB = 1024 * KiB;
// rchar: the bytes this process has read (Linux); where it is missing, only the refusal is checked.
const readBytes = () => (existsSync('/proc/self/io') ? Number(/^rchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))![1]) : 0);
/** This process's descriptors open on `file` (Linux; none where /proc is missing). */
const openOn = (file: string) =>
  (existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').filter((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`) === file; } catch { return false; } }).length : 0);
const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-import-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const utf8 = (text: string) => Buffer.from(text, 'utf8');
const withBom = (text: string) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8(text)]);
const utf16le = (text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
const utf16be = (text: string) => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);
/** An .mmp document with one snapshot around `body`. */
const mmp = (body: string) => utf8(`<?xml version="1.0"?>\n<root>\n<Snapshot>\n${body}\n</Snapshot>\n</root>\n`);
const heapOf = (bytes: Buffer) => parseVmmapMmp(bytes)[0].totals.heap;
/** Throws, with a message of one line matching `pattern`. */
function throwsOneLine(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: Error) => oneLine(error, pattern));
}
/** Rejects, with a message of one line matching `pattern`. */
async function rejectsOneLine(fn: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(fn, (error: Error) => oneLine(error, pattern));
}
function oneLine(error: Error, pattern: RegExp): true {
  assert.match(error.message, pattern);
  assert.doesNotMatch(error.message, /\n/);
  return true;
}

// ---- VMMap CSV ----

test('VMMap CSV: the summary block, KB with thousands separators, empty cells left out, Total and Unusable skipped', async () => {
  const totals = await parseVmmapCsv(fixture('vmmap-1.csv'));
  assert.deepEqual(Object.keys(totals).sort(), ['free', 'heap', 'image', 'managedHeap', 'mappedFile', 'pageTable', 'private', 'shareable', 'stack']);
  assert.deepEqual(totals.heap, { size: 65_536 * KiB, committed: 32_768 * KiB, private: 32_000 * KiB, totalWs: 30_000 * KiB, privateWs: 30_000 * KiB, blocks: 8, largest: 16_384 * KiB });
  assert.equal(totals.private!.committed, 200_000 * KiB, 'VMMap calls it Private Data');
  assert.equal(totals.image!.lockedWs, undefined, 'an empty cell is unknown, not zero');
  assert.equal(totals.pageTable!.blocks, undefined);
  assert.equal(totals.free!.size, 137_438_953_472 * KiB);
});

test('VMMap CSV: malformed input names its line', async () => {
  await assert.rejects(() => parseVmmapCsv(fixture('vmmap-bad.csv')), /^Error: line 2: '12x34' is not an amount in KB$/);
  await assert.rejects(() => parseVmmapCsv(utf8('hello')), /no VMMap summary block/);
  await assert.rejects(() => parseVmmapCsv(utf8('"Type","Size"\n"Heap","1","2"\n')), /^Error: line 2: 3 fields, the header has 2$/);
  await assert.rejects(() => parseVmmapCsv(utf8('"Type","Size"\n"Heap","1"\n"Heap","2"\n')), /^Error: line 3: a second 'Heap' row$/);
});

const SUMMARY = '"Type","Size","Committed","Blocks"\n"Total","3","2","3"\n"Heap","1,024","512","2"\n"Unusable","64","","1"\n';
const DETAILS = '"Address","Type","Size","Details"\n';

test('VMMap CSV: a quoted newline, comma and "" escape in a cell are text; an unterminated quote in the summary is refused, the details block is not read', async () => {
  const quoted = '"Type","Size","Committed","Blocks"\n"Heap","1,024","512","2"\n"Unusable","64","","Heap ID: 0, ""default""\nsecond line of the cell"\n';
  assert.deepEqual(await parseVmmapCsv(utf8(quoted)), { heap: { size: 1024 * KiB, committed: 512 * KiB, blocks: 2 } });
  const details = `${DETAILS}"00010000","Heap","1,024","Heap ID: 0, ""default""\nsecond line of the cell"\n"00020000","Stack","64","Thread ID: 1"\n`;
  assert.deepEqual(await parseVmmapCsv(utf8(`${SUMMARY}\n${details}`)), { heap: { size: 1024 * KiB, committed: 512 * KiB, blocks: 2 } });
  // Reading ends with the summary block: a broken details block is never looked at.
  assert.deepEqual(await parseVmmapCsv(utf8(`${SUMMARY}\n${DETAILS}"00010000","Heap","1,024","no end\n`)), { heap: { size: 1024 * KiB, committed: 512 * KiB, blocks: 2 } });
  await rejectsOneLine(() => parseVmmapCsv(utf8('"Type","Size"\n"Heap","1,024\n')), /^malformed CSV: Quote Not Closed/);
  await rejectsOneLine(() => parseVmmapCsv(utf8(`${SUMMARY}"Stack","1,024\n`)), /^malformed CSV: Quote Not Closed.*line 5/);
});

test('VMMap CSV: lines are counted in the file, across a cell that spans lines', async () => {
  const preamble = '"Process","C:\\app.exe\n--flag"\n\n';
  await rejectsOneLine(() => parseVmmapCsv(utf8(`${preamble}"Type","Size"\n"Heap","1x"\n`)), /^line 5: '1x' is not an amount in KB$/);
});

test('VMMap CSV: amounts with one consistent thousands separator; 1.5 and out-of-range amounts refused', async () => {
  const heapSize = async (cell: string) => (await parseVmmapCsv(utf8(`"Type","Size","Blocks"\n"Heap","${cell}","1"\n`))).heap!.size;
  for (const cell of ['1234567', '1,234,567', '1.234.567', '1 234 567', "1'234'567", '1\u00a0234\u00a0567', '1\u202f234\u202f567']) {
    assert.equal(await heapSize(cell), 1_234_567 * KiB, cell);
  }
  assert.equal(await heapSize(' 12 '), 12 * KiB, 'white space around the amount is not part of it');
  for (const cell of ['1.5', '12,34', '1,2345', '1,234.567', '1.234,567', ',123', '1,,234', '1 ,234', '-1', '+1', '1e3', '0x10']) {
    await rejectsOneLine(() => heapSize(cell), /^line 2: '.*' is not an amount in KB$/);
  }
  const huge = '9'.repeat(400);
  await rejectsOneLine(() => heapSize(huge), /^line 2: '9{24}…' is too large to be an amount in KB$/);
  assert.equal(await heapSize('8796093022207'), 8_796_093_022_207 * KiB, 'the largest KB amount whose bytes are a safe integer');
  await rejectsOneLine(() => heapSize('8796093022208'), /too large/);
  const blocks = async (cell: string) => (await parseVmmapCsv(utf8(`"Type","Size","Blocks"\n"Heap","1","${cell}"\n`))).heap!.blocks;
  assert.equal(await blocks('1,234'), 1234, 'Blocks is a count, not KB');
  assert.equal(await blocks(''), undefined);
  await rejectsOneLine(() => blocks('2.5'), /^line 2: '2\.5' is not a number of blocks$/);
});

test('VMMap CSV: UTF-8 with a BOM and UTF-16 LE/BE read the same as plain UTF-8, also when a character or the BOM is split between chunks; invalid bytes refused', async () => {
  const text = readFileSync(path.join(repoRoot(), 'test', 'fixtures', 'vmmap-1.csv'), 'utf8');
  const plain = await parseVmmapCsv(utf8(text));
  assert.deepEqual(await parseVmmapCsv(withBom(text)), plain);
  assert.deepEqual(await parseVmmapCsv(utf16le(text)), plain);
  assert.deepEqual(await parseVmmapCsv(utf16be(text)), plain);
  assert.equal(plain.heap!.size, 65_536 * KiB);
  // A file read one byte at a time: every code unit and the byte order mark arrive in pieces.
  const byteByByte = async function* (bytes: Buffer) {
    for (const byte of bytes) yield Uint8Array.of(byte);
  };
  for (const bytes of [withBom(text), utf16le(text), utf16be(text)]) assert.deepEqual(await parseVmmapCsv(byteByByte(bytes)), plain);
  const nbsp = '"Type","Size"\n"Heap","1\u00a0234"\n';
  assert.equal((await parseVmmapCsv(byteByByte(utf8(nbsp)))).heap!.size, 1234 * KiB, 'a two-byte character split between chunks');
  await rejectsOneLine(() => parseVmmapCsv(Buffer.concat([utf8('"Type","Size"\n"Heap","1'), Buffer.from([0xff]), utf8('"\n')])), /^not valid UTF-8 text/);
  // UTF-16 without a byte order mark is not guessed: read as UTF-8, its NULs are not CSV.
  await rejectsOneLine(() => parseVmmapCsv(Buffer.from(text, 'utf16le')), /^malformed CSV: .*line 1/);
});

/** A VMMap CSV file: `head`, then `mib` MiB of details rows (more columns than the summary, as VMMap writes), then `tail`. */
function vmmapCsvFile(name: string, head: string, mib: number, tail = ''): string {
  const file = path.join(dir, name);
  writeFileSync(file, `${head}\n"Address","Type","Size","Committed","Protection","Details"\n`);
  const row = '"00007FF6A0000000","Heap","1,024","512","Read/Write","Heap ID: 2 [LOW FRAGMENTATION]"\n';
  const block = row.repeat(Math.floor(MiB / row.length));
  for (let i = 0; i < mib; i++) appendFileSync(file, block);
  appendFileSync(file, tail);
  return file;
}

test('VMMap CSV from a file: a 60 MB details block is not read; the file is closed when reading stops', async () => {
  const file = vmmapCsvFile('details-60.csv', SUMMARY, 60);
  const read = { bytes: 0 };
  const before = readBytes();
  assert.deepEqual(await parseVmmapCsv(importFileChunks(file), read), { heap: { size: 1024 * KiB, committed: 512 * KiB, blocks: 2 } });
  assert.ok(read.bytes <= 64 * KiB, `${read.bytes} bytes taken: the first chunk holds the summary block`);
  assert.ok(readBytes() - before < MiB, 'the details block was not read');
  assert.equal(openOn(file), 0, 'closed');
});

test('VMMap CSV from a file: a details block broken past its first chunk (an unclosed quote, invalid UTF-8, a 1 MiB record) imports: it is never parsed', async () => {
  const broken = `"0001","Heap","1","no end${'x'.repeat(MiB)}\n\xff\xfe`;
  const file = vmmapCsvFile('details-broken.csv', SUMMARY, 1, broken);
  const read = { bytes: 0 };
  assert.deepEqual(await parseVmmapCsv(importFileChunks(file), read), { heap: { size: 1024 * KiB, committed: 512 * KiB, blocks: 2 } });
  assert.ok(read.bytes <= 64 * KiB, `${read.bytes} bytes taken`);
});

test('VMMap CSV from a file: in the summary block an unclosed quote or a record over 64 KiB is refused in one line, after 64 KiB of it', async () => {
  const quote = path.join(dir, 'summary-quote.csv');
  writeFileSync(quote, `${SUMMARY}"Stack","1,024","`);
  appendFileSync(quote, Buffer.alloc(60 * MiB, 'a'));
  const read = { bytes: 0 };
  await rejectsOneLine(() => parseVmmapCsv(importFileChunks(quote), read), /^line 5: a CSV record longer than 64 KiB: a quote that is never closed, or not a VMMap CSV file$/);
  assert.ok(read.bytes <= 2 * MAX_RECORD_CHARS, `${read.bytes} bytes taken`);
  assert.equal(openOn(quote), 0, 'closed after a refusal too');
  const long = vmmapCsvFile('summary-long.csv', `${SUMMARY}"Stack","${'1'.repeat(70 * KiB)}","1","1"\n`, 1);
  await rejectsOneLine(() => parseVmmapCsv(importFileChunks(long)), /^line 5: a CSV record longer than 64 KiB/);
});

test('VMMap CSV: no more than 64 MiB is read looking for the summary block or its end', async () => {
  const rows = (row: string) => Buffer.alloc(MAX_IMPORT_BYTES, row);
  await rejectsOneLine(() => parseVmmapCsv(Buffer.concat([utf8('"Type","Size"\n'), rows(`"Other","${'1'.repeat(1000)}"\n`)])),
    /^the summary block does not end within the import limit of 64 MiB$/);
  await rejectsOneLine(() => parseVmmapCsv(Buffer.concat([rows(`"Process","${'x'.repeat(1000)}"\n`), utf8('"Type","Size"\n')])),
    /^no VMMap summary block within the import limit of 64 MiB$/);
});

// ---- VMMap .mmp ----

test('VMMap .mmp: regions summed per UseType per snapshot; unknown use types left out', () => {
  const snapshots = parseVmmapMmp(fixture('vmmap.mmp'));
  assert.equal(snapshots.length, 2);
  assert.equal(snapshots[0].timestamp, '2026-11-01T10:00:00Z');
  const first = snapshots[0].totals;
  assert.deepEqual(Object.keys(first).sort(), ['heap', 'image', 'stack']);
  assert.deepEqual(first.heap, { size: 1048576, committed: 524288, private: 524288, totalWs: 262144, privateWs: 262144, blocks: 2, largest: 1048576 });
  assert.equal(first.image!.totalWs, 8192 + 200000);
  assert.equal(snapshots[1].totals.heap!.committed, 1572864);
});

test('VMMap .mmp: nested allocations (XML-nested and sibling-contained) count every byte once', () => {
  const [first, second] = parseVmmapMmp(fixture('vmmap-nested.mmp'));
  assert.deepEqual(Object.keys(first.totals).sort(), ['heap', 'image', 'stack'], 'the unknown UseType 7 is left out with the Heap block inside it');
  assert.deepEqual(first.totals.heap, {
    size: 1048576 + 65536, committed: 262144 + 65536, private: 262144 + 65536, totalWs: 131072 + 4096, privateWs: 131072 + 4096,
    blocks: 2 + 1, largest: 1048576,
  });
  assert.deepEqual(first.totals.image, { size: 409600, committed: 409600, private: 8192, totalWs: 208192, privateWs: 8192, blocks: 3, largest: 409600 });
  // The stack's allocation row has no PrivateWS and no Blocks: those come from its three blocks, once.
  assert.deepEqual(first.totals.stack, { size: 1048576, committed: 65536, private: 65536, totalWs: 16384, privateWs: 16384, blocks: 3, largest: 1048576 });
  assert.equal(second.timestamp, undefined);
  assert.deepEqual(second.totals.heap, { size: 2097152, committed: 1048576, private: 1048576, totalWs: 524288, privateWs: 524288, blocks: 1, largest: 2097152 });
});

test('VMMap .mmp: a block with the same range as its allocation, and a deep chain, are inside it', () => {
  const same = mmp('<Region Address="0" Size="4096" Commit="4096" UseType="0"/><Region Address="0" Size="4096" Commit="4096" UseType="0"/>');
  assert.deepEqual(heapOf(same), { size: 4096, committed: 4096, private: 0, totalWs: 0, privateWs: 0, blocks: 1, largest: 4096 });
  const depth = 40_000;
  const chain = Array.from({ length: depth }, (_, i) => `<Region Address="${i}" Size="${2 * (depth - i)}" Commit="${2 * (depth - i)}" UseType="0">`).join('\n');
  const started = performance.now();
  const heap = heapOf(mmp(`${chain}\n${'</Region>'.repeat(depth)}`))!;
  assert.ok(performance.now() - started < 2000, 'linear in the depth');
  assert.deepEqual([heap.size, heap.committed, heap.blocks], [2 * depth, 2 * depth, 1]);
  // Siblings in any order of the file: the tree is built from the addresses.
  const shuffled = mmp('<Region Address="8192" Size="4096" Commit="4096" UseType="0"/><Region Address="4096" Size="8192" Commit="8192" UseType="0"/><Region Address="4096" Size="4096" Commit="4096" UseType="0"/>');
  assert.deepEqual([heapOf(shuffled)!.size, heapOf(shuffled)!.blocks], [8192, 2]);
});

test('VMMap .mmp: ranges that contradict the nesting are refused, not double-counted', () => {
  throwsOneLine(() => heapOf(mmp('<Region Address="0" Size="8192" UseType="0"/>\n<Region Address="4096" Size="8192" UseType="0"/>')), /^line 5: Region overlaps the Region at line 4 without lying inside it$/);
  throwsOneLine(() => heapOf(mmp('<Region Address="0" Size="4096" UseType="0">\n<Region Address="4096" Size="4096" UseType="0"/></Region>')),
    /^line 5: a Region written inside the Region at line 4 lies outside its address range$/);
});

test('VMMap .mmp: single quotes, comments, CDATA, white space and other elements parse as XML says', () => {
  const body = [
    "<Region Address='65536' Size='8192' Commit='4096' PrivateWS='4096' UseType='0'/>",
    '<!-- <Region Address="1048576" Size="65536" Commit="65536" UseType="0"/> -->',
    '<Details><![CDATA[<Region Address="2097152" Size="65536" Commit="65536" UseType="0"/>]]></Details>',
    '<Regions>\n  <Region\n    Address = "131072"\n\tSize="4096"\n    Commit="4096" UseType="0"\n    Details="a &quot;quoted&quot; &amp; &lt;odd&gt; name" >\n    <Note>text</Note>\n  </Region>\n</Regions>',
  ].join('\n');
  assert.deepEqual(heapOf(mmp(body)), { size: 12288, committed: 8192, private: 0, totalWs: 4096, privateWs: 4096, blocks: 2, largest: 8192 });
});

test('VMMap .mmp: UTF-8 with a BOM and UTF-16 LE/BE read the same as plain UTF-8', () => {
  const text = readFileSync(path.join(repoRoot(), 'test', 'fixtures', 'vmmap-nested.mmp'), 'utf8').replace('encoding="utf-8"', 'encoding="utf-16"');
  const plain = parseVmmapMmp(utf8(text));
  assert.equal(plain[0].totals.heap!.size, 1048576 + 65536);
  assert.deepEqual(parseVmmapMmp(withBom(text)), plain);
  assert.deepEqual(parseVmmapMmp(utf16le(text)), plain);
  assert.deepEqual(parseVmmapMmp(utf16be(text)), plain);
  throwsOneLine(() => parseVmmapMmp(Buffer.from(text, 'utf16le')), /^malformed XML: line 1/);
});

test('VMMap .mmp: billion laughs refused at once, without expanding anything', () => {
  const entities = Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`).join('\n');
  const laughs = `<?xml version="1.0"?>\n<!DOCTYPE root [\n<!ENTITY lol0 "lol">\n${entities}\n]>\n<root><Snapshot><Region Address="0" Size="1" UseType="0" Details="&lol9;">&lol9;</Region></Snapshot></root>`;
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  throwsOneLine(() => parseVmmapMmp(utf8(laughs)), /^line 13: a DOCTYPE is not accepted/);
  assert.ok(performance.now() - started < 1000);
  assert.ok(process.memoryUsage().rss - rssBefore < 64 * 1024 * 1024, '3 GB of "lol" were not built');
  // Without a DOCTYPE an entity is not defined at all: only XML's own five are read.
  throwsOneLine(() => parseVmmapMmp(mmp('<Region Address="0" Size="1" UseType="0" Details="&lol9;"/>')), /^malformed XML: line 4, column \d+: undefined entity$/);
});

test('VMMap .mmp: an external entity is never read', () => {
  const secret = path.join(dir, 'secret.txt');
  writeFileSync(secret, 'SECRET-CONTENT-1234');
  const xml = `<?xml version="1.0"?>\n<!DOCTYPE root [<!ENTITY x SYSTEM "file://${secret}">]>\n<root><Snapshot><Region Address="0" Size="1" UseType="0" Details="&x;"/></Snapshot></root>`;
  assert.throws(() => parseVmmapMmp(utf8(xml)), (error: Error) => {
    assert.match(error.message, /^line 2: a DOCTYPE is not accepted/);
    assert.doesNotMatch(error.message, /SECRET/);
    return true;
  });
});

test('VMMap .mmp: 40,000 unclosed elements are refused in linear time', () => {
  let started = performance.now();
  throwsOneLine(() => parseVmmapMmp(utf8(`<root>${'<Snapshot>'.repeat(40_000)}`)), /^line 1: a Snapshot inside a Snapshot$/);
  assert.ok(performance.now() - started < 1000);
  started = performance.now();
  const regions = '<Region Address="0" Size="1" UseType="0">\n'.repeat(40_000);
  throwsOneLine(() => parseVmmapMmp(utf8(`<root><Snapshot>${regions}`)), /^malformed XML: line 40001, column 0: unclosed tag: Region$/);
  assert.ok(performance.now() - started < 1000);
  started = performance.now();
  throwsOneLine(() => parseVmmapMmp(utf8(`<root>${'<Snapshot Timestamp="x"/>'.repeat(40_000)}`)), /unclosed tag: root/);
  assert.ok(performance.now() - started < 1000);
});

test('VMMap .mmp: attributes that are not whole byte counts are refused, naming the attribute and line', () => {
  const region = (attributes: string) => () => parseVmmapMmp(mmp(`<Region Address="0" UseType="0" ${attributes}/>`));
  throwsOneLine(region('Size="abc"'), /^line 4: Region attribute Size="abc" is not a whole number below 2\^53$/);
  throwsOneLine(region('Size="-1"'), /Size="-1"/);
  throwsOneLine(region('Size="1.5"'), /Size="1\.5"/);
  throwsOneLine(region('Size=""'), /Size=""/);
  throwsOneLine(region('Size=" 1"'), /Size=" 1"/);
  throwsOneLine(region('Size="9007199254740992"'), /Size="9007199254740992"/);
  throwsOneLine(region(`Size="${'9'.repeat(400)}"`), /Size="9{24}…"/);
  throwsOneLine(region('Size="1" Commit="x"'), /Commit="x"/);
  throwsOneLine(region('Size="1" Blocks="two"'), /Blocks="two"/);
  throwsOneLine(region('Size="1" UseType="heap"'), /malformed XML: .*duplicate attribute/);
  throwsOneLine(() => parseVmmapMmp(mmp('<Region Address="0" Size="1" UseType="x"/>')), /UseType="x"/);
  throwsOneLine(() => parseVmmapMmp(mmp('<Region Size="1" UseType="0"/>')), /^line 4: Region without an Address attribute$/);
  throwsOneLine(() => parseVmmapMmp(mmp('<Region Address="0" UseType="0"/>')), /^line 4: Region without a Size attribute$/);
  throwsOneLine(() => parseVmmapMmp(mmp('<Region Address="0" Size="1"/>')), /^line 4: Region without a UseType attribute$/);
  throwsOneLine(() => parseVmmapMmp(mmp('<Region Address="9007199254740000" Size="4096" UseType="0"/>')), /Address \+ Size is beyond 2\^53/);
});

test('VMMap .mmp: use types 7, 9 and 10 left out; snapshots kept in file order', () => {
  const unknown = parseVmmapMmp(mmp(['7', '9', '10', '11'].map((t, i) => `<Region Address="${i * 4096}" Size="4096" UseType="${t}"/>`).join('')));
  assert.deepEqual(unknown[0].totals, {});
  const xml = '<root><Snapshot Timestamp="b"><Region Address="0" Size="1" UseType="6"/></Snapshot><Snapshot Timestamp="a"><Region Address="0" Size="2" UseType="8"/></Snapshot></root>';
  const snapshots = parseVmmapMmp(utf8(xml));
  assert.deepEqual(snapshots.map((s) => s.timestamp), ['b', 'a']);
  assert.equal(snapshots[0].totals.free!.size, 1);
  assert.equal(snapshots[1].totals.managedHeap!.size, 2);
});

test('VMMap .mmp: malformed or foreign XML is refused with one line naming where', () => {
  throwsOneLine(() => parseVmmapMmp(utf8('<root/>')), /^no <Snapshot> element found/);
  throwsOneLine(() => parseVmmapMmp(utf8('')), /^malformed XML: line 1, column 0: document must contain a root element$/);
  throwsOneLine(() => parseVmmapMmp(utf8('<root>\n<Snapshot>\n<Region Address="0" Size="1" UseType="0">\n</Snapshot></root>')), /^malformed XML: line 4, column \d+: unexpected close tag$/);
  throwsOneLine(() => parseVmmapMmp(utf8('<root><Region Address="0" Size="1" UseType="0"/></root>')), /^line 1: a Region outside any Snapshot$/);
  throwsOneLine(() => parseVmmapMmp(utf8('<root><Snapshot></Snapshot></root><x/>')), /^malformed XML: .*only one root/);
  throwsOneLine(() => parseVmmapMmp(utf8('<root><Snapshot>\u0001</Snapshot></root>')), /^malformed XML: .*disallowed character/);
});

// ---- Reading files ----

test('the size limit: a sparse 100 MB file is refused from its size, without being read; parsers refuse big input too', () => {
  const big = path.join(dir, 'big.mmp');
  writeFileSync(big, '');
  truncateSync(big, 100 * 1024 * 1024);
  const before = readBytes();
  assert.throws(() => readImportFile(big), (error: Error) => {
    assert.ok(error instanceof LeakwatchError);
    assert.equal(error.exitCode, 2);
    assert.equal(error.message, `cannot import ${big}: 104857600 bytes is more than the import limit of 64 MiB for its format`);
    return true;
  });
  assert.ok(readBytes() - before < 64 * 1024, 'the file was not read');
  const tooBig = Buffer.alloc(MAX_IMPORT_BYTES + 1, 0x20);
  throwsOneLine(() => parseVmmapMmp(tooBig), /^67108865 bytes is more than the import limit of 64 MiB/);
});

test('a leakwatch JSON export may be larger than a VMMap file (a 12-hour session exports 359 MiB), up to what V8 can parse', () => {
  const json = path.join(dir, 'big.json');
  writeFileSync(json, '{');
  truncateSync(json, 100 * 1024 * 1024);
  assert.equal(readImportFile(json).length, 100 * 1024 * 1024, 'read, not refused at 64 MiB');
  truncateSync(json, 600 * 1024 * 1024);
  assert.throws(() => readImportFile(json), /more than the import limit of 512 MiB for its format/);
});

/** Every chunk importFileChunks reads of `file`. */
async function chunksOf(file: string): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of importFileChunks(file)) chunks.push(chunk);
  return chunks;
}

test('readImportFile, importFormat, importFileChunks: read a regular file; refuse a FIFO, a device, a directory and a missing file with one line naming it', async () => {
  const file = path.join(dir, 'small.csv');
  writeFileSync(file, SUMMARY);
  assert.equal(readImportFile(file).toString('utf8'), SUMMARY);
  assert.equal(importFormat(file), 'csv');
  assert.equal(Buffer.concat(await chunksOf(file)).toString('utf8'), SUMMARY);
  const refusal = (name: string, pattern: RegExp) => (error: Error) => {
    assert.ok(error instanceof LeakwatchError);
    assert.equal(error.exitCode, 2);
    assert.ok(error.message.includes(name));
    return oneLine(error, pattern);
  };
  const refused = async (name: string, pattern: RegExp) => {
    assert.throws(() => readImportFile(name), refusal(name, pattern));
    assert.throws(() => importFormat(name), refusal(name, pattern));
    await assert.rejects(() => chunksOf(name), refusal(name, pattern));
  };
  const fifo = path.join(dir, 'fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  await refused(fifo, /it is a FIFO \(named pipe\), not a regular file$/); // would hang if it were opened blocking or read
  if (existsSync('/dev/zero')) await refused('/dev/zero', /it is a character device, not a regular file$/);
  const folder = path.join(dir, 'folder');
  mkdirSync(folder);
  await refused(folder, /it is a directory, not a regular file$/);
  await refused(path.join(dir, 'missing.csv'), /^cannot read .*ENOENT/);
});

test('detectImportFormat: the first character after a BOM and white space, in any of the encodings', () => {
  assert.equal(detectImportFormat(utf8(' \n {"format":"leakwatch-session"}')), 'json');
  assert.equal(detectImportFormat(utf8('<?xml version="1.0"?><root/>')), 'mmp');
  assert.equal(detectImportFormat(utf8('"Type","Size"')), 'csv');
  assert.equal(detectImportFormat(withBom('{}')), 'json');
  assert.equal(detectImportFormat(withBom('<root/>')), 'mmp');
  assert.equal(detectImportFormat(utf16le('\r\n<root/>')), 'mmp');
  assert.equal(detectImportFormat(utf16be('{}')), 'json');
  assert.equal(detectImportFormat(utf16le('"Type","Size"')), 'csv');
  assert.equal(detectImportFormat(Buffer.alloc(0)), 'csv');
});
