/**
 * Loaded into the CLI by tests (node --import) and by the benchmarks: while `procMem.refused` is true, opening
 * /proc/PID/mem fails with EACCES, as it does for smaps readers without the right to attach (Yama's ptrace_scope 1
 * and a target that is not a descendant). This machine's kernel has no Yama, and reading another user's smaps needs
 * the same rights as its mem, so no real setup here refuses only mem.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

export const procMem = { refused: true };

const openSync = fs.openSync;
fs.openSync = ((file: fs.PathLike, flags: fs.OpenMode, mode?: fs.Mode | null) => {
  if (procMem.refused && typeof file === 'string' && /^\/proc\/\d+\/mem$/.test(file)) {
    throw Object.assign(new Error(`EACCES: permission denied, open '${file}'`), { code: 'EACCES', syscall: 'open', path: file });
  }
  return openSync(file, flags, mode);
}) as typeof fs.openSync;
// `import { openSync } from 'node:fs'` elsewhere sees the replacement (builtin modules' named exports are synced).
syncBuiltinESMExports();
