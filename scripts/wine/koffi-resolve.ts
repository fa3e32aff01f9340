/**
 * Module resolution hook (registered by preload.ts): `koffi` and `koffi/…` resolve as if imported from the directory
 * setup.ts filled, so Node's own rules (package.json "exports") pick the file there. Every other specifier is left
 * alone.
 */
import type { InitializeHook, ResolveHook } from 'node:module';

let parentURL = '';

export const initialize: InitializeHook<{ parentURL: string }> = (data) => {
  parentURL = data.parentURL;
};

export const resolve: ResolveHook = (specifier, context, nextResolve) =>
  specifier === 'koffi' || specifier.startsWith('koffi/') ? nextResolve(specifier, { ...context, parentURL }) : nextResolve(specifier, context);
