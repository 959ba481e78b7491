import { closeSync, fstatSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { FOLDER_CTIME, FOLDER_INO, FOLDER_LISTED_AT, FOLDER_MTIME, joinedNames, type FileStat, type FolderListing } from './folder-listing.js';
import { join } from 'node:path';
import { MEMORY_TYPES, type MemoryHeader, type MemoryType } from '../../memory/types.js';
import type { StorageSummary } from '../types.js';
import { randomBytes } from '../../util/random.js';
import { grown } from '../../util/typed-arrays.js';
import { settledAt } from './file-times.js';
import { CATALOG_FILE } from './catalog-file.js';
import { detach } from '../bulk.js';
import type { LineSpool } from './line-spool.js';
import type { RecordKeys } from './record-keys.js';
import { itemDone } from '../../util/heap.js';

/**
 * The catalog of a markdown context: a derived file holding the front matter of every memory file,
 * keyed by `<type>/<file>` with the file's size, times and inode, so a command re-reads only the
 * files that changed since the last command instead of parsing all of them.
 *
 * It is a cache, never the truth: every command still lists the three folders and stats each file
 * (SPEC section 3: files edited, added, copied in or removed by hand are seen by the next command),
 * and any file whose stat differs from its record is parsed again. A missing, unreadable, foreign
 * or damaged catalog only costs a rebuild. It is written atomically and never backed up.
 *
 * The format is one line per file, in the order the backend reads the folders (type, then file
 * name), so a command walks it beside the sorted folder listing without building a map of it:
 *
 *     whitemagic-catalog 4 <scannedAt> <indexAt>
 *     <type>/<file> TAB size TAB mtime TAB ctime TAB ino TAB digest TAB id TAB created TAB updated TAB tags TAB rest
 *
 * (size and ino zero-padded to 12 and 16 digits, so a line's length does not change with its stat;
 * catalogs written before read the same)
 *     ...
 *     [the clean index, from byte indexAt to the end; indexAt 0: none]
 *
 * The clean index (CatalogIndex) is written only when the scan that wrote the catalog found every
 * file readable, settled and recorded: it holds the folder listings that scan saw, byte for byte,
 * and the records' order by creation date. A command whose own listing is the same (names, sizes,
 * times, inodes of every entry) knows without a per-file step that every record is current, and a
 * `list` then reads only the lines it shows.
 *
 * Times are the 16 hex digits of the stat's `mtimeMs` and `ctimeMs` as IEEE doubles: compared
 * exactly and without making a string per file (turning two doubles into decimal text for each
 * of 10,000 files cost over 10 ms).
 * `digest` is that of the file's front matter (front-matter-digest.ts) when the record was read
 * from it alone, else `-`: a file whose stat changed but whose front matter did not keeps its
 * record (catalog-patch.ts).
 * `tags` is a JSON list and `rest` a JSON array [title, meta or 0, derivedId 0/1]: each is parsed
 * only when a command needs it, and `rest` is even read back from the file then (a `list` of 20
 * reads 20, not 10,000; see FileHeader). A file that cannot be read has `!` for its id and the
 * problem as a JSON string after it. The file is plain ASCII (other characters are JSON escapes; a
 * key that is not plain is a JSON string), so it is read as latin1 with no UTF-8 decoding.
 */
export { CATALOG_FILE };

/** Catalogs of earlier versions: removed when a new one is written. */
const OLD_CATALOG_FILES = ['.whitemagic-catalog.json'];

/** The first line's start; bump the version when the layout changes (an older catalog is then rebuilt). */
const MAGIC = 'whitemagic-catalog 4 ';
/** Digits of the index's offset in the first line (written last, in place). */
const INDEX_AT_DIGITS = 12;

/** The id column of a record of a file that cannot be read (no memory id starts with `!`). */
const PROBLEM = '!';
/** The digest column of a record not read from its front matter alone. */
export const NO_DIGEST = '-';


/** The file last changed long enough before `scanStart` that an unchanged stat means unchanged content (file-times.ts). */
export function settled(st: FileStat, scanStart: number): boolean {
  return settledAt(Math.max(st.mtimeMs, st.ctimeMs), scanStart);
}

/** How much of the catalog is read at a time (a longer line widens it). Changed by tests only. */
export const catalogWindow = { size: 64 * 1024 };

/**
 * A part of a catalog being written: a new line, or a range of bytes copied from the old catalog,
 * with some of its lines written over by new lines of the same length (`patches`, in order; `at`
 * is a line's offset in the old catalog).
 */
export type CatalogPart =
  | string
  | { from: number; to: number; patches?: Array<{ at: number; line: string }>; spool?: undefined }
  /** Lines kept in a spool (line-spool.ts) rather than in memory. */
  | { from: number; to: number; spool: LineSpool };

/**
 * The catalog of a context, read through a window that moves down the file: at 100,000 memories
 * the file is 27 MB, and holding it whole was a fifth of a command's peak memory. The file stays
 * open for the command (a catalog written meanwhile by another command replaces it by a rename,
 * and this one keeps reading the one it started with), so lazily parsed parts of a header are read
 * back from it, and unchanged runs of lines are copied from it when the catalog is rewritten.
 *
 * It walks the lines in step with the backend's reading order (type, then file name). Lines of
 * files passed over were removed since; a file with no line is new. A line that is out of order or
 * damaged only means its file is read again, never a crash. What `take` finds is left in this
 * object's fields rather than in a new object: this runs once per file.
 */
export class Catalog {
  /** When the scan that wrote the catalog began (0: no usable catalog). */
  scannedAt = 0;
  /** The window: `text` is the file from byte `base` on, and `pos` the start of the current line in it. */
  text = '';
  base = 0;
  pos = 0;
  /** Lines passed over: files removed or renamed since, or damaged lines. */
  skipped = 0;
  /** Set by take: the line taken (file offsets, its newline included), and its record. */
  lineStart = 0;
  lineEnd = 0;
  /** `id TAB created TAB updated TAB tags`, copied out of the window, and where the tabs are in it. */
  span = '';
  cut1 = 0;
  cut2 = 0;
  cut3 = 0;
  /** File offsets of the line's last column (title, extra keys: read only when asked for). */
  tailStart = 0;
  tailEnd = 0;
  /** Set by take for a record of a file that cannot be read; undefined otherwise. */
  problem: string | undefined;

  private fd: number | undefined;
  /** Where the records end: the index's offset, or the file's size when it has none. */
  private size = 0;
  private indexAt = 0;
  private fileSize = 0;
  private recordsStart = 0;
  private buffer = Buffer.alloc(0);
  /** The index's bytes when this command just wrote them (saveAndReopenCatalog): not read again. */
  private written: Buffer | undefined;
  /** What copyTo last read: copyChunk.size bytes of the file from copyBase. */
  private copyBuffer: Buffer | undefined;
  private copyBase = 0;
  private copyLength = 0;

  /** The catalog of the context at `dir`; empty when missing, unreadable or of another version. */
  static open(dir: string): Catalog {
    let fd: number;
    try {
      fd = openSync(join(dir, CATALOG_FILE), 'r');
    } catch {
      return new Catalog();
    }
    return Catalog.ofFile(fd);
  }

  /**
   * The catalog in the open file `fd` (closed with the catalog; at once if it is not one).
   * `index`: the bytes of its index, when the caller just wrote them.
   */
  static ofFile(fd: number, index?: Buffer): Catalog {
    const catalog = new Catalog();
    try {
      catalog.fd = fd;
      catalog.fileSize = catalog.size = fstatSync(catalog.fd).size;
      catalog.buffer = Buffer.allocUnsafe(catalogWindow.size);
      catalog.fill(0);
      const eol = catalog.lineEndIndex();
      const text = catalog.text;
      const [scannedAt, indexAt] = eol > 0 && text.startsWith(MAGIC) ? text.slice(MAGIC.length, eol).split(' ').map(Number) : [NaN, NaN];
      if (!Number.isFinite(scannedAt) || !Number.isSafeInteger(indexAt) || indexAt < 0 || indexAt > catalog.fileSize) throw new Error('not a catalog');
      catalog.scannedAt = scannedAt;
      if (indexAt > eol) {
        catalog.size = catalog.indexAt = indexAt;
        catalog.text = catalog.text.slice(0, indexAt); // the window holds records only
        if (index?.length === catalog.fileSize - indexAt) catalog.written = index;
      }
      catalog.pos = catalog.recordsStart = eol + 1;
    } catch {
      catalog.close();
      return new Catalog();
    }
    return catalog;
  }

  /** Reads the window from file offset `from`, up to the end of the records. */
  private fill(from: number): void {
    const n = readSync(this.fd!, this.buffer, 0, Math.min(this.buffer.length, Math.max(0, this.size - from)), from);
    // latin1: the file is ASCII, and this makes a one-byte string without decoding UTF-8.
    this.text = this.buffer.toString('latin1', 0, n);
    this.base = from;
    this.pos = 0;
  }

  /** Whether the window reaches the end of the records. */
  private atEnd(): boolean {
    return this.fd === undefined || this.base + this.text.length >= this.size;
  }

  /**
   * The window index of the current line's newline, moving or widening the window until the
   * line is in it; -1 when no whole line is left (an unterminated last line is passed over).
   */
  private lineEndIndex(): number {
    for (;;) {
      const nl = this.text.indexOf('\n', this.pos);
      if (nl !== -1) return nl;
      if (this.atEnd()) {
        if (this.pos < this.text.length) this.skipped++;
        this.pos = this.text.length;
        return -1;
      }
      if (this.pos === 0) this.buffer = Buffer.allocUnsafe(this.buffer.length * 2); // a line longer than the window
      this.fill(this.base + this.pos);
    }
  }

  /**
   * Moves to the line of `type`/`file` and returns where its fields begin in the window (after the
   * key's tab), or -1 when the catalog has no line for it; lines of files ordered before it are
   * passed over.
   */
  seek(typeIndex: number, type: string, file: string): number {
    for (;;) {
      const nl = this.lineEndIndex();
      if (nl === -1) return -1;
      const text = this.text;
      const pos = this.pos;
      // The common case: the next line is this file's, under a plain key.
      const slash = pos + type.length;
      const tab = slash + 1 + file.length;
      if (tab < nl && text.charCodeAt(tab) === 9 && text.charCodeAt(slash) === 47 && text.startsWith(file, slash + 1) && text.startsWith(type, pos)) return tab + 1;
      const order = compareKey(text, pos, typeIndex, file);
      if (order > 0) return -1; // a new file: the line here belongs to a later one
      if (order === 0) return text.indexOf('\t', pos) + 1; // a key written as a JSON string
      this.pos = nl + 1;
      this.skipped++;
    }
  }

  /**
   * Takes the current line, given where its fields begin: true if the file is exactly as recorded
   * (same size, times and inode) and the record well formed, its parts then in this object's
   * fields. False: read the file.
   */
  take(fields: number, st: FileStat): boolean {
    const text = this.text;
    const end = text.indexOf('\n', fields); // seek made sure the line is whole in the window
    this.lineStart = this.base + this.pos;
    this.pos = end + 1;
    this.lineEnd = this.base + this.pos;
    const d = sameStat(text, fields, st);
    if (d === -1) return false;
    const a = text.indexOf('\t', d) + 1; // past the digest
    if (a === 0 || a > end) return false;
    const t1 = text.indexOf('\t', a);
    if (t1 === -1 || t1 > end || t1 === a) return false;
    if (t1 - a === 1 && text.charCodeAt(a) === 33) {
      const problem = parseJson(text.slice(t1 + 1, end));
      this.problem = typeof problem === 'string' ? problem : undefined;
      return this.problem !== undefined;
    }
    const t2 = text.indexOf('\t', t1 + 1);
    const t3 = t2 === -1 ? -1 : text.indexOf('\t', t2 + 1);
    const t4 = t3 === -1 ? -1 : text.indexOf('\t', t3 + 1);
    if (t4 === -1 || t4 > end || t2 === t1 + 1 || t3 === t2 + 1) return false;
    this.problem = undefined;
    // Copied out (a slice would keep the whole window alive): one string per file for four columns.
    this.span = this.buffer.toString('latin1', a, t4);
    this.cut1 = t1 - a;
    this.cut2 = t2 - a;
    this.cut3 = t3 - a;
    this.tailStart = this.base + t4 + 1;
    this.tailEnd = this.base + end;
    return true;
  }

  /** The line take() last looked at, newline included (a file whose stat differed: its digest may still hold). */
  takenLine(): string {
    return this.text.slice(this.lineStart - this.base, this.lineEnd - this.base);
  }

  /** Lines left after the last file: their files are gone. */
  get rest(): boolean {
    return this.lineEndIndex() !== -1;
  }

  /** The bytes from `from` to `to` of the catalog file, as text (empty if it cannot be read). */
  read(from: number, to: number): string {
    if (this.fd === undefined || to <= from) return '';
    const bytes = Buffer.allocUnsafe(to - from);
    try {
      const n = readSync(this.fd, bytes, 0, bytes.length, from);
      return bytes.toString('latin1', 0, n);
    } catch {
      return '';
    }
  }

  /**
   * Copies bytes `from` to `to` of the catalog file to `out`. Runs are asked for in file order, so
   * the file is read a megabyte at a time: a thousand runs between edited files cost a few reads.
   */
  copyTo(out: CatalogWriter, from: number, to: number, patches?: Array<{ at: number; line: string }>): void {
    let p = 0;
    for (let at = from; at < to; ) {
      this.chunkAt(at);
      const end = Math.min(to, this.copyBase + this.copyLength);
      const into = out.bytes(this.copyBuffer!, at - this.copyBase, end - this.copyBase);
      // The new lines that fall in this chunk, written over the copy (a line across its end in part).
      for (; patches && p < patches.length && patches[p].at < end; p++) {
        const { at: lineAt, line } = patches[p];
        const first = Math.max(lineAt, at);
        const last = Math.min(lineAt + line.length, end);
        out.over(into + (first - at), line, first - lineAt, last - lineAt);
        if (lineAt + line.length > end) break; // its rest is in the next chunk
      }
      at = end;
    }
  }

  /**
   * A line (`from` to `to`) of the catalog, as read(), for lines asked for in file order: read a
   * megabyte at a time, as copyTo does (a thousand edited files' lines were a thousand reads).
   */
  lineAt(from: number, to: number): string {
    if (this.fd === undefined || to - from > copyChunk.size) return this.read(from, to);
    if (from < this.copyBase || to > this.copyBase + this.copyLength) this.chunkAt(from, true);
    return this.copyBuffer!.toString('latin1', from - this.copyBase, Math.min(to, this.copyBase + this.copyLength) - this.copyBase);
  }

  /** Makes the copy buffer hold the file from `at` on (if it does not already, or `anew`). */
  private chunkAt(at: number, anew = false): void {
    if (!anew && at >= this.copyBase && at < this.copyBase + this.copyLength) return;
    this.copyBuffer ??= Buffer.allocUnsafe(copyChunk.size);
    this.copyBase = at;
    this.copyLength = readSync(this.fd!, this.copyBuffer, 0, this.copyBuffer.length, at);
    if (this.copyLength === 0) throw new Error('catalog changed while copied');
  }

  /** Where the records are in the file (an empty range for an empty catalog). */
  records(): { from: number; to: number } {
    return this.fd === undefined ? { from: 0, to: 0 } : { from: this.recordsStart, to: this.size };
  }

  /** The clean index, if the catalog has one and it is whole; undefined otherwise (never a throw). */
  readIndex(): CatalogIndex | undefined {
    if (!this.indexAt || this.fd === undefined) return undefined;
    try {
      // At 100,000 memories the index is 11 MB: a list after a create wrote it and read it back.
      if (this.written) return CatalogIndex.parse(this.written, this.indexAt);
      const bytes = Buffer.allocUnsafe(this.fileSize - this.indexAt);
      if (readSync(this.fd, bytes, 0, bytes.length, this.indexAt) !== bytes.length) return undefined;
      return CatalogIndex.parse(bytes, this.indexAt);
    } catch {
      return undefined;
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** How much of the old catalog is copied at a time, and the writer's buffer. Changed by tests only. */
export const copyChunk = { size: 1 << 20 };

/** A catalog being written: text and copied bytes gathered into one buffer, written a megabyte at a time. */
export class CatalogWriter {
  private readonly buffer = Buffer.allocUnsafe(copyChunk.size);
  private used = 0;
  /** Bytes given so far. */
  written = 0;

  constructor(private readonly fd: number) {}

  /** Text of the catalog: ASCII, written as one byte a character. */
  text(text: string): void {
    if (text.length > this.buffer.length - this.used) {
      this.flush();
      if (text.length > this.buffer.length) {
        this.written += writeSync(this.fd, text, null, 'latin1');
        return;
      }
    }
    this.used += this.buffer.write(text, this.used, 'latin1');
    this.written += text.length;
  }

  /** Bytes of `source`, at most a buffer's length (copyTo's chunk); where in the buffer they went. */
  bytes(source: Buffer, start: number, end: number): number {
    if (end - start > this.buffer.length) throw new Error('a copied chunk longer than the buffer'); // never: copyTo's chunks fit
    if (end - start > this.buffer.length - this.used) this.flush();
    const into = this.used;
    // TypedArray set: Buffer's copy checks its arguments in JavaScript first, per call (2,000 runs after 1,000 edits).
    this.buffer.set(source.subarray(start, end), into);
    this.used += end - start;
    this.written += end - start;
    return into;
  }

  /** Writes characters `from` to `to` of `text` over bytes just given, at buffer position `at`. */
  over(at: number, text: string, from: number, to: number): void {
    this.buffer.write(from === 0 && to === text.length ? text : text.slice(from, to), at, 'latin1');
  }

  flush(): void {
    for (let at = 0; at < this.used; ) at += writeSync(this.fd, this.buffer, at, this.used - at);
    this.used = 0;
  }
}

/** The bytes of 32-bit numbers, little-endian (the index's order on every machine). */
function littleEndian(numbers: Uint32Array): Buffer {
  const bytes = Buffer.from(numbers.buffer, numbers.byteOffset, numbers.byteLength);
  return LITTLE_ENDIAN ? bytes : Buffer.from(bytes).swap32();
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** What the scan that writes a catalog knows for its clean index (see CatalogIndex). */
export interface IndexInput {
  /** The folder listings the scan read, in MEMORY_TYPES order; undefined for a folder that did not exist. */
  listings: Array<FolderListing | undefined>;
  /** Per record line, in file order: its length in bytes, its type (index in MEMORY_TYPES), creation time and id. */
  lineLengths: number[];
  types: number[];
  keys: RecordKeys;
  /** Counts, tags and bytes of the memories recorded (what summary() returns). */
  summary: StorageSummary;
  /** Records of files that changed within a tick of the scan, each with a digest (see CatalogIndex.suspects). */
  suspects: number[];
}

/** An index's parts, as written (CatalogIndex.layout). */
interface IndexParts {
  listings: Array<FolderListing | undefined>;
  summary: StorageSummary;
  suspects: number[];
  /** Each record's line offset; its type (a byte each); the default list order and the id order (little-endian 32-bit record numbers). */
  lines: Uint32Array;
  types: Uint8Array;
  order: Uint8Array;
  idOrder: Uint8Array;
}

/**
 * The clean index at the end of a catalog: the folder listings (names joined by "/", and the
 * stats as the bytes of their doubles) of the scan that wrote the catalog; for each record its
 * line's offset, its type, its place in the default list order (created, newest first; then id) and
 * in id order (lowercased, for REF prefixes); the context's summary (counts, tags, bytes); and the
 * suspects: records whose file changed within a tick of the clock before the scan (settled), so
 * that its stat cannot vouch for its content. Each has a digest, and is trusted only once a command
 * found its front matter unchanged (catalog-patch.ts); before the suspects, such a record kept the
 * whole index from being written, and the command after a burst of edits scanned every file.
 * Laid out as a JSON head (its length in 4 bytes first) and the arrays after it, little-endian.
 * With each folder's names the head records the folder's own inode and times when they had settled
 * (settledFolder): the native addon then takes the names from here while they are unchanged
 * (native/folder.c, which reads the head's "folders" itself: docs/storage.md).
 */
export class CatalogIndex {
  private constructor(
    private readonly bytes: Buffer,
    private readonly folders: Array<{ present: boolean; namesAt: number; namesLength: number; statsAt: number; statsLength: number; record?: string }>,
    /** Records, and memories of each type. */
    readonly records: number,
    readonly counts: Record<MemoryType, number>,
    /** As summary() returns it; copy before handing it out. */
    readonly summary: StorageSummary,
    /** Records to verify before trusting them, in increasing order. */
    readonly suspects: number[],
    private readonly linesAt: number,
    private readonly typesAt: number,
    private readonly orderAt: number,
    private readonly idOrderAt: number,
    /** Where the records end in the catalog file (the index's own offset). */
    private readonly recordsEnd: number,
  ) {}

  static parse(bytes: Buffer, recordsEnd: number): CatalogIndex | undefined {
    const headLength = bytes.readUInt32LE(0);
    const head = JSON.parse(bytes.toString('latin1', 4, 4 + headLength)) as { records?: unknown; folders?: unknown; summary?: StorageSummary; suspects?: unknown };
    const records = head.records;
    if (!Number.isSafeInteger(records) || (records as number) < 0 || !Array.isArray(head.folders) || head.folders.length !== MEMORY_TYPES.length) return undefined;
    const summary = head.summary;
    if (!summary || typeof summary !== 'object' || !summary.counts || typeof summary.tags !== 'object' || !summary.tags || typeof summary.bytes !== 'number') return undefined;
    const n = records as number;
    const suspects = head.suspects;
    if (!Array.isArray(suspects) || !suspects.every((r, k) => Number.isSafeInteger(r) && r >= 0 && r < n && (k === 0 || r > suspects[k - 1]))) return undefined;
    const counts = Object.fromEntries(MEMORY_TYPES.map((t) => [t, 0])) as Record<MemoryType, number>;
    let at = 4 + headLength;
    const folders = [];
    for (const f of head.folders as Array<{ present?: unknown; names?: unknown; stats?: unknown; folder?: unknown }>) {
      const namesLength = f.names as number;
      const statsLength = f.stats as number;
      if (typeof f.present !== 'boolean' || !Number.isSafeInteger(namesLength) || !Number.isSafeInteger(statsLength) || namesLength < 0 || statsLength < 0) return undefined;
      const record = typeof f.folder === 'string' ? f.folder : undefined;
      folders.push({ present: f.present, namesAt: at, namesLength, statsAt: at + namesLength, statsLength, record });
      at += namesLength + statsLength;
    }
    const linesAt = at;
    const typesAt = linesAt + 4 * n;
    const orderAt = typesAt + n;
    const idOrderAt = orderAt + 4 * n;
    if (idOrderAt + 4 * n !== bytes.length) return undefined;
    for (let r = 0; r < n; r++) {
      const type = MEMORY_TYPES[bytes[typesAt + r]];
      if (!type) return undefined;
      counts[type]++;
    }
    if (MEMORY_TYPES.some((t) => summary.counts[t] !== counts[t])) return undefined;
    return new CatalogIndex(bytes, folders, n, counts, summary, suspects as number[], linesAt, typesAt, orderAt, idOrderAt, recordsEnd);
  }

  /** True when these listings (MEMORY_TYPES order; undefined: no folder) are the index's, byte for byte. */
  matches(listings: Array<FolderListing | undefined>): boolean {
    return listings.every((listing, i) => this.sameNames(i, listing) && (!listing || this.statsOf(i)!.equals(statBytes(listing))));
  }

  /**
   * True when a folder's record (its inode and times beside its names, see settledFolder) is not
   * what these listings would record now: missing (a catalog written before records were, or
   * while the folder had just changed) or out of date (an entry added and removed again). Writing
   * the index again then lets the next reads take the folder's names from it (native/folder.c).
   */
  lacksFolderRecord(listings: Array<FolderListing | undefined>): boolean {
    return listings.some((listing, i) => {
      const now = listing && settledFolder(listing);
      return now !== undefined && now !== this.folders[i].record;
    });
  }

  /** True when the folder `i` was present as `listing` is, with the same names (its stats may differ). */
  sameNames(i: number, listing: FolderListing | undefined): boolean {
    const f = this.folders[i];
    if (!listing) return !f.present;
    if (!f.present || listing.stats.byteLength !== f.statsLength) return false;
    const names = joinedNames(listing);
    return Buffer.byteLength(names) === f.namesLength && this.bytes.toString('utf8', f.namesAt, f.namesAt + f.namesLength) === names;
  }

  /** The names of folder `i` as recorded, in listing order; empty for a folder that was not there. */
  namesOf(i: number): string[] {
    const f = this.folders[i];
    return f.present && f.namesLength ? this.bytes.toString('utf8', f.namesAt, f.namesAt + f.namesLength).split('/') : [];
  }

  /** The stats of folder `i` as recorded (FolderListing.stats' bytes); undefined for a folder that was not there. */
  statsOf(i: number): Buffer | undefined {
    const f = this.folders[i];
    return f.present ? this.bytes.subarray(f.statsAt, f.statsAt + f.statsLength) : undefined;
  }

  /** The default list order (byCreated) and the id order (byId) of every record, as new arrays. */
  orders(): { byCreated: Uint32Array; byId: Uint32Array } {
    return { byCreated: this.numbersAt(this.orderAt), byId: this.numbersAt(this.idOrderAt) };
  }

  /** The array of 32-bit numbers, one per record, at `at`, as a new array. */
  private numbersAt(at: number): Uint32Array {
    const numbers = new Uint32Array(this.records);
    new Uint8Array(numbers.buffer).set(this.bytes.subarray(at, at + 4 * this.records));
    if (!LITTLE_ENDIAN) Buffer.from(numbers.buffer).swap32();
    return numbers;
  }

  /** Every record's type (its index in MEMORY_TYPES), as a new array. */
  typeBytes(): Uint8Array {
    return Uint8Array.from(this.bytes.subarray(this.typesAt, this.typesAt + this.records));
  }

  /** Where each record's line starts in the catalog file, as a new array. */
  lineOffsets(): Uint32Array {
    return this.numbersAt(this.linesAt);
  }

  /** Where record `r`'s line starts and ends in the catalog file (its newline included). */
  lineStart(r: number): number {
    return this.bytes.readUInt32LE(this.linesAt + 4 * r);
  }

  lineEnd(r: number): number {
    return r + 1 < this.records ? this.lineStart(r + 1) : this.recordsEnd;
  }

  /** Record `r`'s type, as its index in MEMORY_TYPES. */
  typeOf(r: number): number {
    return this.bytes[this.typesAt + r];
  }

  /** The record `k`-th in the default list order: created, newest first, then id, newest first. */
  byCreated(k: number): number {
    return this.bytes.readUInt32LE(this.orderAt + 4 * k);
  }

  /** The record `k`-th in order of lowercased id. */
  byId(k: number): number {
    return this.bytes.readUInt32LE(this.idOrderAt + 4 * k);
  }

  /** The bytes of the index for a catalog whose records start at `recordsStart`. */
  static bytesOf(input: IndexInput, recordsStart: number, whole = false): Uint8Array[] | undefined {
    const n = input.lineLengths.length;
    const lines = new Uint32Array(n);
    for (let r = 0, at = recordsStart; r < n; at += input.lineLengths[r], r++) lines[r] = at;
    const { keys } = input;
    // Newest first, then by id, newest first; and by id in lower case. Record numbers are sorted,
    // comparing the columns' bytes (RecordKeys): a key string per record (`created NUL id NUL
    // record`, sorted by the default sort) was no faster at 10,000 and 100,000 records, and at
    // 100,000 was some 35 MB while a cold scan wrote its catalog.
    const idOrder = new Uint32Array(n).map((_, r) => r);
    idOrder.sort(keys.byIdIgnoringCase);
    if (keys.hasTwin(idOrder)) return undefined; // two files with one id: no clean index
    const order = new Uint32Array(n).map((_, r) => r);
    order.sort(keys.newestFirst);
    const { listings, summary, suspects } = input;
    return CatalogIndex.layout({ listings, summary, suspects, lines, types: Uint8Array.from(input.types), order: littleEndian(order), idOrder: littleEndian(idOrder) }, whole);
  }

  /**
   * The bytes of this index with its records' lines rewritten in place (same records, same order):
   * new folder listings, summary and suspects, and the lines' new offsets. The orders are kept as they are: a patch never changes a record's id, type
   * or creation time (catalog-patch.ts).
   */
  patchedBytes(listings: Array<FolderListing | undefined>, summary: StorageSummary, suspects: number[], lines: Uint32Array, whole = false): Uint8Array[] {
    const n = this.records;
    const { bytes } = this;
    return CatalogIndex.layout({
      listings,
      summary,
      suspects,
      lines,
      types: bytes.subarray(this.typesAt, this.typesAt + n),
      order: bytes.subarray(this.orderAt, this.orderAt + 4 * n),
      idOrder: bytes.subarray(this.idOrderAt, this.idOrderAt + 4 * n),
    }, whole);
  }

  /**
   * The bytes of an index of other records (a patch that added or removed some): every array
   * given, the orders as record numbers.
   */
  static rebuiltBytes(listings: Array<FolderListing | undefined>, summary: StorageSummary, suspects: number[], lines: Uint32Array, types: Uint8Array, byCreated: Uint32Array, byId: Uint32Array, whole = false): Uint8Array[] {
    return CatalogIndex.layout({ listings, summary, suspects, lines, types, order: littleEndian(byCreated), idOrder: littleEndian(byId) }, whole);
  }

  /**
   * The index as bytes: its head, then the folders and arrays (see the class comment), as parts to
   * be written one after the other; or, `whole`, as one buffer written in place, for a caller that
   * keeps the index (a catalog reopened on the file it just wrote): copying the parts into one held
   * both, 11 MB more at 100,000 records at the end of a cold scan and of the catalog patch.
   */
  private static layout(parts: IndexParts, whole = false): Uint8Array[] {
    const folders = parts.listings.map((listing) => {
      if (!listing) return { present: false, names: '', namesLength: 0, stats: Buffer.alloc(0), folder: undefined };
      const names = joinedNames(listing);
      return { present: true, names, namesLength: Buffer.byteLength(names, 'utf8'), stats: statBytes(listing), folder: settledFolder(listing) };
    });
    const { summary, suspects } = parts;
    const records = parts.lines.length;
    // The native addon reads "folders" (native/folder.c): keep its keys, their order, and it before the summary.
    const head = Buffer.from(
      asciiJson({ records, folders: folders.map((f) => ({ present: f.present, names: f.namesLength, stats: f.stats.length, ...(f.folder && { folder: f.folder }) })), summary, suspects }),
      'latin1',
    );
    const arrays = [littleEndian(parts.lines), parts.types, parts.order, parts.idOrder];
    if (!whole) {
      const headLength = Buffer.allocUnsafe(4);
      headLength.writeUInt32LE(head.length, 0);
      return [headLength, head, ...folders.flatMap((f) => [Buffer.from(f.names, 'utf8'), f.stats]), ...arrays];
    }
    let size = 4 + head.length;
    for (const f of folders) size += f.namesLength + f.stats.length;
    for (const a of arrays) size += a.length;
    const out = Buffer.allocUnsafe(size);
    let at = out.writeUInt32LE(head.length, 0);
    at += head.copy(out, at);
    for (const f of folders) {
      at += out.write(f.names, at, 'utf8');
      out.set(f.stats, at);
      at += f.stats.length;
    }
    for (const a of arrays) {
      out.set(a, at);
      at += a.length;
    }
    return [out];
  }
}

/**
 * The folder's own inode and times as the clean index records them (48 hex digits, the bits of
 * three doubles), when they had settled before the folder was read: a later read whose folder stat
 * is the same may then take the names from the index instead of reading the folder (native/folder.c).
 * Undefined when the read did not give them, or the folder changed within a tick of the read (a
 * change after it could keep the same times).
 */
function settledFolder({ folder }: FolderListing): string | undefined {
  if (!folder) return undefined;
  const changed = Math.max(folder[FOLDER_MTIME], folder[FOLDER_CTIME]);
  return settledAt(changed, folder[FOLDER_LISTED_AT]) ? hexTime(folder[FOLDER_INO]) + hexTime(folder[FOLDER_MTIME]) + hexTime(folder[FOLDER_CTIME]) : undefined;
}

/** A listing's stats as bytes (machine order: the catalog is a cache of this machine). */
function statBytes({ stats }: FolderListing): Buffer {
  return Buffer.from(stats.buffer, stats.byteOffset, stats.byteLength);
}

/** Big-endian view of one double, to read and write times as their bits. */
const timeBits = new DataView(new ArrayBuffer(8));

/** A time as 16 hex digits (the bits of the double), a byte at a time from a table. */
function hexTime(ms: number): string {
  timeBits.setFloat64(0, ms);
  let hex = '';
  for (let i = 0; i < 8; i++) hex += HEX_BYTES[timeBits.getUint8(i)];
  return hex;
}

const HEX_BYTES = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/**
 * Whether the columns at `at` are `size TAB mtime TAB ctime TAB ino TAB` of this stat: where the
 * next column begins, or -1. Read digit by digit: no string is made.
 */
function sameStat(text: string, at: number, st: FileStat): number {
  let p = decimalIs(text, at, st.size);
  if (p === -1 || !timeIs(text, p, st.mtimeMs)) return -1;
  p += 17;
  if (!timeIs(text, p, st.ctimeMs)) return -1;
  return decimalIs(text, p + 17, st.ino);
}

/** Whether a whole number `value` is written at `at`, followed by a tab: the position after the tab, or -1. */
function decimalIs(text: string, at: number, value: number): number {
  let n = 0;
  let p = at;
  for (let c = text.charCodeAt(p); c >= 48 && c <= 57; c = text.charCodeAt(++p)) n = n * 10 + (c - 48);
  return p > at && p - at <= 16 && text.charCodeAt(p) === 9 && n === value ? p + 1 : -1;
}

/**
 * Whether the 16 hex digits at `at`, followed by a tab, are the time `ms`. Compared 16 bits at a
 * time: small integers, which even unoptimised code handles without allocating.
 */
function timeIs(text: string, at: number, ms: number): boolean {
  timeBits.setFloat64(0, ms);
  for (let i = 0; i < 4; i++) {
    let n = 0;
    for (let p = at + 4 * i; p < at + 4 * i + 4; p++) {
      const c = text.charCodeAt(p);
      const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
      if (digit === -1) return false;
      n = n * 16 + digit;
    }
    if (n !== timeBits.getUint16(2 * i)) return false;
  }
  return text.charCodeAt(at + 16) === 9;
}

/** A key that can be written as is: printable ASCII, no backslash, not starting with a quote. */
function isPlainKey(name: string): boolean {
  return /^[\x20-\x5b\x5d-\x7e]+$/.test(name) && name.charCodeAt(0) !== 34;
}

function quoteKey(type: string, file: string): string {
  return asciiJson(`${type}/${file}`);
}

/**
 * How the line at `pos` orders against `type`/`file` in reading order: negative before, 0 the
 * same file, positive after. A line whose key cannot be read orders before anything (passed over).
 */
function compareKey(text: string, pos: number, typeIndex: number, file: string): number {
  const tab = text.indexOf('\t', pos);
  const eol = text.indexOf('\n', pos);
  if (tab === -1 || (eol !== -1 && eol < tab)) return -1;
  let key: unknown = text.slice(pos, tab);
  if ((key as string).charCodeAt(0) === 34) key = parseJson(key as string);
  if (typeof key !== 'string') return -1;
  const slash = key.indexOf('/');
  const lineType = MEMORY_TYPES.indexOf(key.slice(0, slash) as MemoryType);
  if (slash === -1 || lineType === -1) return -1;
  if (lineType !== typeIndex) return lineType - typeIndex;
  const lineFile = key.slice(slash + 1);
  return lineFile < file ? -1 : lineFile > file ? 1 : 0;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** JSON with every character beyond ASCII escaped, so the catalog stays one-byte. */
/**
 * A tag as it stands in a record's tags column: a line without it certainly lacks the tag (one
 * with it may still, the text being elsewhere in the line).
 */
export function tagInLine(tag: string): string {
  return asciiJson(tag);
}

function asciiJson(value: unknown): string {
  const json = JSON.stringify(value);
  return NOT_ASCII.test(json) ? json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
}

const NOT_ASCII = /[\u007f-\uffff]/;

/** A column that needs no escaping: printable ASCII without spaces (ids and ISO times always are). */
function isPlainColumn(value: string): boolean {
  return /^[\x21-\x7e]+$/.test(value);
}

/** The front matter a catalog line keeps beyond the columns: parsed on first use. */
export interface HeaderTail {
  title: string;
  tags: string[];
  meta: Record<string, unknown>;
  derivedId: boolean;
}

/**
 * What a new catalog line holds: a file's header, whether its id was derived and the digest of the
 * front matter it was read from alone (if it was); or why the file cannot be read.
 */
export type RecordBody = (Omit<MemoryHeader, 'type' | 'name' | 'bytes'> & { derivedId: boolean; digest?: string }) | string;

/**
 * The catalog line of `type`/`file` with these stats, or undefined if it cannot be kept (an id or
 * date with characters the format does not allow; the file is then simply read every time).
 */
export function formatLine(type: MemoryType, file: string, st: FileStat, body: RecordBody): string | undefined {
  const key = isPlainKey(file) ? `${type}/${file}` : quoteKey(type, file);
  const head = `${key}\t${statColumns(st)}`;
  if (typeof body === 'string') return `${head}${NO_DIGEST}\t${PROBLEM}\t${asciiJson(body)}\n`;
  if (!isPlainColumn(body.id) || !isPlainColumn(body.created) || !isPlainColumn(body.updated) || body.id.startsWith(PROBLEM)) return undefined;
  const digest = body.digest && isPlainColumn(body.digest) ? body.digest : NO_DIGEST;
  const meta = Object.keys(body.meta).length ? body.meta : 0;
  // Flattened: a line built from a template is a tree of about twenty pieces until it is read, and
  // a command keeps the lines of every file it read or wrote (a scan with a cold catalog, a bulk write).
  return detach(`${head}${digest}\t${body.id}\t${body.created}\t${body.updated}\t${asciiJson(body.tags)}\t${asciiJson([body.title, meta, body.derivedId ? 1 : 0])}\n`);
}

/** The last column of a line (title, extra keys, derived id), or undefined if it is damaged. */
export function parseRest(text: string): Omit<HeaderTail, 'tags'> | undefined {
  const rest = parseJson(text);
  if (!Array.isArray(rest) || rest.length !== 3 || typeof rest[0] !== 'string') return undefined;
  const meta = rest[1] && typeof rest[1] === 'object' && !Array.isArray(rest[1]) ? (rest[1] as Record<string, unknown>) : {};
  return { title: rest[0], meta, derivedId: rest[2] === 1 };
}

/** A line's tags column, or undefined if it is damaged. */
export function parseTags(text: string): string[] | undefined {
  const tags = parseJson(text);
  return Array.isArray(tags) && tags.every((t) => typeof t === 'string') ? (tags as string[]) : undefined;
}

/**
 * A whole record line (newline included) in parts: its key, the file's size, its digest, the columns `id TAB
 * created TAB updated TAB tags` as one string with where its tabs are, and where the last column
 * (`rest`) starts and ends in the line. Undefined for a damaged line or a problem record (`!`).
 * What `take` reads from the window, for a line read on its own (the clean index's lines).
 */
export function recordOfLine(line: string): LineRecord | undefined {
  const key = keyOfLine(line);
  // The tabs after key, size, mtime, ctime, ino, digest, id, created, updated and tags.
  const tabs: number[] = [];
  for (let at = line.indexOf('\t'); at !== -1; at = line.indexOf('\t', at + 1)) tabs.push(at);
  const end = line.length - 1;
  if (!key || tabs.length !== 10 || line.charCodeAt(end) !== 10) return undefined;
  const size = Number(line.slice(tabs[0] + 1, tabs[1]));
  const at = tabs[5] + 1; // the id
  if (!Number.isSafeInteger(size) || tabs[6] === at || line.startsWith(PROBLEM, at)) return undefined;
  return {
    typeIndex: key.typeIndex,
    file: key.file,
    size,
    digest: line.slice(tabs[4] + 1, tabs[5]),
    digestAt: tabs[4] + 1,
    span: line.slice(at, tabs[9]),
    cut1: tabs[6] - at,
    cut2: tabs[7] - at,
    cut3: tabs[8] - at,
    restAt: tabs[9] + 1,
    restEnd: end,
  };
}

/** A record line in parts (recordOfLine). */
export interface LineRecord {
  typeIndex: number;
  file: string;
  size: number;
  /** The front matter's digest, or NO_DIGEST; and where the column starts in the line. */
  digest: string;
  digestAt: number;
  /** `id TAB created TAB updated TAB tags`, and where its three tabs are. */
  span: string;
  cut1: number;
  cut2: number;
  cut3: number;
  /** Where the last column (`rest`) starts and ends in the line. */
  restAt: number;
  restEnd: number;
}

/**
 * Of the record line of `type`/`file` (a plain key, as formatLine writes it): the file's size, its
 * digest and where that column starts; undefined for another key, a quoted key, a damaged line or
 * a problem record (`!`). What a patch needs of each line, without splitting it all (recordOfLine).
 */
export function digestOfLine(line: string, type: string, file: string): { size: number; digest: string; digestAt: number } | undefined {
  const keyEnd = type.length + 1 + file.length;
  if (line.charCodeAt(keyEnd) !== 9 || line.charCodeAt(type.length) !== 47 || !line.startsWith(type) || !line.startsWith(file, type.length + 1)) return undefined;
  let tab = keyEnd;
  for (let column = 0; column < 4 && tab !== -1; column++) tab = line.indexOf('\t', tab + 1);
  const digestAt = tab + 1;
  const digestEnd = tab === -1 ? -1 : line.indexOf('\t', digestAt);
  const size = Number(line.slice(keyEnd + 1, line.indexOf('\t', keyEnd + 1)));
  if (digestEnd === -1 || !Number.isSafeInteger(size) || line.startsWith(PROBLEM, digestEnd + 1)) return undefined;
  return { size, digest: line.slice(digestAt, digestEnd), digestAt };
}

/** The line of a record whose file has a new stat but the same front matter: its columns from the digest (at `digestAt`) on kept. */
export function restatedLine(line: string, digestAt: number, st: FileStat): string {
  return detach(`${line.slice(0, line.indexOf('\t'))}\t${statColumns(st)}${line.slice(digestAt)}`);
}

/**
 * The columns `size TAB mtime TAB ctime TAB ino TAB` of a line, each of a fixed width (sizes and
 * inodes zero-padded to 12 and 16 digits): a file's line keeps its length when only its stat
 * changes, so a patch after edits writes its lines over the old ones (catalog-patch.ts).
 */
function statColumns(st: FileStat): string {
  return `${padded(st.size, 12)}\t${hexTime(st.mtimeMs)}\t${hexTime(st.ctimeMs)}\t${padded(st.ino, 16)}\t`;
}

function padded(n: number, digits: number): string {
  const text = String(n);
  return text.length < digits ? ZEROS.slice(text.length - digits) + text : text;
}

const ZEROS = '0000000000000000';

/** The key of a line, decoded, with its type's place in reading order; undefined if damaged. */
export function keyOfLine(line: string): { typeIndex: number; file: string; key: string } | undefined {
  const tab = line.indexOf('\t');
  if (tab === -1) return undefined;
  let key: unknown = line.slice(0, tab);
  if ((key as string).charCodeAt(0) === 34) key = parseJson(key as string);
  if (typeof key !== 'string') return undefined;
  const slash = key.indexOf('/');
  const typeIndex = MEMORY_TYPES.indexOf(key.slice(0, slash) as MemoryType);
  if (slash === -1 || typeIndex === -1) return undefined;
  return { typeIndex, file: key.slice(slash + 1), key };
}

/**
 * The record lines of a catalog with some files' lines replaced, added or (null) removed, in
 * reading order: what a command's own writes after its scan make of the catalog it scanned
 * (`scanned`: the scan's parts, lines in memory or ranges of `catalog` or of the spool). As parts
 * for saveCatalog, unchanged lines as ranges of the file they are in, never joined: after a bulk
 * write of 100,000 memories one string of them all (and its bytes) was some 60 MB at once, and
 * the scanned catalog as one string another 27 MB.
 *
 * `spool` holds, from `spooledFrom` on, the lines of files a bulk write made (line-spool.ts), in
 * the order written: each is newer than the scanned line of its file, and the later of two for
 * one file wins; a file in `edits` was written (or removed) after any spooled line of it (the
 * backend drops a file's edit when it spools a line for it), so its edit wins over both.
 *
 * The parts are given one at a time as the catalog is written, not made into an array first: a
 * restore's lines are spooled in the backup's order, not the catalog's, so nearly every line is a
 * part of its own (at 100,000 some 5 MB of objects, held beside the columns below at the peak of
 * restore-backup). The work is done when the first part is asked for.
 */
export function* mergeLines(scanned: CatalogPart[], catalog: Catalog, edits: Map<string, string | null>, spool?: LineSpool, spooledFrom = 0): Generator<CatalogPart> {
  const lines = new LineColumns();
  const add = (line: string, text: string | undefined, source: LineSpool | undefined, from: number, rank: number) => {
    const k = keyOfLine(line);
    if (!k || (rank !== Infinity && edits.has(k.key))) return;
    // The file's name copied: a slice would keep the text it was read with.
    lines.add(k.typeIndex, text === undefined ? detach(k.file) : k.file, text, source, from, from + line.length, rank);
    itemDone();
  };
  for (const part of scanned) {
    if (typeof part === 'string') {
      for (const line of part.split('\n')) if (line) add(line, `${line}\n`, undefined, 0, 0);
    } else {
      const source = part.spool ?? catalog;
      for (const { at, line } of linesIn(source, part.from, part.to)) add(line, undefined, part.spool, at, 0);
    }
  }
  if (spool) for (const { at, line } of linesIn(spool, spooledFrom, spool.size)) add(line, undefined, spool, at, 1 + at);
  for (const line of edits.values()) if (line) add(line, line, undefined, 0, Infinity);
  const { types, files, texts, sources, sourceOf, froms, tos, ranks } = lines;
  const order = new Uint32Array(lines.count).map((_, i) => i);
  order.sort((a, b) => types[a] - types[b] || (files[a] < files[b] ? -1 : files[a] > files[b] ? 1 : ranks[a] - ranks[b]));
  // A range is given once no later line can extend it.
  let range: { from: number; to: number; spool?: LineSpool } | undefined;
  for (let n = 0; n < order.length; n++) {
    const i = order[n];
    const next = order[n + 1];
    if (next !== undefined && types[next] === types[i] && files[next] === files[i]) continue; // a newer line of the same file follows
    const text = texts.get(i);
    const source = sources[sourceOf[i]];
    // Lines that follow each other in their file too are copied as one range.
    if (text === undefined && range && range.spool === source && range.to === froms[i]) {
      range.to = tos[i];
      continue;
    }
    if (range) yield range;
    range = undefined;
    if (text !== undefined) yield text;
    else range = source ? { spool: source, from: froms[i], to: tos[i] } : { from: froms[i], to: tos[i] };
  }
  if (range) yield range;
}

/**
 * mergeLines' record of each line, in columns: its type and file name, and its line (text, for the
 * few lines given as text) or where it is (`froms`, `tos` in `sources[sourceOf]`: a spool, or the
 * catalog when undefined). `ranks` orders the lines of one file: the scanned line 0, spooled ones
 * 1 + their offset, an edit last. An object a line was some 20 MB more at 100,000 lines, and
 * JavaScript arrays of numbers some 4 MB more than these typed ones, which grow by doubling.
 */
class LineColumns {
  count = 0;
  types = new Uint8Array(1024);
  sourceOf = new Uint16Array(1024);
  froms = new Float64Array(1024);
  tos = new Float64Array(1024);
  ranks = new Float64Array(1024);
  readonly files: string[] = [];
  readonly texts = new Map<number, string>();
  readonly sources: Array<LineSpool | undefined> = [undefined];

  add(type: number, file: string, text: string | undefined, source: LineSpool | undefined, from: number, to: number, rank: number): void {
    if (this.count === this.types.length) this.grow();
    const i = this.count++;
    let s = this.sources.indexOf(source);
    if (s === -1) s = this.sources.push(source) - 1;
    this.types[i] = type;
    this.sourceOf[i] = s;
    this.froms[i] = from;
    this.tos[i] = to;
    this.ranks[i] = rank;
    this.files.push(file);
    if (text !== undefined) this.texts.set(i, text);
  }

  private grow(): void {
    const size = this.types.length * 2;
    this.types = grown(this.types, size);
    this.sourceOf = grown(this.sourceOf, size);
    this.froms = grown(this.froms, size);
    this.tos = grown(this.tos, size);
    this.ranks = grown(this.ranks, size);
  }
}

/** What lines are read from: a catalog file or a spool. */
interface LineFile {
  read(from: number, to: number): string;
}

/**
 * The lines of bytes `from` to `to` of a catalog or spool (`from` a line's start), with the offset
 * of each (as many as can be read), read 64 KiB at a time (text decoded from a megabyte at once is
 * a string outside the heap, which lingers until a full collection). A slice of a line keeps its
 * 64 KiB alive.
 */
export function* linesIn(file: LineFile, from: number, to: number): Iterable<{ at: number; line: string }> {
  const step = 64 * 1024;
  let carry = '';
  for (let at = from; at < to; ) {
    const text = carry + file.read(at, Math.min(to, at + step));
    if (text.length === carry.length) return; // unreadable now: the lines not given are read from their files again
    const start = at - carry.length;
    at += text.length - carry.length;
    let lineStart = 0;
    for (let eol = text.indexOf('\n'); eol !== -1; eol = text.indexOf('\n', lineStart)) {
      yield { at: start + lineStart, line: text.slice(lineStart, eol + 1) };
      lineStart = eol + 1;
    }
    carry = text.slice(lineStart);
  }
}

/**
 * Writes the catalog atomically: a temporary file beside it, renamed into place. No fsync: it is
 * derived, and a lost or torn write only costs a rebuild. Failing to write (a read-only disk,
 * permissions) is not an error for the command. `parts` are the record lines in reading order,
 * new ones as text and unchanged runs as ranges of `from` (the catalog the scan read).
 */
export function saveCatalog(dir: string, parts: Iterable<CatalogPart>, scannedAt: number, from: Catalog, index?: IndexInput | IndexWriter): void {
  writeCatalog(dir, parts, scannedAt, from, index, false);
}

/**
 * saveCatalog, and the catalog just written, open: what a command goes on with after patching
 * the catalog (reopening it by name could find another command's). Undefined if it could not be
 * written.
 */
export function saveAndReopenCatalog(dir: string, parts: Iterable<CatalogPart>, scannedAt: number, from: Catalog, index?: IndexInput | IndexWriter): Catalog | undefined {
  const out = writeCatalog(dir, parts, scannedAt, from, index, true);
  return out === undefined ? undefined : Catalog.ofFile(out.fd, out.index);
}

/** An index to write after a catalog's records: how long the records are, and its bytes given where they start. */
export interface IndexWriter {
  recordsLength: number;
  /** Undefined: no index after all (two records with one id). `whole`: as one buffer (CatalogIndex.layout). */
  bytes(recordsStart: number, whole: boolean): Uint8Array[] | undefined;
}

/**
 * Writes a catalog (saveCatalog): if `keep`, the file open for reading and the index's bytes as
 * written; else closed. Undefined if it could not be written.
 */
function writeCatalog(
  dir: string,
  parts: Iterable<CatalogPart>,
  scannedAt: number,
  from: Catalog,
  indexGiven: IndexInput | IndexWriter | undefined,
  keep: boolean,
): { fd: number; index?: Buffer } | undefined {
  const path = join(dir, CATALOG_FILE);
  // A name isTempFileName knows, so a copy left by a killed process is cleaned.
  const temp = `${path}.${Buffer.from(randomBytes(6)).toString('hex')}`;
  const index: IndexWriter | undefined =
    indexGiven && 'listings' in indexGiven ? { recordsLength: indexGiven.lineLengths.reduce((a, b) => a + b, 0), bytes: (start, whole) => CatalogIndex.bytesOf(indexGiven, start, whole) } : indexGiven;
  let out: number | undefined;
  let indexBytes: Buffer | undefined;
  try {
    out = openSync(temp, keep ? 'wx+' : 'wx', 0o600);
    const firstLine = (indexAt: number) => `${MAGIC}${scannedAt} ${String(indexAt).padStart(INDEX_AT_DIGITS, '0')}\n`;
    const writer = new CatalogWriter(out);
    writer.text(firstLine(0));
    const recordsStart = writer.written;
    for (const part of parts) {
      if (typeof part === 'string') writer.text(part);
      else if (part.spool) part.spool.copyTo(writer, part.from, part.to);
      else from.copyTo(writer, part.from, part.to, part.patches);
    }
    writer.flush();
    // The index only if its line offsets are those just written (they are, unless a bug says otherwise).
    const indexParts = index && writer.written === recordsStart + index.recordsLength ? index.bytes(recordsStart, keep) : undefined;
    if (indexParts) {
      for (const part of indexParts) for (let at = 0; at < part.length; ) at += writeSync(out, part, at);
      // Kept (one Buffer, made whole by the layout) only for the catalog reopened on the file just written.
      if (keep) indexBytes = indexParts.length === 1 ? Buffer.from(indexParts[0].buffer, indexParts[0].byteOffset, indexParts[0].byteLength) : Buffer.concat(indexParts);
      writeSync(out, firstLine(writer.written), 0, 'latin1');
    }
    renameSync(temp, path);
  } catch {
    // Derived data: the next command rebuilds what this one could not write.
    if (out !== undefined) closeSync(out);
    rmSync(temp, { force: true });
    return undefined;
  }
  for (const old of OLD_CATALOG_FILES) rmSync(join(dir, old), { force: true });
  if (keep) return { fd: out, index: indexBytes };
  closeSync(out);
  return undefined;
}
