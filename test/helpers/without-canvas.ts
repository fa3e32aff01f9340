/**
 * Module resolve hook for tests (node --import, see cliWithoutCanvas): the CLI runs as on a machine where npm dropped
 * the optional chartjs-node-canvas, and every module it resolves is appended to $LEAKWATCH_TEST_MODULE_LOG.
 * The log is written synchronously: the hook runs on its own thread, whose stderr may not be flushed at exit.
 */
import { appendFileSync } from 'node:fs';
import type { ResolveHook } from 'node:module';

const MISSING = new Set(['chartjs-node-canvas', 'canvas']);

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  if (MISSING.has(specifier)) {
    throw Object.assign(new Error(`Cannot find package '${specifier}' (hidden by the test)`), { code: 'ERR_MODULE_NOT_FOUND' });
  }
  const result = await nextResolve(specifier, context);
  if (process.env.LEAKWATCH_TEST_MODULE_LOG) appendFileSync(process.env.LEAKWATCH_TEST_MODULE_LOG, `${result.url}\n`);
  return result;
};
