/**
 * Heap and Image from what the process's memory and its ELF files say, on real processes with known answers:
 * glibc's mmapped chunks (large mallocs) are Heap, an image's .bss ends where its program headers say, and where
 * /proc/PID/mem cannot be read the snapshot says so once and classifies as before.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { linuxCollector } from '../src/collector/linux/index.js';
import type { Region, Snapshot } from '../src/collector/types.js';
import { runCli } from './helpers/cli.js';
import { readelfLoads } from './helpers/readelf.js';
import { kernelSums, regionAt, snapshotJson } from './helpers/snapshot.js';
import { buildSharedLibrary, startAllocTarget } from './helpers/targets.js';

const PAGE = 4096n;
const MiB = 1024 * 1024;
const BIG = 3 * MiB;
// glibc's chunk for malloc(3 MiB): the request plus its 16-byte header, page-rounded.
const BIG_CHUNK = Math.ceil((BIG + 16) / 4096) * 4096;
const JEMALLOC = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';
// Loaded into the CLI: opening /proc/PID/mem fails with EACCES (see the file for why it is simulated).
const REFUSE_MEM = ['--import', new URL('./helpers/refuse-proc-mem.js', import.meta.url).href];

const pageUp = (address: bigint) => ((address + PAGE - 1n) / PAGE) * PAGE;
const hex = (address: bigint) => `0x${address.toString(16)}`;
const chunkRegions = (s: Snapshot) => s.regions.filter((r) => r.details.startsWith('glibc mmapped chunk'));
/** How many chunks a region's details count: `glibc mmapped chunk` or `glibc mmapped chunks (24)`. */
const chunksIn = (r: Region) => Number(/\((\d+)\)$/.exec(r.details)?.[1] ?? 1);

/** The kernel's mapping holding an address, from /proc/PID/maps. */
function kernelMapping(pid: number, address: bigint): { start: bigint; end: bigint; path: string } {
  for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m && BigInt(`0x${m[1]}`) <= address && address < BigInt(`0x${m[2]}`)) return { start: BigInt(`0x${m[1]}`), end: BigInt(`0x${m[2]}`), path: m[3] };
  }
  assert.fail(`no mapping holds ${hex(address)}`);
}

function assertRegion(r: Region, expected: { start?: bigint; end?: bigint; type: string; details?: string; method: string }) {
  const actual = { type: r.type, method: r.method, ...(expected.start !== undefined && { start: BigInt(`0x${r.start}`) }),
    ...(expected.end !== undefined && { end: BigInt(`0x${r.end}`) }), ...(expected.details !== undefined && { details: r.details }) };
  assert.deepEqual(actual, expected, JSON.stringify(r));
}

test('24 mallocs of 3 MiB (glibc mmaps each) grow Heap by exactly their chunks, found exactly; Private does not grow', async (t) => {
  const target = await startAllocTarget();
  t.after(() => target.stop());
  const before = await snapshotJson(target.pid);
  const big = await target.send(`big 24 ${BIG}`);
  assert.equal(big.chunkBytes, 24 * BIG_CHUNK, 'glibc mapped each block on its own');
  const after = await snapshotJson(target.pid);
  assert.equal(after.heapChunks, 'read');
  assert.equal(after.types.heap.committed - before.types.heap.committed, 24 * BIG_CHUNK);
  // Every chunk is touched; the mapping's smaps numbers go to its pieces by their resident pages (pagemap).
  assert.equal(after.types.heap.privateWs! - before.types.heap.privateWs!, 24 * BIG_CHUNK);
  assert.equal(after.types.private.privateWs, before.types.private.privateWs);
  assert.equal(after.types.private.committed, before.types.private.committed);
  const chunks = chunkRegions(after);
  for (const r of chunks) assertRegion(r, { type: 'heap', method: 'exact' });
  assert.equal(chunks.reduce((sum, r) => sum + r.size, 0), 24 * BIG_CHUNK);
  assert.equal(chunks.reduce((sum, r) => sum + chunksIn(r), 0), 24);
  assert.equal(regionAt(after, big.lo as string).start, BigInt(big.lo as string).toString(16));
  // Regions cut from a mapping still add up to the kernel's own sums.
  const kernel = kernelSums(target.pid);
  assert.equal(after.total.committed, kernel.committed);
  assert.equal(after.total.totalWs, kernel.rss);
});

test('a block of 0x02 bytes is not a chunk; merged in front of chunks, a watch still tells them apart', async (t) => {
  const target = await startAllocTarget();
  t.after(() => target.stop());
  const big = await target.send(`big 4 ${BIG}`);
  const probe = linuxCollector.open(target.pid);
  const first = probe.sample({ usage: true });
  assert.equal(chunkRegions(first).reduce((sum, r) => sum + r.size, 0), 4 * BIG_CHUNK);
  // 8 MiB of 0x02 bytes right below the chunks: the kernel merges it into their mapping.
  const twos = await target.send(`fill ${8 * MiB} 2 ${hex(BigInt(big.lo as string) - BigInt(8 * MiB))}`);
  assert.ok(kernelMapping(target.pid, BigInt(twos.addr as string)).end >= BigInt(big.hi as string), 'one mapping');
  for (const usage of [false, true]) {
    const s = probe.sample({ usage });
    assertRegion(regionAt(s, twos.addr as string), { start: BigInt(twos.addr as string), end: BigInt(big.lo as string), type: 'private', method: 'exact' });
    assert.equal(chunkRegions(s).reduce((sum, r) => sum + r.size, 0), 4 * BIG_CHUNK, `usage ${usage}`);
  }
  // A first look at that mapping reads its start, the 0x02 bytes, and stops there: they stay Private.
  const fresh = await snapshotJson(target.pid);
  assertRegion(regionAt(fresh, twos.addr as string), { start: BigInt(twos.addr as string), type: 'private', method: 'exact' });
  // A block placed where the kernel chooses is Private too, read from its own start. The kernel may put it right
  // below the block above and merge the two (it did once in a full run): then both are one Private region.
  const alone = await target.send(`fill ${8 * MiB} 2`);
  const s = await snapshotJson(target.pid);
  const start = BigInt(alone.addr as string);
  const region = regionAt(s, start);
  assertRegion(region, { start, type: 'private', method: 'exact' });
  assert.ok(BigInt(`0x${region.end}`) >= start + BigInt(8 * MiB), JSON.stringify(region));
  const end = start + BigInt(8 * MiB);
  assert.ok(chunkRegions(s).every((r) => BigInt(`0x${r.end}`) <= start || BigInt(`0x${r.start}`) >= end), 'no chunk found in the 0x02 bytes');
});

test('anonymous memory placed right after the program\'s .bss is Private; the .bss is exactly its own pages', async (t) => {
  const target = await startAllocTarget();
  t.after(() => target.stop());
  // The linker's `end` symbol: the program's image ends on the page it is on.
  const imageEnd = pageUp(BigInt((await target.send('end')).end as string));
  await target.send(`fill ${8 * MiB} 171 ${hex(imageEnd)}`);
  const merged = kernelMapping(target.pid, imageEnd);
  assert.ok(merged.start < imageEnd, 'the kernel merged the block into the .bss mapping');
  const s = await snapshotJson(target.pid);
  assertRegion(regionAt(s, imageEnd - 1n), { start: merged.start, end: imageEnd, type: 'image', method: 'exact' });
  assert.match(regionAt(s, imageEnd - 1n).details, /\/alloc \(\.bss\)$/);
  assertRegion(regionAt(s, imageEnd), { start: imageEnd, end: merged.end, type: 'private', details: '', method: 'exact' });
  assert.equal(merged.end - imageEnd, BigInt(8 * MiB));
});

test('a library\'s 8 MiB .bss is Image, exactly its page-rounded size; memory merged after it is Private', async (t) => {
  const library = buildSharedLibrary('bigbss');
  const target = await startAllocTarget();
  t.after(() => target.stop());
  await target.send(`dlopen ${library}`);
  // Where the .bss goes, from readelf and the kernel's maps: zeros from the data's last file page to vaddr + memsz,
  // moved by the load bias (where the file's offset 0 is mapped: its first segment's vaddr is 0).
  const [first, data] = [readelfLoads(library)[0], readelfLoads(library).find((l) => l.writable)!];
  assert.equal(first.vaddr, 0);
  const base = BigInt(`0x${/^([0-9a-f]+)-\S+ \S+ 0+ .*\/libbigbss\.so$/m.exec(readFileSync(`/proc/${target.pid}/maps`, 'utf8'))![1]}`);
  const bssStart = pageUp(base + BigInt(data.vaddr + data.filesz));
  const bssEnd = pageUp(base + BigInt(data.vaddr + data.memsz));
  assert.equal(bssEnd - bssStart, BigInt(8 * MiB));
  // ld.so placed the library below other mappings: fill the gap after its image (up to 4 MiB) with a block.
  const next = readFileSync(`/proc/${target.pid}/maps`, 'utf8').split('\n').map((l) => BigInt(`0x${l.split('-')[0] || '0'}`)).find((start) => start >= bssEnd);
  const block = next === undefined ? BigInt(4 * MiB) : [next - bssEnd, BigInt(4 * MiB)].reduce((a, b) => (a < b ? a : b));
  assert.ok(block > 0n, 'a gap after the library (ld.so leaves one unless the layout lines up to the page)');
  await target.send(`fill ${block} 171 ${hex(bssEnd)}`);
  // Filling the whole gap also merges whatever anonymous memory comes next.
  const merged = kernelMapping(target.pid, bssStart);
  assert.ok(merged.end >= bssEnd + block, 'the kernel merged the block into the .bss mapping');
  const s = await snapshotJson(target.pid);
  assertRegion(regionAt(s, bssStart), { start: bssStart, end: bssEnd, type: 'image', details: `${library} (.bss)`, method: 'exact' });
  assertRegion(regionAt(s, bssEnd), { start: bssEnd, end: merged.end, type: 'private', method: 'exact' });
});

test('where /proc/PID/mem is refused: large mallocs stay Private, as before, and the header says so once', async (t) => {
  const target = await startAllocTarget();
  t.after(() => target.stop());
  const big = await target.send(`big 4 ${BIG}`);
  const refused = await snapshotJson(target.pid, { nodeArgs: REFUSE_MEM });
  assert.equal(refused.heapChunks, 'refused');
  assert.deepEqual(chunkRegions(refused), []);
  assertRegion(regionAt(refused, big.lo as string), { type: 'private', method: 'exact' });
  const read = await snapshotJson(target.pid);
  assert.equal(read.types.heap.committed - refused.types.heap.committed, 4 * BIG_CHUNK);
  const text = await runCli(['snapshot', String(target.pid), '--regions'], { nodeArgs: REFUSE_MEM });
  assert.equal(text.code, 0, text.stderr);
  const lines = text.stdout.split('\n');
  assert.match(lines[1], new RegExp(`; large mallocs are in Private: reading /proc/${target.pid}/mem was refused$`));
  assert.equal(lines.filter((l) => l.includes('refused')).length, 1, 'said once, not per region');
  // A watch says it once for the process, not once per tick, even with --quiet.
  const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-refused-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = path.join(dir, 'refused.db');
  const watch = await runCli(['watch', String(target.pid), '--every', '100ms', '--duration', '1s', '--quiet', '--db', db], { nodeArgs: REFUSE_MEM });
  assert.equal(watch.code, 0, watch.stderr);
  const stderrLines = watch.stderr.trimEnd().split('\n');
  assert.deepEqual(stderrLines.filter((l) => l.includes('refused')), [`leakwatch: large mallocs of pid ${target.pid} are counted in Private: reading /proc/${target.pid}/mem was refused`]);
  // The other line --quiet keeps: a 1 s watch cannot be judged, said at the start.
  assert.deepEqual(stderrLines.filter((l) => !l.includes('refused')).map((l) => l.replace(/;.*/, '')), ['leakwatch: warning: --duration 1s is too short for the analysis to judge a leak at --every 100ms']);
});

test('a process using jemalloc: no glibc chunks, and its anonymous memory says it is not told apart', { skip: !existsSync(JEMALLOC) && `${JEMALLOC} is not installed (Debian: libjemalloc2)` }, async (t) => {
  const target = await startAllocTarget({ preload: JEMALLOC });
  t.after(() => target.stop());
  await target.send(`malloc ${32 * MiB}`);
  const s = await snapshotJson(target.pid);
  assert.deepEqual(chunkRegions(s), []);
  const anonymous = s.regions.filter((r) => r.type === 'private');
  assert.ok(s.types.private.committed >= 32 * MiB, 'jemalloc\'s memory is in Private');
  for (const r of anonymous) assertRegion(r, { type: 'private', details: 'anonymous (process uses jemalloc: its memory is not told apart)', method: 'heuristic' });
});
