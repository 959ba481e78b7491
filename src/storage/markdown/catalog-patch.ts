import { join, sep } from 'node:path';
import { MEMORY_TYPES, type MemoryType } from '../../memory/types.js';
import type { StorageSummary } from '../types.js';
import { compareCodePoints } from '../query.js';
import { fileDigests } from './front-matter-digest.js';
import { NO_DIGEST, digestOfLine, recordOfLine, restatedLine, parseTags, saveAndReopenCatalog, settled, type Catalog, type CatalogIndex, type CatalogPart, type LineRecord } from './catalog.js';
import { FIELDS, FILE, KIND, MEMORY_DIR, changedEntries, statAt, type FileStat, type FolderListing } from './folder-listing.js';
import type { ReadFile } from './backend.js';

/**
 * The catalog's clean index brought up to date without a scan, when the memory files are the same
 * ones as when it was written and only some changed: an editor saved them, or a script appended to
 * them (SPEC section 3: the next command sees every hand edit).
 *
 * A scan makes a header for every file and sorts them all again (about 150 ms at 10,000 files, the
 * same for one edited file as for a thousand). Here only the files whose stat differs from the
 * index's listing are read, and the suspects the index names (files changed just before it was
 * written, whose stat cannot vouch for their content yet); each keeps its record with its new stat
 * when its front matter's digest is unchanged (front-matter-digest.ts: read natively, in one call,
 * where the addon is built), or gets a new line from its front matter otherwise.
 * The records' order stays as it is, so the index's orders stand; the new catalog is written with
 * runs of unchanged lines copied, and the command goes on from it as from any clean index.
 *
 * Anything else gives way to the scan, which decides every case: a name added, removed or renamed,
 * a file that became a link or unreadable, a changed id or creation time (the orders would change),
 * a problem, or a read-only open (nothing may be written) with a stat that changed.
 */
export interface CatalogPatch {
  dir: string;
  readonly: boolean;
  scanStart: number;
  catalog: Catalog;
  index: CatalogIndex;
  listings: Array<FolderListing | undefined>;
  isMemoryFile(name: string): boolean;
  /** Reads and parses a file as the scan does. */
  readFile(path: string, type: MemoryType, file: string, st: FileStat): ReadFile | undefined;
}

/** A record to read again: its number, where its file is in the listings, and its file's stat now. */
interface Check {
  r: number;
  typeIndex: number;
  type: MemoryType;
  file: string;
  st: FileStat;
  statChanged: boolean;
}

/**
 * The catalog and its clean index as they are after the patch: the new catalog open (the given one
 * closed), or the given ones when nothing needed writing. Undefined: the scan must decide.
 */
export function patchCatalog(patch: CatalogPatch): { catalog: Catalog; index: CatalogIndex } | undefined {
  try {
    return patched(patch);
  } catch {
    return undefined; // a catalog cut short under us, or any other surprise: the scan decides
  }
}

function patched(patch: CatalogPatch): { catalog: Catalog; index: CatalogIndex } | undefined {
  const { catalog, index, scanStart } = patch;
  const checks = recordsToCheck(patch);
  if (!checks) return undefined;
  if (patch.readonly && checks.some((c) => c.statChanged)) return undefined;
  // The records' lines, and the digest of each file's front matter now (one call for all, natively).
  const records: Array<{ size: number; digest: string; digestAt: number }> = [];
  const old: string[] = [];
  for (const { r, type, file } of checks) {
    const line = catalog.lineAt(index.lineStart(r), index.lineEnd(r));
    const record = digestOfLine(line, type, file) ?? digestOfRecord(line, type, file);
    if (!record) return undefined;
    records.push(record);
    old.push(line);
  }
  // Plain concatenation: path.join per file cost as much as reading it.
  const folders = MEMORY_TYPES.map((type) => join(patch.dir, MEMORY_DIR, type) + sep);
  const pathOf = ({ typeIndex, file }: Check) => folders[typeIndex] + file;
  const digests = fileDigests(checks.map(pathOf));
  const lines = new Map<number, string>();
  const suspects: number[] = [];
  let bytesDelta = 0;
  const tagDelta = new Map<string, number>();
  for (const [k, check] of checks.entries()) {
    const { r, type, file, st } = check;
    const record = records[k];
    let digest = record.digest;
    let line = old[k];
    if (digest === NO_DIGEST || digests[k] !== digest) {
      // Its front matter changed (or nothing vouches that it did not): read as the scan reads it.
      const read = patch.readFile(pathOf(check), type, file, st);
      const before = recordOfLine(line);
      const reread = read?.line === undefined || read.problem !== undefined ? undefined : recordOfLine(read.line);
      // Gone, unreadable, or no longer the same memory at the same place in the orders: the scan decides.
      if (!reread || !before || !sameIdAndCreated(reread, before)) return undefined;
      if (reread.span !== before.span && !(countTags(tagDelta, before, -1) && countTags(tagDelta, reread, 1))) return undefined;
      digest = reread.digest;
      line = read!.line!;
    } else if (check.statChanged) {
      line = restatedLine(line, record.digestAt, st);
    }
    if (!settled(st, scanStart)) {
      if (digest === NO_DIGEST) return undefined; // nothing could vouch for it later
      suspects.push(r);
    }
    if (line === old[k]) continue;
    lines.set(r, line);
    bytesDelta += st.size - record.size;
  }
  const unchanged = lines.size === 0 && suspects.length === index.suspects.length;
  if (unchanged || patch.readonly) return { catalog, index };

  // The new catalog: runs of unchanged lines copied, the new lines between them; and each line's
  // new offset, the old one moved by how much longer the new lines before it are.
  const parts: CatalogPart[] = [];
  const offsets = index.lineOffsets();
  const start = offsets[0];
  let at = start;
  let shift = 0;
  let shiftedTo = 0;
  for (const [r, line] of lines) {
    if (offsets[r] > at) parts.push({ from: at, to: offsets[r] });
    parts.push(line);
    at = index.lineEnd(r);
    for (; shiftedTo <= r; shiftedTo++) offsets[shiftedTo] += shift;
    shift += line.length - (at - index.lineStart(r));
  }
  for (; shiftedTo < index.records; shiftedTo++) offsets[shiftedTo] += shift;
  const end = index.lineEnd(index.records - 1);
  if (end > at) parts.push({ from: at, to: end });
  const summary = patchedSummary(index.summary, bytesDelta, tagDelta);
  const written = saveAndReopenCatalog(patch.dir, parts, scanStart, catalog, {
    recordsLength: end - start + shift,
    bytes: (recordsStart) => {
      if (recordsStart !== start) for (let r = 0; r < offsets.length; r++) offsets[r] += recordsStart - start;
      return index.patchedBytes(patch.listings, summary, suspects, offsets);
    },
  });
  const patched = written?.readIndex();
  if (!written || !patched) {
    written?.close();
    return undefined;
  }
  catalog.close();
  return { catalog: written, index: patched };
}

/**
 * The records whose file's stat differs from the index's listing, and the suspects, in record
 * order; undefined when the folders hold other names than the index's, or a record's file is no
 * longer a plain file.
 */
function recordsToCheck({ index, listings, isMemoryFile }: CatalogPatch): Check[] | undefined {
  const checks: Check[] = [];
  const { suspects } = index;
  let nextSuspect = 0;
  let r = 0;
  for (let t = 0; t < MEMORY_TYPES.length; t++) {
    const listing = listings[t];
    if (!index.sameNames(t, listing)) return undefined;
    if (!listing) continue;
    const { stats } = listing;
    const n = stats.length / FIELDS;
    const recorded = index.statsOf(t)!;
    const check = (i: number, statChanged: boolean) => checks.push({ r, typeIndex: t, type: MEMORY_TYPES[t], file: listing.names[i], st: statAt(listing, i), statChanged });
    if (index.counts[MEMORY_TYPES[t]] === n) {
      // Every entry is a record (the usual folder): record r is entry r - base, and only the
      // entries that changed are looked at, with the suspects among them in record order.
      const base = r;
      const changed = changedEntries(stats, recorded);
      for (let k = 0; k < changed.length || (nextSuspect < suspects.length && suspects[nextSuspect] < base + n); ) {
        const i = Math.min(k < changed.length ? changed[k] : n, nextSuspect < suspects.length ? suspects[nextSuspect] - base : n);
        const statChanged = k < changed.length && changed[k] === i;
        if (statChanged) k++;
        if (suspects[nextSuspect] === base + i) nextSuspect++;
        if (stats[i * FIELDS + KIND] !== FILE) return undefined; // no longer a plain file: the scan reports it
        r = base + i;
        check(i, statChanged);
      }
      r = base + n;
      continue;
    }
    const before = new Float64Array(stats.length);
    new Uint8Array(before.buffer).set(recorded);
    const { names } = listing;
    for (let i = 0; i < n; i++) {
      if (!isMemoryFile(names[i])) continue;
      const at = i * FIELDS;
      const kind = stats[at + KIND];
      if (kind !== before[at + KIND]) return undefined;
      if (kind !== FILE) continue; // a folder named like a memory file: no record, as the scan does
      let statChanged = false;
      for (let f = 1; f < FIELDS; f++) if (stats[at + f] !== before[at + f]) statChanged = true;
      const suspect = suspects[nextSuspect] === r;
      if (suspect) nextSuspect++;
      if (statChanged || suspect) check(i, statChanged);
      r++;
    }
  }
  return r === index.records ? checks : undefined;
}

/** digestOfLine for a line whose key is not plain (written as a JSON string): from the whole record. */
function digestOfRecord(line: string, type: MemoryType, file: string): { size: number; digest: string; digestAt: number } | undefined {
  const record = recordOfLine(line);
  return record && MEMORY_TYPES[record.typeIndex] === type && record.file === file ? record : undefined;
}

/** Same id and creation time: the record keeps its place in the index's orders. */
function sameIdAndCreated(a: LineRecord, b: LineRecord): boolean {
  return a.span.slice(0, a.cut2) === b.span.slice(0, b.cut2);
}

/** Adds `sign` for each of a record's tags; false if they cannot be read (a damaged line: the scan decides). */
function countTags(delta: Map<string, number>, record: LineRecord, sign: number): boolean {
  const tags = parseTags(record.span.slice(record.cut3 + 1));
  for (const tag of tags ?? []) delta.set(tag, (delta.get(tag) ?? 0) + sign);
  return tags !== undefined;
}

/** The summary with the records' new sizes and tags; tags in code point order, as summarise gives them. */
function patchedSummary(summary: StorageSummary, bytesDelta: number, tagDelta: Map<string, number>): StorageSummary {
  if (!tagDelta.size) return { ...summary, bytes: summary.bytes + bytesDelta };
  const counts = new Map(Object.entries(summary.tags));
  for (const [tag, delta] of tagDelta) counts.set(tag, (counts.get(tag) ?? 0) + delta);
  const tags: Record<string, number> = {};
  for (const tag of [...counts.keys()].sort(compareCodePoints)) if (counts.get(tag)! > 0) tags[tag] = counts.get(tag)!;
  return { counts: summary.counts, tags, bytes: summary.bytes + bytesDelta };
}
