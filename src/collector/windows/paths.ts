/** Pure text work of the Windows collector: file paths as the kernel names them, and command lines. */

/** `C:` → `\Device\HarddiskVolume3`, as QueryDosDeviceW says for each drive letter. */
export type DosDevices = ReadonlyMap<string, string>;

/**
 * A path as K32GetMappedFileNameW gives it, as people write it: `\Device\HarddiskVolume3\Windows\System32\ntdll.dll`
 * → `C:\Windows\System32\ntdll.dll` through the drive whose device is the longest prefix (a device must be followed
 * by `\`: HarddiskVolume1 is no prefix of HarddiskVolume10). `\??\C:\…` and `\\?\C:\…` (Wine gives those) lose the
 * prefix. A device no drive letter names (a volume mounted in a folder, a network redirector) stays as it is.
 * @example toDrivePath('\\Device\\HarddiskVolume1\\a.dll', new Map([['C:', '\\Device\\HarddiskVolume1']])) // 'C:\\a.dll'
 */
export function toDrivePath(devicePath: string, devices: DosDevices): string {
  const prefixed = /^\\(?:\?\?|\\\?)\\([A-Za-z]:\\.*)$/.exec(devicePath);
  if (prefixed) return prefixed[1];
  let best: [string, string] | undefined;
  for (const [drive, device] of devices) {
    const matches = devicePath.length > device.length && devicePath[device.length] === '\\' &&
      devicePath.slice(0, device.length).toLowerCase() === device.toLowerCase();
    if (matches && (best === undefined || device.length > best[1].length)) best = [drive, device];
  }
  return best ? best[0] + devicePath.slice(best[1].length) : devicePath;
}

/**
 * The arguments of a Windows command line, split as the Microsoft C runtime does (the rules CommandLineToArgvW and
 * every C program's main() follow): whitespace separates; `"` toggles quoting; 2n backslashes before a `"` are n
 * backslashes and the quote is special, 2n+1 are n and a literal `"`; backslashes elsewhere are literal; `""` inside
 * quotes is a literal `"`. The program name (the first argument) ends at the first whitespace outside quotes and
 * takes backslashes literally.
 * @example splitCommandLine('"C:\\Program Files\\node.exe" app.js "a b" c\\"d') // ['C:\\Program Files\\node.exe', 'app.js', 'a b', 'c"d']
 */
export function splitCommandLine(commandLine: string): string[] {
  const args: string[] = [];
  let i = 0;
  const n = commandLine.length;
  const isSpace = (c: string) => c === ' ' || c === '\t';
  // The program name: quotes group, nothing is escaped.
  let program = '';
  let quoted = false;
  for (; i < n && (quoted || !isSpace(commandLine[i])); i++) {
    if (commandLine[i] === '"') quoted = !quoted;
    else program += commandLine[i];
  }
  if (n > 0) args.push(program);
  for (;;) {
    while (i < n && isSpace(commandLine[i])) i++;
    if (i >= n) return args;
    let arg = '';
    quoted = false;
    while (i < n && (quoted || !isSpace(commandLine[i]))) {
      let backslashes = 0;
      while (commandLine[i] === '\\') {
        backslashes++;
        i++;
      }
      if (commandLine[i] === '"') {
        arg += '\\'.repeat(Math.floor(backslashes / 2));
        if (backslashes % 2 === 1) {
          arg += '"';
        } else if (quoted && commandLine[i + 1] === '"') {
          arg += '"';
          i++;
        } else {
          quoted = !quoted;
        }
        i++;
      } else {
        arg += '\\'.repeat(backslashes);
        if (i < n && (quoted || !isSpace(commandLine[i]))) arg += commandLine[i++];
      }
    }
    args.push(arg);
  }
}
