/** binutils' reading of an ELF file, independent of leakwatch's parser. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { LoadSegment } from '../../src/collector/linux/elf.js';

/** The LOAD lines of `readelf -lW`. */
export function readelfLoads(path: string): LoadSegment[] {
  const out = spawnSync('readelf', ['-lW', path], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  return out.stdout.split('\n').filter((l) => /^\s+LOAD\s/.test(l)).map((line) => {
    const [, offset, vaddr, , filesz, memsz, ...flags] = line.trim().split(/\s+/);
    return { offset: Number(offset), vaddr: Number(vaddr), filesz: Number(filesz), memsz: Number(memsz), writable: flags.includes('RW') };
  });
}
