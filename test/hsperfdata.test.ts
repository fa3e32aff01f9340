import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { javaHeapFromPerfdata, parseHsperfdata } from '../src/collector/linux/hsperfdata.js';

/** The compiled test runs from dist/test/, so find the repo root by its package.json. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

/**
 * test/fixtures/hsperfdata-g1.bin is /tmp/hsperfdata_root/15680 copied from OpenJDK 17.0.15
 * running `java -Xmx512m -Xms64m JavaHeap.java` (test/targets; default G1, 1 MiB regions)
 * after `grow 100`, idle. `jcmd 15680 PerfCounter.print` ran just before the copy and printed
 * the values below; all 193 counters it printed equal the parsed file.
 * For the same process: jcmd VM.flags said MaxHeapSize=536870912; jcmd GC.heap_info said
 * "garbage-first heap total 196608K, used 116336K [0x00000000e0000000, 0x0000000100000000)";
 * after a following `gc` command Runtime.totalMemory() was 201326592; /proc/15680/maps showed
 *   e0000000-ebe00000 rw-p (190 MiB)   ebe00000-ffe00000 ---p (320 MiB)
 *   ffe00000-100000000: 2 MiB of rw-p CDS archive heap regions (classes.jsa + anonymous).
 */
const JCMD_PRINTED: Record<string, number | string> = {
  'sun.perfdata.majorVersion': 2,
  'sun.perfdata.minorVersion': 0,
  'sun.perfdata.size': 32768,
  'sun.perfdata.used': 12400,
  'sun.perfdata.overflow': 0,
  'sun.perfdata.timestamp': 152599792,
  'sun.os.hrt.ticks': 8207913862,
  'sun.gc.policy.name': 'GarbageFirst',
  'sun.gc.generation.0.name': 'young',
  'sun.gc.generation.0.capacity': 19922968,
  'sun.gc.generation.0.maxCapacity': 536870936,
  'sun.gc.generation.0.space.0.capacity': 15728648,
  'sun.gc.generation.0.space.0.used': 8388608,
  'sun.gc.generation.0.space.1.used': 0,
  'sun.gc.generation.0.space.2.capacity': 4194312,
  'sun.gc.generation.0.space.2.used': 4194304,
  'sun.gc.generation.1.name': 'old',
  'sun.gc.generation.1.capacity': 181403656,
  'sun.gc.generation.1.maxCapacity': 536870920,
  'sun.gc.generation.1.space.0.used': 104518656,
  'sun.gc.compressedclassspace.maxCapacity': 1073741824,
  'java.property.java.version': '17.0.15',
  'java.rt.vmArgs': '-Xmx512m -Xms64m --add-modules=ALL-DEFAULT',
  'sun.rt.javaCommand': 'jdk.compiler/com.sun.tools.javac.launcher.Main JavaHeap.java',
};

function fixture(): Buffer {
  return readFileSync(join(repoRoot(), 'test', 'fixtures', 'hsperfdata-g1.bin'));
}

test('parses the real G1 perfdata file exactly as jcmd printed it', () => {
  const counters = parseHsperfdata(fixture());
  assert.equal(counters.size, 193);
  for (const [name, value] of Object.entries(JCMD_PRINTED)) {
    assert.equal(counters.get(name), value, name);
  }
});

test('derives the G1 heap: reserved = -Xmx, committed = Runtime.totalMemory, used = sum of spaces', () => {
  assert.deepEqual(javaHeapFromPerfdata(parseHsperfdata(fixture())), {
    reservedBytes: 536870912, // MaxHeapSize; 0xe0000000..0x100000000
    committedBytes: 201326592, // (19922968 - 24) + (181403656 - 8): JDK 17 G1 pads capacities
    usedBytes: 117101568, // 8388608 + 0 + 4194304 + 104518656
  });
});

test('derives Serial and Parallel heaps by summing generations (jcmd values, -Xmx512m)', () => {
  // Serial (-XX:+UseSerialGC): maps showed e0000000-e2610000 rw-p (young, 39911424 bytes) and
  // eaaa0000-ef6a7000 rw-p (old, 79720448 bytes) inside the e0000000-100000000 reservation.
  const serial = new Map<string, number | string>([
    ['sun.gc.policy.name', 'Copy:MSC'],
    ['sun.gc.generation.0.capacity', 39911424],
    ['sun.gc.generation.0.maxCapacity', 178913280],
    ['sun.gc.generation.0.space.0.used', 28189008],
    ['sun.gc.generation.0.space.1.used', 3146232],
    ['sun.gc.generation.0.space.2.used', 0],
    ['sun.gc.generation.1.capacity', 79720448],
    ['sun.gc.generation.1.maxCapacity', 357957632],
    ['sun.gc.generation.1.space.0.used', 75093456],
  ]);
  assert.deepEqual(javaHeapFromPerfdata(serial), {
    reservedBytes: 536870912,
    committedBytes: 119631872,
    usedBytes: 106428696,
  });
  // Parallel (-XX:+UseParallelGC): old gen is the low part (e0000000-e4a80000 rw-p),
  // young the high part (f5580000-f9a00000 rw-p).
  const parallel = new Map<string, number | string>([
    ['sun.gc.policy.name', 'ParScav:MSC'],
    ['sun.gc.generation.0.capacity', 71827456],
    ['sun.gc.generation.0.maxCapacity', 178782208],
    ['sun.gc.generation.0.space.0.used', 30207296],
    ['sun.gc.generation.0.space.1.used', 1703952],
    ['sun.gc.generation.0.space.2.used', 0],
    ['sun.gc.generation.1.capacity', 78118912],
    ['sun.gc.generation.1.maxCapacity', 358088704],
    ['sun.gc.generation.1.space.0.used', 74451264],
  ]);
  assert.deepEqual(javaHeapFromPerfdata(parallel), {
    reservedBytes: 536870912,
    committedBytes: 149946368,
    usedBytes: 106362512,
  });
});

test('uses generation capacity, not space capacity (Shenandoah reports the max there)', () => {
  const shenandoah = new Map<string, number | string>([
    ['sun.gc.generation.0.capacity', 0],
    ['sun.gc.generation.0.maxCapacity', 0],
    ['sun.gc.generation.1.capacity', 133169152],
    ['sun.gc.generation.1.maxCapacity', 536870912],
    ['sun.gc.generation.1.space.0.capacity', 536870912],
    ['sun.gc.generation.1.space.0.used', 106956352],
  ]);
  assert.deepEqual(javaHeapFromPerfdata(shenandoah), {
    reservedBytes: 536870912,
    committedBytes: 133169152,
    usedBytes: 106956352,
  });
  assert.equal(javaHeapFromPerfdata(new Map([['sun.os.hrt.ticks', 1]])), undefined);
});

/** Builds a minimal perfdata buffer in either byte order, to test big-endian files. */
function build(littleEndian: boolean, entries: Array<[string, number | string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of entries) {
    const nameBytes = Buffer.from(name + '\0', 'latin1');
    const data = typeof value === 'number' ? Buffer.alloc(8) : Buffer.from(value + '\0', 'utf8');
    if (typeof value === 'number') {
      if (littleEndian) data.writeBigInt64LE(BigInt(value));
      else data.writeBigInt64BE(BigInt(value));
    }
    const dataOffset = Math.ceil((20 + nameBytes.length) / 8) * 8;
    const length = Math.ceil((dataOffset + data.length) / 8) * 8;
    const e = Buffer.alloc(length);
    const w = (off: number, v: number): void => void (littleEndian ? e.writeInt32LE(v, off) : e.writeInt32BE(v, off));
    w(0, length);
    w(4, 20);
    w(8, typeof value === 'number' ? 0 : data.length);
    e.write(typeof value === 'number' ? 'J' : 'B', 12, 'latin1');
    e.writeUInt8(typeof value === 'number' ? 4 : 5, 14);
    e.writeUInt8(1, 15);
    w(16, dataOffset);
    nameBytes.copy(e, 20);
    data.copy(e, dataOffset);
    parts.push(e);
  }
  const prologue = Buffer.alloc(32);
  prologue.writeUInt32BE(0xcafec0c0, 0);
  prologue.writeUInt8(littleEndian ? 1 : 0, 4);
  prologue.writeUInt8(2, 5);
  prologue.writeUInt8(0, 6);
  prologue.writeUInt8(1, 7);
  const body = Buffer.concat(parts);
  const w = (off: number, v: number): void => void (littleEndian ? prologue.writeInt32LE(v, off) : prologue.writeInt32BE(v, off));
  w(8, 32 + body.length);
  w(24, 32);
  w(28, entries.length);
  return Buffer.concat([prologue, body]);
}

test('honours the byte order the prologue declares', () => {
  const entries: Array<[string, number | string]> = [
    ['sun.gc.generation.1.maxCapacity', 34359738376],
    ['sun.gc.policy.name', 'GarbageFirst'],
  ];
  for (const littleEndian of [true, false]) {
    const counters = parseHsperfdata(build(littleEndian, entries));
    assert.equal(counters.get('sun.gc.generation.1.maxCapacity'), 34359738376);
    assert.equal(counters.get('sun.gc.policy.name'), 'GarbageFirst');
    assert.equal(counters.get('sun.perfdata.used'), counters.get('sun.perfdata.size'));
  }
});

test('rejects a bad magic and truncated buffers', () => {
  const buf = fixture();
  const bad = Buffer.from(buf);
  bad.writeUInt32BE(0xdeadbeef, 0);
  assert.throws(() => parseHsperfdata(bad), /bad magic 0xdeadbeef/);
  assert.throws(() => parseHsperfdata(buf.subarray(0, 16)), /truncated/);
  // The header still promises 187 entries, but the buffer ends inside them.
  assert.throws(() => parseHsperfdata(buf.subarray(0, 4096)), /truncated/);
  assert.throws(() => parseHsperfdata(Buffer.alloc(0)), /truncated/);
});
