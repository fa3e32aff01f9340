// Smoke test of the live test targets: every command once, replies checked
// against /proc/<pid>/maps (parsed here directly, independent of src/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startAllocTarget, startV8Target, type Target } from './helpers/targets.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const SIZE = 8 * MiB;

interface Mapping {
  start: bigint;
  end: bigint;
  perms: string;
  path: string;
}

function readMaps(pid: number): Mapping[] {
  return readFileSync(`/proc/${pid}/maps`, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/.exec(line);
      assert.ok(m, `unparsable maps line: ${line}`);
      return { start: BigInt(`0x${m[1]}`), end: BigInt(`0x${m[2]}`), perms: m[3]!, path: m[4]! };
    });
}

function hex(reply: Record<string, unknown>, key: string): bigint {
  const value = reply[key];
  assert.equal(typeof value, 'string', `${key} in ${JSON.stringify(reply)}`);
  assert.match(value as string, /^0x[0-9a-f]+$/);
  return BigInt(value as string);
}

/** The mapping holding [addr, addr + bytes), asserting there is one. */
function mappingOf(maps: Mapping[], addr: bigint, bytes = 1n): Mapping {
  const m = maps.find((x) => x.start <= addr && addr < x.end);
  assert.ok(m, `0x${addr.toString(16)} is in no mapping`);
  assert.ok(addr + bytes <= m.end, `0x${addr.toString(16)}+${bytes} overruns ${m.start.toString(16)}-${m.end.toString(16)}`);
  return m;
}

test('alloc target: every command lands in the expected mapping', async (t) => {
  const target = await startAllocTarget();
  const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-targets-test-'));
  const shmName = `leakwatch-test-${process.pid}`;
  t.after(async () => {
    await target.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  assert.equal(target.pid, target.child.pid);

  const malloc = await target.send(`malloc ${SIZE}`);
  assert.deepEqual(malloc, { ok: 'malloc', bytes: SIZE });
  const heap = readMaps(target.pid).find((m) => m.path === '[heap]');
  assert.ok(heap && heap.end - heap.start >= BigInt(SIZE), 'brk heap holds the malloc');

  const arena = await target.send(`arena ${SIZE}`);
  assert.equal(arena.ok, 'arena');
  assert.equal(typeof arena.tid, 'number');
  assert.ok(existsSync(`/proc/${target.pid}/task/${arena.tid}`), 'arena thread is alive');
  let maps = readMaps(target.pid);
  const arenaMap = mappingOf(maps, hex(arena, 'addr'), BigInt(64 * KiB));
  assert.equal(arenaMap.perms, 'rw-p');
  assert.equal(arenaMap.start % BigInt(64 * MiB), 0n, 'non-main arena heap is 64 MiB aligned');
  const arenaRest = maps.find((m) => m.start === arenaMap.end);
  assert.ok(arenaRest && arenaRest.perms === '---p', 'arena heap is followed by its reserved tail');
  assert.equal(arenaRest.end - arenaMap.start, BigInt(64 * MiB), 'arena reservation is 64 MiB');

  const mmap = await target.send(`mmap ${SIZE}`);
  assert.equal(mmap.ok, 'mmap');
  assert.equal(mmap.bytes, SIZE);
  const reserve = await target.send(`reserve ${SIZE}`);
  assert.equal(reserve.ok, 'reserve');
  assert.equal(reserve.bytes, SIZE);
  maps = readMaps(target.pid);
  const mmapMap = mappingOf(maps, hex(mmap, 'addr'), BigInt(SIZE));
  assert.deepEqual([mmapMap.perms, mmapMap.path], ['rw-p', '']);
  const reserveMap = mappingOf(maps, hex(reserve, 'addr'), BigInt(SIZE));
  assert.deepEqual([reserveMap.perms, reserveMap.path], ['---p', '']);

  const stacksize = 256 * KiB;
  const thread = await target.send(`thread ${stacksize}`);
  assert.equal(thread.ok, 'thread');
  assert.equal(thread.stacksize, stacksize);
  const lo = hex(thread, 'stackLo');
  const hi = hex(thread, 'stackHi');
  assert.equal(hi - lo, BigInt(stacksize), 'page-multiple stack sizes are reported exactly');
  maps = readMaps(target.pid);
  const stackMap = mappingOf(maps, lo, hi - lo);
  assert.equal(stackMap.perms, 'rw-p');
  assert.equal(stackMap.start, lo, 'stack mapping starts at stackLo');
  const guard = maps.find((m) => m.end === lo);
  assert.ok(guard && guard.perms === '---p', 'guard page right below the stack');
  // Parked in a syscall, so the kernel reports its stack pointer: "nr a1..a6 sp pc". The reply comes just before
  // the thread enters pause(), so give it up to a second to get there.
  const readSyscall = () => readFileSync(`/proc/${target.pid}/task/${thread.tid}/syscall`, 'utf8').trim().split(' ');
  let syscall = readSyscall();
  for (let tries = 0; syscall[0] === 'running' && tries < 100; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    syscall = readSyscall();
  }
  assert.notEqual(syscall[0], 'running');
  const sp = BigInt(syscall[7]!);
  assert.ok(lo <= sp && sp < hi, `thread sp 0x${sp.toString(16)} inside its stack`);

  const file = path.join(dir, 'mapped.bin');
  const mapfile = await target.send(`mapfile ${file} ${SIZE}`);
  assert.equal(mapfile.ok, 'mapfile');
  assert.equal(mapfile.path, file);
  assert.equal(mapfile.bytes, SIZE);
  const shm = await target.send(`shm ${SIZE}`);
  assert.equal(shm.ok, 'shm');
  const devshm = await target.send(`devshm ${shmName} ${SIZE}`);
  assert.equal(devshm.ok, 'devshm');
  maps = readMaps(target.pid);
  const fileMap = mappingOf(maps, hex(mapfile, 'addr'), BigInt(SIZE));
  assert.deepEqual([fileMap.perms, fileMap.path], ['r--s', file]);
  const memfdMap = mappingOf(maps, hex(shm, 'addr'), BigInt(SIZE));
  assert.deepEqual([memfdMap.perms, memfdMap.path], ['rw-s', '/memfd:leakwatch-test (deleted)']);
  const devshmMap = mappingOf(maps, hex(devshm, 'addr'), BigInt(SIZE));
  assert.deepEqual([devshmMap.perms, devshmMap.path], ['rw-s', `/dev/shm/${shmName}`]);

  await assert.rejects(target.send('bogus 1'), /unknown command/);
  await assert.rejects(target.send('malloc lots'), /usage/);
  assert.deepEqual(await target.send('malloc 1'), { ok: 'malloc', bytes: 1 }, 'still answering after errors');

  await target.stop();
  assert.equal(existsSync(`/dev/shm/${shmName}`), false, 'stop() removes /dev/shm objects');
});

test('alloc target: big mallocs are mmapped chunks, fill places a block, end is the .bss end, dlopen maps a library', async (t) => {
  const target = await startAllocTarget();
  t.after(() => target.stop());
  const big = await target.send(`big 2 ${MiB}`);
  assert.deepEqual([big.ok, big.count, big.chunkBytes], ['big', 2, 2 * (MiB + 4 * KiB)]);
  let maps = readMaps(target.pid);
  const lo = hex(big, 'lo');
  assert.equal(mappingOf(maps, lo, hex(big, 'hi') - lo).path, '', 'anonymous');
  const fill = await target.send(`fill ${SIZE} 2`);
  const at = hex(fill, 'addr') + BigInt(2 * SIZE);
  assert.equal(hex(await target.send(`fill ${SIZE} 0x2 0x${at.toString(16)}`), 'addr'), at, 'placed where asked');
  await assert.rejects(target.send(`fill ${SIZE} 2 0x${at.toString(16)}`), /File exists/);
  await assert.rejects(target.send(`fill ${SIZE} 256`), /usage/);
  const end = hex(await target.send('end'), 'end');
  maps = readMaps(target.pid);
  const program = maps.filter((m) => m.path === maps[0].path);
  assert.ok(program.at(-1)!.end <= end, 'the .bss ends after the program\'s file mappings');
  await target.send('dlopen libz.so.1');
  assert.ok(readMaps(target.pid).some((m) => /\/libz\.so/.test(m.path)), 'the library is mapped');
  await assert.rejects(target.send('dlopen /nonexistent.so'), /dlopen/);
});

test('alloc target: exit <code>', async () => {
  const target = await startAllocTarget();
  await assert.rejects(target.send('exit 3'), /exited with code 3/);
  assert.deepEqual(await target.exited, { code: 3, signal: null });
  await target.stop();
});

test('v8 target: grow retains memory on the V8 heap', async (t) => {
  const target: Target = await startV8Target();
  t.after(() => target.stop());
  assert.equal(target.pid, target.child.pid);

  const before = await target.send('stats');
  assert.equal(before.ok, 'stats');
  for (const key of ['rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers']) {
    assert.equal(typeof before[key], 'number', key);
  }
  const grow = await target.send('grow 8');
  assert.equal(grow.ok, 'grow');
  assert.equal(typeof grow.heapTotal, 'number');
  const grown = (grow.heapUsed as number) - (before.heapUsed as number);
  assert.ok(grown >= 6 * MiB, `heapUsed grew by ${grown} bytes`);
  const after = await target.send('stats');
  assert.ok((after.heapUsed as number) >= (before.heapUsed as number) + 6 * MiB);
  assert.ok((after.external as number) < (before.external as number) + MiB, 'not off-heap memory');

  await assert.rejects(target.send('grow'), /bad command/);
  await assert.rejects(target.send('exit 4'), /exited with code 4/);
  assert.deepEqual(await target.exited, { code: 4, signal: null });
});
