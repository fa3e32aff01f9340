import type { ManagedRange } from './classify.js';
import type { Mapping } from './procfs.js';

/** Filled in from hsperfdata (in progress). */
export function findJavaHeap(_pid: number, _mappings: Mapping[]): ManagedRange | undefined {
  return undefined;
}
