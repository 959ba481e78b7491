import { join, sep } from 'node:path';
import { MEMORY_TYPES, type MemoryType } from '../../memory/types.js';
import type { StorageSummary } from '../types.js';
import { compareCodePoints } from '../query.js';
import { fileDigests } from './front-matter-digest.js';
import { CatalogIndex, NO_DIGEST, digestOfLine, recordOfLine, restatedLine, parseTags, saveAndReopenCatalog, settled, type Catalog, type CatalogPart, type IndexWriter, type LineRecord } from './catalog.js';
import { FIELDS, FILE, KIND, MEMORY_DIR, MISSING, OTHER, changedEntries, statAt, type FileStat, type FolderListing } from './folder-listing.js';
import { isTempFileName } from './temp-files.js';
import type { ReadFile } from './backend.js';

/**
 * The catalog's clean index brought up to date without a scan, from what changed since it was
 * written: files an editor saved or a script appended to, memories another command created,
 * updated, moved or deleted, files added, removed or renamed by hand (SPEC section 3: the next
 * command sees every change).
 *
 * A scan makes a header for every file and sorts them all again: about 150 ms at 10,000 files, the
 * same for one changed file as for a thousand. Here only the files whose stat differs from the
 * index's listing are read, with the suspects the index names (files changed just before it was
 * written, whose stat cannot vouch for their content yet) and the files added. A changed file
 * keeps its record with its new stat when its front matter's digest is unchanged
 * (front-matter-digest.ts: read natively, in one call, where the addon is built), or gets a new
 * line from its front matter otherwise; it must keep its id and creation time, so the index's
 * orders stand. Records removed are dropped, and files added are read and put in both orders by a
 * binary search. The new catalog is written with runs of unchanged lines copied, and the command
 * goes on from it as from any clean index.
 *
 * Anything else gives way to the scan, which decides every case: a file that became a link or
 * unreadable, a changed id or creation time, a duplicate id, a problem, a stray temporary file,
 * more files to read than a scan would cost (MOST_FILES), or a read-only open (nothing may be
 * written) with anything changed.
 */
export interface CatalogPatch {
  dir: string;
  readonly: boolean;
  scanStart: number;
  catalog: Catalog;
  index: CatalogIndex;
  listings: Array<FolderListing | undefined>;
  /** Write the catalog again when only the folders' record is missing or stale (CatalogIndex.lacksFolderRecord). */
  recordFolders: boolean;
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

/** A file whose name the index does not have: a new record, placed before old record `before`. */
interface Added {
  before: number;
  typeIndex: number;
  type: MemoryType;
  file: string;
  st: FileStat;
}

/** What changed since the index was written: records to read again, files added, records removed (ascending). */
interface Walk {
  checks: Check[];
  added: Added[];
  removed: number[];
}

/** A new record read from its file: its line, and the columns a patch needs. */
interface NewRecord {
  line: string;
  record: LineRecord;
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

/**
 * Files a patch reads at most: past this a scan, which reads only what changed too and sorts once,
 * is as quick (a bulk write of one's own, a folder copied in).
 */
const MOST_FILES = 2000;

function patched(patch: CatalogPatch): { catalog: Catalog; index: CatalogIndex } | undefined {
  const { catalog, index, scanStart } = patch;
  const walk = walkFolders(patch, Math.max(MOST_FILES, index.records / 4));
  if (!walk) return undefined;
  const { checks, added, removed } = walk;
  if (patch.readonly && (added.length || removed.length || checks.some((c) => c.statChanged))) return undefined;
  // Plain concatenation: path.join per file cost as much as reading it.
  const folders = MEMORY_TYPES.map((type) => join(patch.dir, MEMORY_DIR, type) + sep);
  const pathOf = ({ typeIndex, file }: { typeIndex: number; file: string }) => folders[typeIndex] + file;
  const delta = new SummaryDelta();

  // Records whose file changed (or is a suspect): the lines of those whose front matter's digest
  // (one call for all, natively) still vouches for them are only restated.
  const records: Array<{ size: number; digest: string; digestAt: number }> = [];
  const old: string[] = [];
  for (const { r, type, file } of checks) {
    const line = catalog.lineAt(index.lineStart(r), index.lineEnd(r));
    const record = digestOfLine(line, type, file) ?? digestOfRecord(line, type, file);
    if (!record) return undefined;
    records.push(record);
    old.push(line);
  }
  const digests = fileDigests(checks.map(pathOf));
  const lines = new Map<number, string>();
  const suspects: number[] = [];
  for (const [k, check] of checks.entries()) {
    const { r, st } = check;
    const record = records[k];
    let digest = record.digest;
    let line = old[k];
    if (digest === NO_DIGEST || digests[k] !== digest) {
      // Its front matter changed (or nothing vouches that it did not): read as the scan reads it.
      const before = recordOfLine(line);
      const now = readRecord(patch, pathOf(check), check);
      // Gone, unreadable, or no longer the same memory at the same place in the orders: the scan decides.
      if (!now || !before || !sameIdAndCreated(now.record, before)) return undefined;
      if (now.record.span !== before.span && !(delta.tags(before, -1) && delta.tags(now.record, 1))) return undefined;
      digest = now.record.digest;
      line = now.line;
    } else if (check.statChanged) {
      line = restatedLine(line, record.digestAt, st);
    }
    if (!settled(st, scanStart)) {
      if (digest === NO_DIGEST) return undefined; // nothing could vouch for it later
      suspects.push(r);
    }
    if (line === old[k]) continue;
    lines.set(r, line);
    delta.bytes += st.size - record.size;
  }
  const unchanged = lines.size === 0 && !added.length && !removed.length && suspects.length === index.suspects.length;
  // Read-only: the index serves as it is if every suspect was found as recorded; else the scan, in memory.
  if (patch.readonly) return lines.size ? undefined : { catalog, index };
  // Nothing changed: written again only to record the folders' stats (CatalogIndex.lacksFolderRecord).
  if (unchanged && !(patch.recordFolders && index.lacksFolderRecord(patch.listings))) return { catalog, index };

  const bytes = added.length || removed.length ? rebuilt(patch, walk, lines, suspects, delta, pathOf) : restated(patch, lines, suspects, delta);
  if (!bytes) return undefined;
  const written = saveAndReopenCatalog(patch.dir, bytes.parts, scanStart, catalog, bytes.index);
  const now = written?.readIndex();
  if (!written || !now) {
    written?.close();
    return undefined;
  }
  catalog.close();
  return { catalog: written, index: now };
}

/** What a patch writes: the records as parts, and the index after them. */
interface PatchedCatalog {
  parts: CatalogPart[];
  index: IndexWriter;
}

/**
 * The catalog with some records' lines replaced, the records and their order unchanged. When every
 * new line is as long as the old (a stat changed: sizes and inodes are written at a fixed width),
 * the old records are copied whole with the new lines written over theirs, and the offsets stay;
 * otherwise runs of unchanged lines are copied, the new lines between them, and each line's offset
 * moves by how much longer the new lines before it are.
 */
function restated({ index, listings }: CatalogPatch, lines: Map<number, string>, suspects: number[], delta: SummaryDelta): PatchedCatalog {
  const offsets = index.lineOffsets();
  const start = offsets[0];
  const end = index.lineEnd(index.records - 1);
  const sameLengths = [...lines].every(([r, line]) => line.length === index.lineEnd(r) - offsets[r]);
  const parts: CatalogPart[] = [];
  let shift = 0;
  if (sameLengths) parts.push({ from: start, to: end, patches: [...lines].map(([r, line]) => ({ at: offsets[r], line })) });
  else {
    let at = start;
    let shiftedTo = 0;
    for (const [r, line] of lines) {
      if (offsets[r] > at) parts.push({ from: at, to: offsets[r] });
      parts.push(line);
      at = index.lineEnd(r);
      for (; shiftedTo <= r; shiftedTo++) offsets[shiftedTo] += shift;
      shift += line.length - (at - index.lineStart(r));
    }
    for (; shiftedTo < index.records; shiftedTo++) offsets[shiftedTo] += shift;
    if (end > at) parts.push({ from: at, to: end });
  }
  const summary = delta.applied(index.summary);
  return {
    parts,
    index: {
      recordsLength: end - start + shift,
      bytes: (recordsStart, whole) => {
        if (recordsStart !== start) for (let r = 0; r < offsets.length; r++) offsets[r] += recordsStart - start;
        return index.patchedBytes(listings, summary, suspects, offsets, whole);
      },
    },
  };
}

/**
 * The catalog with records added and removed too (a memory created by another command, a file
 * added, removed or renamed by hand): the new records are read, numbered in reading order, and put
 * in the index's two orders by a binary search of each (which reads the lines it compares).
 */
function rebuilt(
  patch: CatalogPatch,
  { added, removed }: Walk,
  lines: Map<number, string>,
  keptSuspects: number[],
  delta: SummaryDelta,
  pathOf: (file: { typeIndex: number; file: string }) => string,
): PatchedCatalog | undefined {
  const { index, catalog, scanStart } = patch;
  const n = index.records;
  const keyOf = (r: number) => recordOfLine(catalog.read(index.lineStart(r), index.lineEnd(r)));
  const gone = new Set(removed);
  for (const r of removed) {
    const record = keyOf(r);
    if (!record || !delta.tags(record, -1)) return undefined;
    delta.bytes -= record.size;
    delta.counts[record.typeIndex]--;
  }
  // The new files, read; an id already in use (by a record kept, or another new file) is a duplicate: the scan reports it.
  const fresh: NewRecord[] = [];
  const ids = new Set<string>();
  for (const file of added) {
    const read = readRecord(patch, pathOf(file), file);
    if (!read || !settledOrVouched(read.record, file.st, scanStart)) return undefined;
    const id = idOf(read.record);
    if (ids.has(id) || inUse(index, id, keyOf, gone)) return undefined;
    ids.add(id);
    if (!delta.tags(read.record, 1)) return undefined;
    delta.bytes += read.record.size;
    delta.counts[file.typeIndex]++;
    fresh.push(read);
  }

  // The records in reading order: each old one kept (its line copied or replaced) or dropped, the new ones between.
  const oldToNew = new Int32Array(n);
  const total = n - removed.length + added.length;
  const offsets = new Uint32Array(total);
  const types = new Uint8Array(total);
  const newOf = new Uint32Array(added.length);
  const oldTypes = index.typeBytes();
  const oldOffsets = index.lineOffsets();
  const lengthOf = (r: number) => (r + 1 < n ? oldOffsets[r + 1] : index.lineEnd(r)) - oldOffsets[r];
  const parts: CatalogPart[] = [];
  let runFrom = -1;
  let runTo = -1;
  const copy = (from: number, to: number) => {
    if (runTo === from) runTo = to;
    else {
      if (runFrom !== -1) parts.push({ from: runFrom, to: runTo });
      runFrom = from;
      runTo = to;
    }
  };
  const text = (line: string) => {
    if (runFrom !== -1) parts.push({ from: runFrom, to: runTo });
    runFrom = runTo = -1;
    parts.push(line);
  };
  let next = 0; // the next new record's number
  let pos = 0; // its line's offset from the first record's
  let a = 0;
  for (let r = 0; r <= n; r++) {
    for (; a < added.length && added[a].before === r; a++) {
      newOf[a] = next;
      types[next] = added[a].typeIndex;
      offsets[next++] = pos;
      pos += fresh[a].line.length;
      text(fresh[a].line);
    }
    if (r === n) break;
    if (gone.has(r)) {
      oldToNew[r] = -1;
      continue;
    }
    oldToNew[r] = next;
    types[next] = oldTypes[r];
    offsets[next++] = pos;
    const line = lines.get(r);
    if (line === undefined) {
      const length = lengthOf(r);
      copy(oldOffsets[r], oldOffsets[r] + length);
      pos += length;
    } else {
      text(line);
      pos += line.length;
    }
  }
  if (runFrom !== -1) parts.push({ from: runFrom, to: runTo });

  // The orders: the old ones without the records removed, renumbered, with the new ones put in.
  const { byCreated, byId } = index.orders();
  const created = (r: number) => createdKey(keyOf(r)!);
  const lower = (r: number) => idOf(keyOf(r)!).toLowerCase();
  // Newest first (the default list order), then by id, newest first; ids lowercased, in order.
  const createdOrder = inserted(byCreated, oldToNew, fresh.map((f) => createdKey(f.record)), newOf, created, (x, y) => (x > y ? -1 : x < y ? 1 : 0));
  const idOrder = inserted(byId, oldToNew, fresh.map((f) => idOf(f.record).toLowerCase()), newOf, lower, (x, y) => (x < y ? -1 : x > y ? 1 : 0));

  const suspects = [...keptSuspects.map((r) => oldToNew[r]), ...added.flatMap((file, k) => (settled(file.st, scanStart) ? [] : [newOf[k]]))].sort((x, y) => x - y);
  const summary = delta.applied(index.summary);
  return {
    parts,
    index: {
      recordsLength: pos,
      bytes: (recordsStart, whole) => {
        for (let r = 0; r < total; r++) offsets[r] += recordsStart;
        return CatalogIndex.rebuiltBytes(patch.listings, summary, suspects, offsets, types, createdOrder, idOrder, whole);
      },
    },
  };
}

/**
 * An order of old records renumbered (oldToNew; -1: removed) with new records put in: new record
 * `newOf[k]`, whose key is `keys[k]`, goes after the old records whose keys (`keyOf`) come before
 * or with it in `compare`'s order, found by a binary search (each probe reads a line).
 */
function inserted(order: Uint32Array, oldToNew: Int32Array, keys: string[], newOf: Uint32Array, keyOf: (r: number) => string, compare: (x: string, y: string) => number): Uint32Array {
  const kept = order.filter((r) => oldToNew[r] !== -1);
  const at = keys.map((key) => {
    let lo = 0;
    let hi = kept.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compare(key, keyOf(kept[mid])) < 0) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  });
  const news = keys.map((_, k) => k).sort((x, y) => at[x] - at[y] || compare(keys[x], keys[y]));
  const out = new Uint32Array(kept.length + keys.length);
  let o = 0;
  let k = 0;
  for (let i = 0; i <= kept.length; i++) {
    for (; k < news.length && at[news[k]] === i; k++) out[o++] = newOf[news[k]];
    if (i < kept.length) out[o++] = oldToNew[kept[i]];
  }
  return out;
}

/** The file's line and record, read and parsed as the scan does; undefined if gone, unreadable or a problem. */
function readRecord(patch: CatalogPatch, path: string, { type, file, st }: { type: MemoryType; file: string; st: FileStat }): NewRecord | undefined {
  const read = patch.readFile(path, type, file, st);
  const record = read?.line === undefined || read.problem !== undefined ? undefined : recordOfLine(read.line);
  return record && { line: read!.line!, record };
}

/** A record the index may hold: its file settled, or its digest there to vouch for it later (a suspect). */
function settledOrVouched(record: LineRecord, st: FileStat, scanStart: number): boolean {
  return settled(st, scanStart) || record.digest !== NO_DIGEST;
}

function idOf(record: LineRecord): string {
  return record.span.slice(0, record.cut1);
}

/** The key of the default list order: creation time, then id (both printable ASCII). */
function createdKey(record: LineRecord): string {
  return `${record.span.slice(record.cut1 + 1, record.cut2)}\0${idOf(record)}`;
}

/**
 * Whether a record the index keeps (not in `gone`) has this id: a binary search of the id order
 * (lowercased), then the records that share the lowercased id.
 */
function inUse(index: CatalogIndex, id: string, keyOf: (r: number) => LineRecord | undefined, gone: Set<number>): boolean {
  const lower = id.toLowerCase();
  const lowerAt = (k: number) => {
    const record = keyOf(index.byId(k));
    if (!record) throw new Error('a damaged line'); // the scan decides
    return idOf(record).toLowerCase();
  };
  let lo = 0;
  let hi = index.records;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (lowerAt(mid) < lower) lo = mid + 1;
    else hi = mid;
  }
  for (let k = lo; k < index.records && lowerAt(k) === lower; k++) {
    if (!gone.has(index.byId(k)) && idOf(keyOf(index.byId(k))!) === id) return true;
  }
  return false;
}

/** How a patch changes the summary: bytes, memories per type (MEMORY_TYPES order) and tags. */
class SummaryDelta {
  bytes = 0;
  counts = MEMORY_TYPES.map(() => 0);
  private tagCounts = new Map<string, number>();

  /** Adds `sign` for each of a record's tags; false if they cannot be read (a damaged line: the scan decides). */
  tags(record: LineRecord, sign: number): boolean {
    const tags = parseTags(record.span.slice(record.cut3 + 1));
    for (const tag of tags ?? []) this.tagCounts.set(tag, (this.tagCounts.get(tag) ?? 0) + sign);
    return tags !== undefined;
  }

  /** The summary with these changes; tags in code point order, as summarise gives them. */
  applied(summary: StorageSummary): StorageSummary {
    const counts = { ...summary.counts };
    MEMORY_TYPES.forEach((type, t) => (counts[type] += this.counts[t]));
    const bytes = summary.bytes + this.bytes;
    if (!this.tagCounts.size) return { counts, tags: summary.tags, bytes };
    const all = new Map(Object.entries(summary.tags));
    for (const [tag, delta] of this.tagCounts) all.set(tag, (all.get(tag) ?? 0) + delta);
    const tags: Record<string, number> = {};
    for (const tag of [...all.keys()].sort(compareCodePoints)) if (all.get(tag)! > 0) tags[tag] = all.get(tag)!;
    return { counts, tags, bytes };
  }
}

/**
 * What changed since the index was written, folder by folder, in record order: the records whose
 * file's stat differs from the index's listing and the suspects (to read again), the records
 * removed and the files added. Undefined for what only the scan decides: a record's file that is
 * no longer a plain file, a new memory file that is a link or could not be stated, a stray
 * temporary file (the scan removes stale ones), more than `most` files to read.
 */
function walkFolders({ index, listings, isMemoryFile }: CatalogPatch, most: number): Walk | undefined {
  const walk: Walk = { checks: [], added: [], removed: [] };
  // Past `most` files to read, the scan decides; the walk stops there, before it holds a check for
  // every file (a context copied in: 100,000 of them, some 25 MB, before giving up).
  const tooMany = () => walk.checks.length + walk.added.length > most;
  const { suspects } = index;
  let nextSuspect = 0;
  let r = 0;
  for (let t = 0; t < MEMORY_TYPES.length; t++) {
    const type = MEMORY_TYPES[t];
    const listing = listings[t];
    const stats = listing?.stats ?? new Float64Array(0);
    const n = stats.length / FIELDS;
    const check = (i: number, statChanged: boolean) => walk.checks.push({ r, typeIndex: t, type, file: listing!.names[i], st: statAt(listing!, i), statChanged });
    const recorded = index.statsOf(t);
    const sameNames = index.sameNames(t, listing);
    if (sameNames && listing && index.counts[type] === n) {
      // The names the index has, every entry a record (the usual folder): record r is entry
      // r - base, and only the entries whose stats changed are looked at, with the suspects among
      // them in record order. No name is looked at.
      const base = r;
      const changed = changedEntries(stats, recorded!);
      for (let k = 0; k < changed.length || (nextSuspect < suspects.length && suspects[nextSuspect] < base + n); ) {
        const i = Math.min(k < changed.length ? changed[k] : n, nextSuspect < suspects.length ? suspects[nextSuspect] - base : n);
        const statChanged = k < changed.length && changed[k] === i;
        if (statChanged) k++;
        if (suspects[nextSuspect] === base + i) nextSuspect++;
        if (stats[i * FIELDS + KIND] !== FILE) return undefined; // no longer a plain file: the scan reports it
        r = base + i;
        check(i, statChanged);
        if (tooMany()) return undefined;
      }
      r = base + n;
      continue;
    }
    // Otherwise the names as recorded and as listed now (both in listing order), side by side.
    const oldNames = sameNames ? listing?.names ?? [] : index.namesOf(t);
    const before = new Float64Array(oldNames.length * FIELDS);
    if (recorded) new Uint8Array(before.buffer).set(recorded);
    const names = listing?.names ?? [];
    for (let i = 0, j = 0; i < oldNames.length || j < names.length; ) {
      const was = oldNames[i];
      const now = names[j];
      const order = i === oldNames.length ? 1 : j === names.length ? -1 : was < now ? -1 : was > now ? 1 : 0;
      if (order <= 0 && isMemoryFile(was) && before[i * FIELDS + KIND] === FILE) {
        // A record: kept (the same name, still a plain file), or removed.
        const suspect = suspects[nextSuspect] === r;
        if (suspect) nextSuspect++;
        if (order < 0) walk.removed.push(r);
        else {
          const at = j * FIELDS;
          if (stats[at + KIND] !== FILE) return undefined;
          let statChanged = false;
          for (let f = 1; f < FIELDS; f++) if (stats[at + f] !== before[i * FIELDS + f]) statChanged = true;
          if (statChanged || suspect) check(j, statChanged);
          if (tooMany()) return undefined;
        }
        r++;
      } else if (order === 0 && isMemoryFile(now) && stats[j * FIELDS + KIND] !== before[i * FIELDS + KIND]) {
        return undefined; // a folder named like a memory file became something else
      } else if (order > 0 && isMemoryFile(now)) {
        const kind = stats[j * FIELDS + KIND];
        if (kind === FILE) {
          walk.added.push({ before: r, typeIndex: t, type, file: now, st: statAt(listing!, j) });
          if (tooMany()) return undefined;
        } else if (kind !== OTHER && kind !== MISSING) return undefined; // a link, or a stat that failed: the scan reports it
      } else if (order > 0 && isTempFileName(now)) {
        return undefined;
      }
      if (order <= 0) i++;
      if (order >= 0) j++;
    }
  }
  return r === index.records ? walk : undefined;
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

