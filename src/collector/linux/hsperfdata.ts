/**
 * HotSpot "hsperfdata" reader.
 *
 * Every HotSpot JVM (unless started with -XX:-UsePerfData) publishes its jvmstat counters in a
 * small shared-memory file, /tmp/hsperfdata_<user>/<pid>, which it keeps mapped rw-s for its whole
 * life. Reading that file is how jstat/jcmd PerfCounter.print get their numbers, and it lets us
 * learn the Java heap's size without attaching to the JVM (no safepoint, no agent, no ptrace).
 * The heap's *reserved* size is what identifies its reservation in /proc/PID/maps.
 *
 * Layout (HotSpot perfMemory.hpp, format version 2.0). All offsets are in bytes.
 *
 *   prologue (32 bytes)
 *     0  u32  magic 0xcafec0c0, always stored big-endian
 *     4  u8   byte order of everything else: 0 = big-endian, 1 = little-endian
 *     5  u8   major version (2)         6  u8  minor version
 *     7  u8   accessible (0 while the JVM is still initialising)
 *     8  i32  used bytes                12 i32 overflow bytes
 *    16  i64  time stamp of the last structural change
 *    24  i32  offset of the first entry 28 i32 number of entries
 *
 *   entry (20-byte header, then name and data; offsets relative to the entry's start)
 *     0  i32 entry length (distance to the next entry)
 *     4  i32 name offset (NUL-terminated ASCII name)
 *     8  i32 vector length (0 = scalar)
 *    12  u8  data type: 'J' = 64-bit long, 'B' = byte vector (strings)
 *    13  u8  flags   14 u8 units (5 = string)   15 u8 variability
 *    16  i32 data offset
 */

const MAGIC = 0xcafec0c0;
const PROLOGUE_SIZE = 32;
const ENTRY_HEADER_SIZE = 20;
const SUPPORTED_MAJOR = 2;

/**
 * Parses an hsperfdata buffer into counter name -> value.
 * 'J' scalars become numbers (exact below 2^53, which covers byte sizes and counts;
 * larger tick counters lose low bits); 'B' vectors become strings cut at the first NUL.
 * Other types (HotSpot writes none today) are skipped.
 * Throws on a bad magic, an unsupported version or a buffer too short for what its header
 * promises, so a caller never mistakes a truncated read for a JVM with fewer counters.
 */
export function parseHsperfdata(buf: Buffer): Map<string, number | string> {
  if (buf.length < PROLOGUE_SIZE) {
    throw new Error(`hsperfdata: truncated buffer (${buf.length} bytes, prologue needs ${PROLOGUE_SIZE})`);
  }
  const magic = buf.readUInt32BE(0);
  if (magic !== MAGIC) {
    throw new Error(`hsperfdata: bad magic 0x${magic.toString(16).padStart(8, '0')} (expected 0xcafec0c0)`);
  }
  const byteOrder = buf.readUInt8(4);
  if (byteOrder !== 0 && byteOrder !== 1) {
    throw new Error(`hsperfdata: bad byte order ${byteOrder} (expected 0 or 1)`);
  }
  const le = byteOrder === 1;
  const major = buf.readUInt8(5);
  const minor = buf.readUInt8(6);
  if (major !== SUPPORTED_MAJOR) {
    throw new Error(`hsperfdata: unsupported version ${major}.${minor} (only ${SUPPORTED_MAJOR}.x)`);
  }
  const i32 = (off: number): number => (le ? buf.readInt32LE(off) : buf.readInt32BE(off));
  const entryOffset = i32(24);
  const numEntries = i32(28);
  if (entryOffset < PROLOGUE_SIZE || numEntries < 0) {
    throw new Error(`hsperfdata: corrupt prologue (entry offset ${entryOffset}, ${numEntries} entries)`);
  }

  // jvmstat readers (jcmd PerfCounter.print, jstat) also show the prologue as sun.perfdata.*
  // pseudo-counters; mirror them so our map lines up with what those tools print.
  const counters = new Map<string, number | string>([
    ['sun.perfdata.majorVersion', major],
    ['sun.perfdata.minorVersion', minor],
    ['sun.perfdata.size', buf.length],
    ['sun.perfdata.used', i32(8)],
    ['sun.perfdata.overflow', i32(12)],
    ['sun.perfdata.timestamp', Number(le ? buf.readBigInt64LE(16) : buf.readBigInt64BE(16))],
  ]);
  let pos = entryOffset;
  for (let i = 0; i < numEntries; i++) {
    if (pos + ENTRY_HEADER_SIZE > buf.length) {
      throw new Error(`hsperfdata: truncated buffer (entry ${i} of ${numEntries} at offset ${pos} exceeds ${buf.length} bytes)`);
    }
    const entryLength = i32(pos);
    const nameOffset = i32(pos + 4);
    const vectorLength = i32(pos + 8);
    const dataType = String.fromCharCode(buf.readUInt8(pos + 12));
    const dataOffset = i32(pos + 16);
    const end = pos + entryLength;
    if (entryLength < ENTRY_HEADER_SIZE || end > buf.length) {
      throw new Error(`hsperfdata: ${entryLength < ENTRY_HEADER_SIZE ? 'corrupt' : 'truncated'} entry ${i} at offset ${pos} (length ${entryLength}, buffer ${buf.length} bytes)`);
    }
    if (nameOffset < ENTRY_HEADER_SIZE || nameOffset >= entryLength || dataOffset < ENTRY_HEADER_SIZE || vectorLength < 0) {
      throw new Error(`hsperfdata: corrupt entry ${i} at offset ${pos} (name offset ${nameOffset}, data offset ${dataOffset})`);
    }
    const nameStart = pos + nameOffset;
    const nul = buf.indexOf(0, nameStart);
    const name = buf.toString('latin1', nameStart, nul < 0 || nul > end ? end : nul);
    const dataStart = pos + dataOffset;

    if (dataType === 'J' && vectorLength === 0) {
      if (dataStart + 8 > end) throw new Error(`hsperfdata: truncated long counter ${name}`);
      counters.set(name, Number(le ? buf.readBigInt64LE(dataStart) : buf.readBigInt64BE(dataStart)));
    } else if (dataType === 'B' && vectorLength > 0) {
      if (dataStart + vectorLength > end) throw new Error(`hsperfdata: truncated string counter ${name}`);
      const bytes = buf.subarray(dataStart, dataStart + vectorLength);
      const stop = bytes.indexOf(0);
      counters.set(name, bytes.toString('utf8', 0, stop < 0 ? bytes.length : stop));
    }
    pos = end;
  }
  return counters;
}

export interface JavaHeapSizes {
  /** Max heap size (-Xmx / MaxHeapSize): the size of the heap's address-space reservation. */
  reservedBytes: number;
  /**
   * Committed heap: the rw-p bytes inside the reservation in /proc/PID/maps. Equals
   * Runtime.totalMemory() for G1; Serial/Parallel leave a survivor space out of totalMemory().
   */
  committedBytes: number;
  /** Bytes occupied by objects, live or not yet collected. */
  usedBytes: number;
}

/**
 * Java heap sizes from jvmstat counters, or undefined when the JVM publishes no generation
 * counters (not HotSpot, or perf data disabled).
 *
 * Counters used, and why:
 *  - sun.gc.generation.<g>.maxCapacity: each generation's reserved size. Serial ("Copy:MSC") and
 *    Parallel ("ParScav:MSC") split one reservation into fixed young/old parts, so their sum is
 *    MaxHeapSize. G1 has no fixed split: every generation reports the whole reservation, so take
 *    the largest instead of summing. (Shenandoah, ZGC, Epsilon publish a single generation
 *    with data, so the sum works for them too.)
 *  - sun.gc.generation.<g>.capacity: committed bytes of each generation; they add up to the
 *    committed heap for every collector. (Not space.*.capacity: Shenandoah reports the max there.)
 *  - sun.gc.generation.<g>.space.<s>.used: summed over all spaces (eden, s0, s1, old).
 * JDK 17's G1 pads every capacity it publishes by MinObjAlignmentInBytes (young gen: 3x) so
 * jstat never divides by zero; later JDKs dropped the pad. Real sizes are page multiples and the
 * pad is below 4 KiB, so rounding G1 capacities down to 4 KiB recovers the exact value either way.
 * Note G1 refreshes capacities only at the end of a GC, so they can briefly lag the maps.
 */
export function javaHeapFromPerfdata(counters: ReadonlyMap<string, number | string>): JavaHeapSizes | undefined {
  const isG1 = counters.get('sun.gc.policy.name') === 'GarbageFirst';
  const unpad = (v: number): number => (isG1 ? v - (v % 4096) : v);
  let reserved = 0;
  let committed = 0;
  let used = 0;
  let generations = 0;
  for (const [name, value] of counters) {
    if (typeof value !== 'number') continue;
    const m = /^sun\.gc\.generation\.\d+\.(?:(maxCapacity|capacity)|space\.\d+\.(used))$/.exec(name);
    if (!m) continue;
    if (m[1] === 'maxCapacity') {
      generations++;
      reserved = isG1 ? Math.max(reserved, unpad(value)) : reserved + value;
    } else if (m[1] === 'capacity') {
      committed += unpad(value);
    } else {
      used += value;
    }
  }
  if (generations === 0) return undefined;
  return { reservedBytes: reserved, committedBytes: committed, usedBytes: used };
}
