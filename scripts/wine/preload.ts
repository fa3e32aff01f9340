/**
 * Loaded by Windows Node under Wine before the program (`node.exe --import …/preload.js`, see node.ts): makes
 * `import('koffi')` load the koffi that setup.ts fetched, whose Windows binary (@koromix/koffi-win32-x64) sits next to
 * it. The checkout's node_modules was installed for Linux and holds, at most, koffi's Linux binary.
 * $LEAKWATCH_WINE_KOFFI is the Windows path of the directory whose node_modules holds both.
 *
 * Only `import` goes through the hook (Node 20's module.register): code that wants koffi on Windows must load it
 * with `await import('koffi')`, not `require`.
 */
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';

const dir = process.env.LEAKWATCH_WINE_KOFFI;
if (dir) register('./koffi-resolve.js', import.meta.url, { data: { parentURL: pathToFileURL(`${dir}\\`).href } });
