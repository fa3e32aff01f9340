import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import {
  countResidentPages,
  deviceNumber,
  parseAuxvPageSize,
  parseCmdline,
  parseMaps,
  parseSmaps,
  parseStat,
  parseStatus,
  parseSyscallStackPointer,
  scanMaps,
  scanSmaps,
  statusBytes,
} from '../src/collector/linux/procfs.js';

test('parseMaps reads addresses, perms, device, inode and paths with spaces', () => {
  const text = [
    '55d0c8a00000-55d0c8a28000 r--p 00000000 fe:00 260386                     /usr/bin/my prog',
    '7f3c1a000000-7f3c1a021000 rw-p 00000000 00:00 0 ',
    '7ffd08303000-7ffd08324000 rw-p 00000000 00:00 0                          [stack]',
    'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]',
    '',
  ].join('\n');
  const maps = parseMaps(text);
  assert.equal(maps.length, 4);
  assert.deepEqual(
    { start: maps[0].start, size: maps[0].size, perms: maps[0].perms, dev: maps[0].dev, inode: maps[0].inode, path: maps[0].path },
    { start: 0x55d0c8a00000, size: 0x28000, perms: 'r--p', dev: 'fe:00', inode: 260386, path: '/usr/bin/my prog' },
  );
  assert.equal(maps[1].path, '');
  assert.equal(maps[2].path, '[stack]');
  // Above 2^53 the numeric address is approximate, but the size comes from exact BigInt arithmetic.
  assert.equal(maps[3].size, 4096);
  assert.equal(maps[3].startHex, 'ffffffffff600000');
});

test('parseMaps rejects text that is not a maps file', () => {
  assert.throws(() => parseMaps('hello world\n'), /unexpected line in maps/);
});

/** Two mappings of a smaps file, as the kernel writes them. */
const SMAPS_TEXT = `7ff034000000-7ff0342c1000 rw-p 00000000 00:00 0 
Size:               2820 kB
KernelPageSize:        4 kB
Rss:                2616 kB
Shared_Clean:          0 kB
Shared_Dirty:          8 kB
Private_Clean:         4 kB
Private_Dirty:      2604 kB
Anonymous:          2616 kB
Locked:                0 kB
THPeligible:           0
VmFlags: rd wr mr mw me nr 
7ff0342c1000-7ff038000000 ---p 00000000 00:00 0 
Size:              62716 kB
Rss:                   0 kB
VmFlags: mr mw me nr 
`;

test('parseSmaps keeps the counters it needs in bytes and reads VmFlags', () => {
  const [rw, reserved] = parseSmaps(SMAPS_TEXT);
  assert.deepEqual(rw.counters, {
    rss: 2616 * 1024,
    anonymous: 2616 * 1024,
    sharedClean: 0,
    sharedDirty: 8 * 1024,
    privateClean: 4 * 1024,
    privateDirty: 2604 * 1024,
    locked: 0,
    swap: 0, // absent from this text: stays 0
  });
  assert.deepEqual([...rw.vmFlags!], ['rd', 'wr', 'mr', 'mw', 'me', 'nr']);
  assert.equal(reserved.perms, '---p');
  assert.equal(reserved.size, 62716 * 1024);
});

/** Text in a reused buffer as the collector reads it: longer than the file, the rest stale bytes of an earlier read. */
function inBuffer(text: string, stale = '-5 rw-p 00000000 00:00 0 Rss: 9 kB\n'): [Buffer, number] {
  const length = Buffer.byteLength(text);
  const buffer = Buffer.alloc(length + 4 * stale.length);
  buffer.write(text);
  for (let at = length; at < buffer.length; at += stale.length) buffer.write(stale, at);
  return [buffer, length];
}

test('scanMaps reads the bytes of a reused buffer up to its length, as parseMaps reads the text', () => {
  const text = [
    '55d0c8a00000-55d0c8a28000 r--p 00001000 fe:00 260386                     /usr/bin/my prog',
    '7f3c1a000000-7f3c1a021000 rw-p 00000000 00:00 0 ',
    '7f3c1b000000-7f3c1b001000 rw-s 00000000 00:01 1234                       /memfd:caf\u00e9 (deleted)',
    'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]',
    '7ffd08303000-7ffd08324000 rw-p 00000000 00:00 0',
  ].join('\n');
  const maps = scanMaps(...inBuffer(text));
  assert.deepEqual(maps, parseMaps(text));
  assert.equal(maps.length, 5);
  assert.deepEqual(
    { start: maps[0].start, end: maps[0].end, size: maps[0].size, perms: maps[0].perms, offset: maps[0].offset, dev: maps[0].dev, inode: maps[0].inode, path: maps[0].path },
    { start: 0x55d0c8a00000, end: 0x55d0c8a28000, size: 0x28000, perms: 'r--p', offset: 0x1000, dev: 'fe:00', inode: 260386, path: '/usr/bin/my prog' },
  );
  assert.equal(maps[1].path, '');
  // Not ASCII: decoded as UTF-8, as the text is.
  assert.equal(maps[2].path, '/memfd:caf\u00e9 (deleted)');
  // Above 2^53: the size is exact ([vsyscall], the regex's path).
  assert.deepEqual([maps[3].startHex, maps[3].size, maps[3].path], ['ffffffffff600000', 4096, '[vsyscall]']);
  // The last line has no newline: the stale bytes after it are not read.
  assert.deepEqual([maps[4].endHex, maps[4].inode, maps[4].path], ['7ffd08324000', 0, '']);
});

test('scanMaps refuses truncated and hostile lines as parseMaps does', () => {
  const good = '7f3c1a000000-7f3c1a021000 rw-p 00000000 00:00 0 ';
  for (const line of [
    '7f3c1a000000-7f3c1a021000 rw-p 00000000 00:00', // truncated before the inode
    '7f3c1a000000-7f3c1a021000 rw-p 00000000 00:0', // truncated in the device
    '7f3c1a000000-7f3c1a021000 rw-p', // truncated after perms
    '7f3c1a000000-', // truncated after the dash
    '7F3C1A000000-7f3c1a021000 rw-p 00000000 00:00 0', // upper-case hex
    '7f3c1a021000-7f3c1a000000 rw-p 00000000 00:00 0', // ends before it starts
    '7f3c1a000000-7f3c1a021000 rw p 00000000 00:00 0', // perms with a space
    '7f3c1a000000-7f3c1a021000 rw-p 00000000 00:00 12x', // inode not a number
    '7f3c1a000000-7f3c1a021000 rw-p 00000000 00:00 0 /a\rb', // CR in the path: not a line the kernel writes
    '7f3c1a000000-7f3c1a021000 rw-p 0000000000000000000 00:00 0', // offset of more than 64 bits
    'hello world',
  ]) {
    const text = `${good}\n${line}\n`;
    assert.throws(() => parseMaps(text), /unexpected line in maps/, line);
    assert.throws(() => scanMaps(...inBuffer(text)), /unexpected line in maps/, line);
  }
  // Every cut of a real maps file: the same mappings or the same refusal from both.
  const real = readFileSync('/proc/self/maps', 'utf8');
  for (let k = 1; k <= 40; k++) {
    const cut = real.slice(0, Math.floor((real.length * k) / 40));
    let expected: unknown;
    try {
      expected = parseMaps(cut);
    } catch (error) {
      expected = (error as Error).message;
    }
    let actual: unknown;
    try {
      actual = scanMaps(...inBuffer(cut));
    } catch (error) {
      actual = (error as Error).message;
    }
    assert.deepEqual(actual, expected, `cut at ${k}/40`);
  }
});

test('scanSmaps keeps the counters in bytes, reads VmFlags, skips other fields, and refuses garbled ones', () => {
  // Fields the collector does not keep (SwapPss, AnonHugePages), one with no colon, and two more it keeps.
  const text = SMAPS_TEXT.replace('Locked:                0 kB\n', 'AnonHugePages:      2048 kB\nSwap:                 12 kB\nSwapPss:              12 kB\nLocked:                1 kB\nRss_Extra no colon here\n');
  const mappings = scanSmaps(...inBuffer(text));
  assert.deepEqual(mappings, parseSmaps(text));
  assert.deepEqual(mappings[0].counters, {
    rss: 2616 * 1024, anonymous: 2616 * 1024, sharedClean: 0, sharedDirty: 8 * 1024, privateClean: 4 * 1024,
    privateDirty: 2604 * 1024, locked: 1024, swap: 12 * 1024,
  });
  assert.deepEqual([...mappings[0].vmFlags!], ['rd', 'wr', 'mr', 'mw', 'me', 'nr']);
  assert.equal(mappings[1].counters!.swap, 0, 'a field absent stays 0');
  assert.throws(() => scanSmaps(...inBuffer('Rss: 4 kB\n')), /smaps field before any mapping/);
  assert.throws(() => scanSmaps(...inBuffer(`${text}Rss: 99999999999999999999 kB\n`)), /smaps field Rss is beyond 2\^53 bytes/);
  assert.throws(() => scanSmaps(...inBuffer(`${text}7ff038000000-7ff03 rw-p\n`)), /unexpected line in smaps/);
});

test('parseStat finds fields after a command name holding spaces and parentheses', () => {
  const stat = parseStat('4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 3 0 987654 1000 10 18446744073709551615');
  assert.equal(stat.comm, 'a) b (c)');
  assert.equal(stat.state, 'S');
  assert.equal(stat.ppid, 1);
  assert.equal(stat.startTicks, 987654);
});

test('parseStatus and statusBytes read kB fields', () => {
  const status = parseStatus('Name:\tcat\nState:\tR (running)\nVmPTE:\t      48 kB\nThreads:\t1\n');
  assert.equal(status.get('State'), 'R (running)');
  assert.equal(statusBytes(status, 'VmPTE'), 48 * 1024);
  assert.equal(statusBytes(status, 'Threads'), 1);
  assert.equal(statusBytes(status, 'VmSwap'), undefined);
});

test('parseSyscallStackPointer handles in-syscall, blocked and running threads', () => {
  assert.equal(parseSyscallStackPointer('202 0x7f3b0c1ff990 0x80 0x0 0x0 0x0 0x0 0x7f3b0b9fed70 0x7f3b0c28f1a6\n'), 0x7f3b0b9fed70);
  assert.equal(parseSyscallStackPointer('-1 0x7ffd1c3e0a18 0x55d0c8a0b1c2\n'), 0x7ffd1c3e0a18);
  assert.equal(parseSyscallStackPointer('running\n'), undefined);
});

test('parseCmdline splits on NUL and keeps empty arguments', () => {
  assert.deepEqual(parseCmdline('node\0-e\0\0x\0'), ['node', '-e', '', 'x']);
  assert.deepEqual(parseCmdline(''), []);
});

test('deviceNumber turns a maps major:minor into fstat\'s device number', () => {
  assert.equal(deviceNumber('fe:00'), 0xfe00);
  assert.equal(deviceNumber('00:1f'), 0x1f);
  // Minors above 255 go to bits 20 and up.
  assert.equal(deviceNumber('103:1ab'), 0xab | (0x103 << 8) | (0x1 << 20));
  const [, dev, , path] = /^\S+ \S+ \S+ (\S+) (\d+) +(\/\S*libc\.so\.6)$/m.exec(readFileSync('/proc/self/maps', 'utf8'))!;
  assert.equal(deviceNumber(dev), statSync(path).dev);
});

test('parseAuxvPageSize finds AT_PAGESZ, and this machine\'s agrees with getconf', () => {
  const auxv = Buffer.alloc(16 * 3);
  auxv.writeBigUInt64LE(3n, 0); // AT_PHDR
  auxv.writeBigUInt64LE(0x400040n, 8);
  auxv.writeBigUInt64LE(6n, 16); // AT_PAGESZ
  auxv.writeBigUInt64LE(16384n, 24);
  assert.equal(parseAuxvPageSize(auxv), 16384);
  assert.equal(parseAuxvPageSize(auxv.subarray(0, 16)), undefined);
  assert.equal(parseAuxvPageSize(Buffer.alloc(32)), undefined, 'AT_NULL ends it');
  const getconf = spawnSync('getconf', ['PAGESIZE'], { encoding: 'utf8' });
  assert.equal(parseAuxvPageSize(readFileSync('/proc/self/auxv')), Number(getconf.stdout));
});

test('countResidentPages counts pagemap entries in RAM (bit 63) or swap (bit 62)', () => {
  const entries = Buffer.alloc(8 * 5);
  entries.writeBigUInt64LE((1n << 63n) | 0x1234n, 0);
  entries.writeBigUInt64LE(1n << 62n, 8);
  entries.writeBigUInt64LE(1n << 55n, 16); // soft-dirty only: not present
  entries.writeBigUInt64LE((1n << 63n) | (1n << 56n), 32);
  assert.equal(countResidentPages(entries), 3);
  assert.equal(countResidentPages(entries.subarray(0, 12)), 1, 'a partial entry is not counted');
});
