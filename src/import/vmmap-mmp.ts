/**
 * VMMap's `.mmp` files (NOTES §5): XML with `Snapshot` elements holding `Region` elements whose `UseType` says the
 * type (Heap=0, Stack=1, Image=2, MappedFile=3, PrivateData=4, Shareable=5, Free=6, ManagedHeaps=8, Unusable=10;
 * 7 and 9 are unknown and left out, not guessed; Unusable is not one of our types). Values are bytes.
 *
 * Read with saxes: one pass, linear time, and it never expands DTD entities; a DOCTYPE is refused outright, so no
 * internal entity is expanded and no external one is fetched.
 */
import { SaxesParser } from 'saxes';
import type { TypeTotals } from '../collector/types.js';
import { decodeImportText } from './text.js';
import type { MemoryType } from '../vocabulary.js';

export type VmmapTotals = Partial<Record<MemoryType, TypeTotals>>;
export interface ForeignSnapshot {
  timestamp: string | undefined;
  totals: VmmapTotals;
}

const USE_TYPES: ReadonlyMap<number, MemoryType> = new Map([
  [0, 'heap'], [1, 'stack'], [2, 'image'], [3, 'mappedFile'], [4, 'private'], [5, 'shareable'], [6, 'free'], [8, 'managedHeap'],
]);

/** The byte amounts of a Region that the totals use. */
const AMOUNTS = ['Size', 'Commit', 'PrivateBytes', 'PrivateWS', 'ShareableWS'] as const;
type Amount = (typeof AMOUNTS)[number];
type Amounts = Partial<Record<Amount, number>>;

interface Region {
  line: number;
  address: number;
  end: number;
  useType: number | undefined;
  blocks: number | undefined;
  amounts: Amounts;
  /** Position in the file: of two Regions with the same range, the first written is the outer one. */
  order: number;
  /** The outermost Region containing this one, or itself (set when the snapshot's tree is built). */
  root?: Region;
  childCount: number;
}

/** A cell or attribute for a message: cut short, its control characters (a quoted line break) made visible. */
const shorten = (text: string) =>
  (text.length > 24 ? `${text.slice(0, 24)}…` : text).replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/** A whole number of bytes (or blocks); anything else is refused rather than read as 0. */
function wholeNumber(attributes: Record<string, string>, name: string, line: number): number | undefined {
  const text = attributes[name];
  if (text === undefined) return undefined;
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value)) throw new Error(`line ${line}: Region attribute ${name}="${shorten(text)}" is not a whole number below 2^53`);
  return value;
}

function readRegion(attributes: Record<string, string>, line: number, order: number, xmlParent: Region | undefined): Region {
  const amounts: Amounts = {};
  for (const name of AMOUNTS) {
    const value = wholeNumber(attributes, name, line);
    if (value !== undefined) amounts[name] = value;
  }
  const address = wholeNumber(attributes, 'Address', line);
  // Without a range a Region cannot be placed in the allocation tree, and guessing 0 would nest it wrongly.
  if (address === undefined) throw new Error(`line ${line}: Region without an Address attribute`);
  if (amounts.Size === undefined) throw new Error(`line ${line}: Region without a Size attribute`);
  const end = address + amounts.Size;
  if (!Number.isSafeInteger(end)) throw new Error(`line ${line}: Region's Address + Size is beyond 2^53`);
  if (xmlParent !== undefined && (address < xmlParent.address || end > xmlParent.end)) {
    throw new Error(`line ${line}: a Region written inside the Region at line ${xmlParent.line} lies outside its address range`);
  }
  return { line, address, end, useType: wholeNumber(attributes, 'UseType', line), blocks: wholeNumber(attributes, 'Blocks', line), amounts, order, childCount: 0 };
}

/**
 * Per-type totals of one snapshot, every byte counted once.
 *
 * VMMap writes an allocation and the blocks inside it as Regions whose ranges nest, either as nested elements or as
 * siblings. PerfView's reader ignores the XML nesting, rebuilds the tree by address containment, groups by the
 * outermost Region's UseType, and takes its numbers from the leaves only. We also rebuild the tree by containment
 * and type by the outermost Region, but take the numbers from the outermost Region: it is the allocation row of
 * VMMap's details view, which summarizes its sub-blocks, its `Blocks` attribute is the count the summary's Blocks
 * column adds up, and Largest is "the largest allocation". Only where the outermost Region lacks an
 * attribute are its leaves summed instead: per attribute one or the other, never both.
 */
function totalsOf(regions: Region[]): VmmapTotals {
  const sorted = [...regions].sort((a, b) => a.address - b.address || b.end - a.end || a.order - b.order);
  const chain: Region[] = []; // the Regions containing the current one, outermost first
  for (const region of sorted) {
    while (chain.length > 0 && chain[chain.length - 1].end <= region.address) chain.pop();
    const container = chain.at(-1);
    if (container !== undefined && region.end > container.end) {
      throw new Error(`line ${region.line}: Region overlaps the Region at line ${container.line} without lying inside it`);
    }
    region.root = container?.root ?? region;
    if (container !== undefined) container.childCount++;
    chain.push(region);
  }

  const leafSums = new Map<Region, { amounts: Amounts; leaves: number }>();
  for (const region of sorted) {
    if (region.root === region || region.childCount > 0) continue;
    const sums = leafSums.get(region.root!) ?? { amounts: {}, leaves: 0 };
    for (const name of AMOUNTS) {
      const value = region.amounts[name];
      if (value !== undefined) sums.amounts[name] = (sums.amounts[name] ?? 0) + value;
    }
    sums.leaves++;
    leafSums.set(region.root!, sums);
  }

  const totals: VmmapTotals = {};
  for (const root of sorted) {
    if (root.root !== root) continue;
    if (root.useType === undefined) throw new Error(`line ${root.line}: Region without a UseType attribute`);
    const type = USE_TYPES.get(root.useType);
    if (type === undefined) continue; // unknown (7, 9, newer) or Unusable: left out, with everything inside it
    const leaves = leafSums.get(root);
    const amount = (name: Amount) => root.amounts[name] ?? leaves?.amounts[name] ?? 0;
    const entry = (totals[type] ??= { size: 0, committed: 0, private: 0, totalWs: 0, privateWs: 0, blocks: 0, largest: 0 });
    entry.size += amount('Size');
    entry.committed += amount('Commit');
    entry.private! += amount('PrivateBytes');
    entry.privateWs! += amount('PrivateWS');
    entry.totalWs! += amount('PrivateWS') + amount('ShareableWS');
    // Blocks="0" or absent: count the blocks the file shows (an allocation without sub-blocks is one block).
    entry.blocks! += root.blocks || (leaves?.leaves ?? 1);
    entry.largest = Math.max(entry.largest!, amount('Size'));
  }
  for (const [type, entry] of Object.entries(totals)) {
    if (!Object.values(entry).every(Number.isSafeInteger)) throw new Error(`the ${type} totals are beyond 2^53 bytes`);
  }
  return totals;
}

/** saxes says `12:7: unexpected close tag.`; we say `line 12, column 7: unexpected close tag`. */
function parserMessage(message: string): string {
  const match = /^(\d+):(\d+): (.*?)\.?$/s.exec(message);
  const text = match === null ? message : `line ${match[1]}, column ${match[2]}: ${match[3]}`;
  return `malformed XML: ${text.replace(/\s*\n\s*/g, ' ')}`;
}

/**
 * Every `Snapshot` of an `.mmp` file, in file order, as per-type totals in bytes with its `Timestamp` when present.
 * leakwatch imports them as one session's timeline; PerfView keeps only the last one ("present VMMap behavior").
 * @throws Error with a one-line message naming the line, for malformed XML, a DOCTYPE, a Region attribute that is
 * not a whole number, overlapping Regions, a file with no Snapshot, or input above MAX_IMPORT_BYTES.
 */
export function parseVmmapMmp(bytes: Buffer): ForeignSnapshot[] {
  const xml = decodeImportText(bytes);
  const parser = new SaxesParser<{ xmlns: false }>({ xmlns: false });
  const snapshots: ForeignSnapshot[] = [];
  let current: { timestamp: string | undefined; regions: Region[] } | undefined;
  const openRegions: Region[] = []; // Region elements open at this point of the file, outermost first
  let tagLine = 1;

  parser.on('error', (error) => {
    throw new Error(parserMessage(error.message));
  });
  parser.on('doctype', () => {
    throw new Error(`line ${parser.line}: a DOCTYPE is not accepted in a VMMap file (its entities are never expanded)`);
  });
  parser.on('opentagstart', () => {
    tagLine = parser.line;
  });
  parser.on('opentag', (tag) => {
    if (tag.name === 'Snapshot') {
      if (current !== undefined) throw new Error(`line ${tagLine}: a Snapshot inside a Snapshot`);
      current = { timestamp: tag.attributes.Timestamp, regions: [] };
    } else if (tag.name === 'Region') {
      if (current === undefined) throw new Error(`line ${tagLine}: a Region outside any Snapshot`);
      const region = readRegion(tag.attributes, tagLine, current.regions.length, openRegions.at(-1));
      current.regions.push(region);
      openRegions.push(region);
    }
  });
  parser.on('closetag', (tag) => {
    if (tag.name === 'Region') {
      openRegions.pop();
    } else if (tag.name === 'Snapshot' && current !== undefined) {
      snapshots.push({ timestamp: current.timestamp, totals: totalsOf(current.regions) });
      current = undefined;
    }
  });
  parser.write(xml).close();

  if (snapshots.length === 0) throw new Error('no <Snapshot> element found: not a VMMap .mmp file');
  return snapshots;
}
