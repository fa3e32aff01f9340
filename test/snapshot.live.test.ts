/**
 * The snapshot command against real processes that really allocate: each kind of memory must land in its type with
 * its size, and the totals must agree with the kernel's own smaps sums.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from './helpers/cli.js';
import { kernelSums, near, regionAt, snapshotJson } from './helpers/snapshot.js';
import { startAllocTarget, startJavaTarget, startV8Target, type Target } from './helpers/targets.js';

const MiB = 1024 * 1024;

describeAllocTarget();

function describeAllocTarget() {
  let target: Target;
  const dataFile = path.join(tmpdir(), `leakwatch-mapfile-${process.pid}.bin`);
  const shmName = `leakwatch-test-${process.pid}`;
  const replies: Record<string, Record<string, unknown>> = {};

  before(async () => {
    target = await startAllocTarget();
    replies.malloc = await target.send(`malloc ${32 * MiB}`);
    replies.arena = await target.send(`arena ${24 * MiB}`);
    replies.mmap = await target.send(`mmap ${40 * MiB}`);
    replies.reserve = await target.send(`reserve ${128 * MiB}`);
    replies.thread1 = await target.send(`thread ${1 * MiB}`);
    replies.thread2 = await target.send(`thread ${3 * MiB}`);
    replies.mapfile = await target.send(`mapfile ${dataFile} ${16 * MiB}`);
    replies.memfd = await target.send(`shm ${8 * MiB}`);
    replies.devshm = await target.send(`devshm ${shmName} ${6 * MiB}`);
  });
  after(async () => {
    await target?.stop();
    rmSync(dataFile, { force: true });
  });

  test('malloc in the main thread is Heap ([heap]); a second thread\'s malloc is Heap (glibc arena)', async () => {
    const s = await snapshotJson(target.pid);
    const brk = s.regions.find((r) => r.details === '[heap]');
    assert.ok(brk && brk.type === 'heap');
    assert.ok(brk.committed >= 32 * MiB, `[heap] ${brk.committed}`);
    assert.ok(brk.privateWs! >= 31 * MiB, `[heap] resident ${brk.privateWs}`);
    const arena = regionAt(s, replies.arena.addr as string);
    assert.equal(arena.type, 'heap');
    assert.equal(arena.details, 'glibc arena');
    near(arena.committed, 24 * MiB, 1 * MiB, 'arena committed');
    // Main heap + arena, and nothing much else in this small program.
    assert.ok(s.types.heap.committed >= 56 * MiB && s.types.heap.committed < 64 * MiB, `heap ${s.types.heap.committed}`);
  });

  test('anonymous mmap is Private, and a PROT_NONE reservation is Private but not committed', async () => {
    const s = await snapshotJson(target.pid);
    const mmap = regionAt(s, replies.mmap.addr as string);
    assert.equal(mmap.type, 'private');
    assert.ok(mmap.committed >= 40 * MiB && mmap.privateWs! >= 40 * MiB, JSON.stringify(mmap));
    const reserve = regionAt(s, replies.reserve.addr as string);
    assert.equal(reserve.type, 'private');
    assert.equal(reserve.committed, 0);
    assert.ok(reserve.size >= 128 * MiB);
    assert.ok(s.types.private.size >= 168 * MiB);
  });

  test('threads\' stacks are Stack with their tid and size, found by stack pointer', async () => {
    const s = await snapshotJson(target.pid);
    for (const reply of [replies.thread1, replies.thread2]) {
      const stack = regionAt(s, reply.stackLo as string);
      assert.equal(stack.type, 'stack');
      assert.equal(stack.details, `[thread ${reply.tid} stack]`);
      assert.equal(stack.method, 'exact');
      assert.equal(stack.size, reply.stacksize);
      const guard = regionAt(s, BigInt(reply.stackLo as string) - 1n);
      assert.equal(guard.type, 'stack');
      assert.equal(guard.committed, 0);
    }
    const main = s.regions.find((r) => r.details.startsWith('[stack]'));
    assert.equal(main?.type, 'stack');
    // Two threads of 1 + 3 MiB plus the arena thread's default 8 MiB stack and the main stack.
    assert.ok(s.types.stack.committed >= 12 * MiB, `stack ${s.types.stack.committed}`);
  });

  test('a thread on the CPU has no readable stack pointer: its stack is still found, by the guard-page heuristic', async () => {
    const spinner = await target.send(`spin ${2 * MiB}`);
    try {
      const s = await snapshotJson(target.pid);
      const stack = regionAt(s, spinner.stackLo as string);
      assert.equal(stack.type, 'stack');
      assert.equal(stack.method, 'heuristic');
      assert.equal(stack.size, 2 * MiB);
      // The parked threads keep their exact attribution.
      assert.equal(regionAt(s, replies.thread1.stackLo as string).details, `[thread ${replies.thread1.tid} stack]`);
    } finally {
      await target.send('unspin');
    }
  });

  test('a mapped data file is Mapped File with its path and resident size', async () => {
    const s = await snapshotJson(target.pid);
    const file = regionAt(s, replies.mapfile.addr as string);
    assert.equal(file.type, 'mappedFile');
    assert.equal(file.details, dataFile);
    assert.equal(file.size, 16 * MiB);
    near(file.totalWs!, 16 * MiB, 64 * 1024, 'mapped file resident');
    assert.equal(file.privateWs, 0);
  });

  test('memfd and /dev/shm mappings are Shareable', async () => {
    const s = await snapshotJson(target.pid);
    const memfd = regionAt(s, replies.memfd.addr as string);
    assert.equal(memfd.type, 'shareable');
    assert.match(memfd.details, /^\/memfd:leakwatch-test/);
    assert.equal(memfd.size, 8 * MiB);
    near(memfd.shareableWs!, 8 * MiB, 64 * 1024, 'memfd resident');
    const devshm = regionAt(s, replies.devshm.addr as string);
    assert.equal(devshm.type, 'shareable');
    assert.equal(devshm.details, `/dev/shm/${shmName}`);
    assert.equal(s.types.shareable.committed, 14 * MiB);
  });

  test('the program and its libraries are Image; totals agree with the kernel within 1%', async () => {
    const s = await snapshotJson(target.pid);
    assert.ok(s.regions.some((r) => r.type === 'image' && /libc\.so/.test(r.details)));
    assert.ok(s.regions.some((r) => r.type === 'image' && r.details.endsWith('/alloc')));
    const kernel = kernelSums(target.pid);
    near(s.total.committed, kernel.committed, kernel.committed * 0.01, 'total committed');
    near(s.total.totalWs!, kernel.rss, kernel.rss * 0.01, 'total WS');
    const status = readFileSync(`/proc/${target.pid}/status`, 'utf8');
    const pte = Number(/VmPTE:\s+(\d+) kB/.exec(status)![1]) * 1024;
    assert.equal(s.types.pageTable.committed, pte);
    // Free + mapped user space = the whole user address space [64 KiB, 128 TiB - 4 KiB).
    const userMapped = s.regions.filter((r) => r.details !== '[vsyscall]').reduce((sum, r) => sum + r.size, 0);
    assert.equal(s.types.free.size + userMapped, 0x7ffffffff000 - 0x10000);
    assert.ok(s.types.free.largest! > 0 && s.types.free.largest! <= s.types.free.size);
    assert.equal(s.pid, target.pid);
    assert.match(s.command, /alloc$/);
    assert.ok(Date.parse(s.startTime) <= Date.parse(s.takenAt));
  });

  test('the table lists every type with human units, --regions adds the region list, --sort orders rows', async () => {
    const table = await runCli(['snapshot', String(target.pid), '--sort', 'committed']);
    assert.equal(table.code, 0, table.stderr);
    const rows = table.stdout.split('\n').filter((l) => /^(Image|Private|Shareable|Mapped File|Heap|Managed Heap|Stack|Page Table|Free|Total) /.test(l));
    assert.equal(rows.length, 10);
    // Heap (32 MiB brk + 24 MiB arena) outweighs Private (40 MiB mmap) and everything else.
    assert.match(rows[0], /^Heap /);
    assert.match(table.stdout, /MiB/);
    const withRegions = await runCli(['snapshot', String(target.pid), '--regions']);
    assert.match(withRegions.stdout, /\[thread \d+ stack\]/);
    assert.match(withRegions.stdout, /glibc arena/);
    assert.ok(withRegions.stdout.includes(dataFile));
  });
}

test('a grown V8 heap is Managed Heap (heuristic), close to what V8 itself reports', async () => {
  const target = await startV8Target();
  try {
    const grown = await target.send('grow 200');
    const s = await snapshotJson(target.pid);
    assert.deepEqual(s.managedHeaps, [{ runtime: 'v8', method: 'heuristic' }]);
    const heapTotal = grown.heapTotal as number;
    assert.ok(heapTotal > 150 * MiB, `heapTotal ${heapTotal}`);
    // V8's heapTotal counts its spaces; the mappings add the code space and page rounding.
    near(s.types.managedHeap.committed, heapTotal, heapTotal * 0.15, 'managed heap committed vs V8 heapTotal');
    assert.ok(s.types.managedHeap.committed > s.types.heap.committed, 'the JS objects are not in malloc heap');
  } finally {
    await target.stop();
  }
});

for (const gc of ['-XX:+UseG1GC', '-XX:+UseSerialGC', '-XX:+UseParallelGC']) {
  test(`a JVM's Java heap (${gc}) is Managed Heap, found exactly from its hsperfdata counters`, async () => {
    const target = await startJavaTarget([gc, '-Xmx512m', '-Xms64m']);
    try {
      await target.send('grow 100');
      const s = await snapshotJson(target.pid);
      assert.ok(s.managedHeaps.some((m) => m.runtime === 'jvm' && m.method === 'exact'), JSON.stringify(s.managedHeaps));
      const javaHeap = s.regions.filter((r) => r.details === 'Java heap');
      // The reservation is exactly -Xmx, and the 100 MB retained live in its committed part.
      assert.equal(javaHeap.reduce((sum, r) => sum + r.size, 0), 512 * MiB);
      const committed = javaHeap.reduce((sum, r) => sum + r.committed, 0);
      assert.ok(committed >= 100 * MiB && committed <= 512 * MiB, `committed ${committed}`);
      assert.equal(s.types.managedHeap.committed, committed);
    } finally {
      await target.stop();
    }
  });
}
