import { existsSync, lstatSync, readFileSync, statSync, unlinkSync, mkdirSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fsyncMany } from '../../util/fsync-many.js';
import { expectFiles, itemDone, loopDone } from '../../util/heap.js';
import { lazyModule } from '../../util/lazy.js';
import { ConflictError, InvalidInputError, NotFoundError, fromFsError } from '../../errors.js';
import { isKeepableName, memoryName } from '../../memory/fields.js';
import { MEMORY_TYPES, type Memory, type MemoryHeader, type MemoryType } from '../../memory/types.js';
import { detach, detachedHeader, insertEach } from '../bulk.js';
import { DEFAULT_LIST_TYPES, SummaryCount, applyListQuery, summarise } from '../query.js';
import type {
  BackendCapabilities,
  BulkResult,
  IndexProgress,
  InsertOptions,
  ListQuery,
  ListResult,
  StorageBackend,
  StorageProblem,
  StorageSummary,
  StoredMemory,
} from '../types.js';
import type { IndexCheck, ReindexResult, SearchQuery, SearchResult } from '../../search/types.js';
import { Catalog, NO_DIGEST, formatLine, mergeLines, recordOfLine, restatedLine, saveAndReopenCatalog, saveCatalog, settled, tagInLine, type CatalogIndex, type CatalogPart, type HeaderTail, type IndexInput, type RecordBody } from './catalog.js';
import { frontMatterDigest, sameFrontMatter } from './front-matter-digest.js';
import { patchCatalog } from './catalog-patch.js';
import { FileHeader, LineSource, type TailSource } from './file-header.js';
import { parseMemoryFile, parseMemoryHeader, serialiseMemory } from './file-format.js';
import { FIELDS, FILE, KIND, LINK, MEMORY_DIR, readTypeFolders, statAt, statError, type FileStat, type FolderListing } from './folder-listing.js';
import { INDEX_FILE, MarkdownSearchIndex } from './search-index.js';
import { isTempFileName, removeStaleRootTempFiles, removeStaleTempFiles, writeFileForBatch } from './temp-files.js';
import { LineSpool } from './line-spool.js';
import { RecordKeys } from './record-keys.js';

/** Loaded on first write: reading commands never pay for it. */
const writeFileAtomic = lazyModule<typeof import('write-file-atomic')>(() => require('write-file-atomic'));

export { MEMORY_DIR };
/** Own writes a command may leave to the next command's catalog patch (see close). */
const FEW_WRITES = 64;
/** Memories looked up by id through the clean index (a binary search each) before a scan is cheaper. */
const CLEAN_LOOKUPS = 32;
/** Files a bulk write flushes together: the paths waiting for their flush are all it holds of them. Changed by tests only. */
export const bulkSync = { batch: 4_096 };
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/** Memory file names end in `.md`; temporary files (`x.md.1a2b3c`) and dot files never do. */
export function isMemoryFileName(name: string): boolean {
  return name.endsWith('.md') && !name.startsWith('.');
}

/**
 * The markdown backend: one file per memory under `memory/<type>/`, editable by hand.
 *
 * Every command sees the files as they are on disk now: the backend reads the folders when first
 * asked and keeps that picture only for the life of this object (one command), updating it with
 * its own writes. Writes go through a temporary file in the same folder and a rename.
 * Reading the folders parses only the files that changed since the last command (catalog.ts).
 */
/** A file-system error as a problem line: permissions get a hint, the rest their message. */
function fsProblem(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied; check its permissions' : e.message;
}

/** A file read by a scan (MarkdownBackend.readFile): its header or why it cannot be read, and its catalog line. */
export interface ReadFile {
  header?: FileHeader;
  problem?: string;
  line?: string;
}

/** The folders and the catalog as a command first sees them (MarkdownBackend.look). */
interface Look {
  scanStart: number;
  catalog: Catalog;
  /** In MEMORY_TYPES order; undefined for a folder that is missing, linked or not a folder. */
  listings: Array<FolderListing | undefined>;
  /** Folders that are links or not folders. */
  problems: StorageProblem[];
  /** The catalog's clean index, when these listings are the ones it was written from. */
  clean?: CatalogIndex;
  /** The catalog has lines and no index: the scan that wrote it found a file it could not index. */
  unindexed: boolean;
  /** Where headers served from this catalog read the rest of their line. */
  source: TailSource;
}

export class MarkdownBackend implements StorageBackend {
  readonly name = 'markdown' as const;
  readonly capabilities: BackendCapabilities = { handEditable: true, transactions: false, singleFile: false, staysCurrent: false };

  /** The memories by id, as this object last saw them (one command). */
  private entries?: Map<string, FileHeader>;
  /** During insertMany: files written but not yet fsynced (flushed bulkSync.batch at a time, far faster than one by one). */
  private unsynced?: Set<string>;
  /** During insertMany: the folders of the files flushed so far, flushed at its end. */
  private syncedFolders?: Set<string>;
  /**
   * Catalog lines kept on disk (line-spool.ts): those of files the scan read, then (from
   * `editsFrom` on) those of files a bulk write made, written into the catalog on close; and
   * where each such memory's line is, by id. An id is in `spooled` or in `entries`, never both.
   */
  private spool?: LineSpool;
  private editsFrom = 0;
  private spoolFailed = false;
  private readonly spooled = new Map<string, number>();
  private readonly spoolSource: TailSource = { read: (from, to) => this.spool?.read(from, to) ?? '', repair: (header) => this.repair(header) };
  /** During insertMany: type folders already checked (not a link) and made. */
  private checkedFolders?: Set<MemoryType>;
  /** During insertMany: old files of moved memories, removed only once the new ones are synced. */
  private movedFrom: string[] = [];
  /** Files that lost to another file with the same id, by id (see scan). */
  private droppedTwins = new Map<string, { type: MemoryType; file: string }[]>();
  private scanProblems: StorageProblem[] = [];
  /** The catalog's record lines as the scan left them, in reading order. */
  private catalogParts: CatalogPart[] = [];
  /** The catalog the scan read, open until close (lazy header parts and unchanged lines come from it). */
  private catalog?: Catalog;
  /** Lines changed by this object's own writes since the scan, by `<type>/<file>` (null: removed). */
  private catalogEdits = new Map<string, string | null>();
  private scannedAt = 0;
  /** Own writes since the scan: the catalog is saved on close. */
  private catalogDirty = false;
  /** A damaged catalog line was repaired (its file read): the catalog must be saved on close. */
  private repaired = false;
  /** The catalog on disk has a clean index of the folders as this object first saw them (see close). */
  private indexOnDisk = false;
  private index?: MarkdownSearchIndex;
  /** The folders and catalog as this command first saw them (look). */
  private looked?: Look;
  /** Binary searches of the clean index's id order made for entryOf (see CLEAN_LOOKUPS). */
  private cleanSearches = 0;
  /** Memories lookup() found through the clean index, by id. */
  private cleanFound = new Map<string, FileHeader>();
  /** Where in the clean index's id order the next id looked up is tried first (cleanById), and the index it is of. */
  private cleanNext?: { of: CatalogIndex; k: number };

  constructor(
    readonly dir: string,
    /** Read only: nothing is written, not even the catalog. */
    private readonly readonly = false,
  ) {}

  private typeDir(type: MemoryType): string {
    return join(this.dir, MEMORY_DIR, type);
  }

  /**
   * What a command sees first: the three folders as listed now (with each entry's stat), and the
   * catalog; read once per command. `clean` is the catalog's clean index when the listings are the
   * very ones it was written from: every record is then current, and no file needs a look.
   * `recordFolders`: write the folders' record into the catalog if it lacks it (see below), as a
   * command that reads ahead does anyway.
   */
  private look(recordFolders = false): Look {
    if (this.looked) return this.looked;
    const scanStart = Date.now();
    this.catalog?.close();
    let catalog = Catalog.open(this.dir);
    this.catalog = catalog;
    const { listings, linked, failures } = readTypeFolders(this.dir, isMemoryFileName, expectFiles);
    const problems: StorageProblem[] = linked.map((path) => ({ path, message: 'is a symbolic link; not followed' }));
    for (const { rel, folder, error } of failures) {
      if (error.code !== 'ENOTDIR') throw fromFsError(error, folder);
      problems.push({ path: rel, message: 'is not a directory' });
    }
    const index = problems.length ? undefined : catalog.readIndex();
    let clean = index && !index.suspects.length && index.matches(listings) ? index : undefined;
    // Files edited in place (or just before the index was written): read those, not every file.
    // An index in step whose record of a folder is missing or stale is written again too, once, by
    // a command that reads ahead (and so uses the record): not by a bulk command, whose peak at
    // 100,000 the rewrite raised by some 18 MiB (backup), nor in a library's process.
    const recordWanted = !this.readonly && (recordFolders || listings.some((listing) => listing?.readAhead));
    if (index && (!clean || (recordWanted && index.lacksFolderRecord(listings)))) {
      const { dir, readonly, readFile } = this;
      const patched = patchCatalog({ dir, readonly, scanStart, catalog, index, listings, recordFolders: recordWanted, isMemoryFile: isMemoryFileName, readFile });
      if (patched) ({ catalog, index: clean } = patched);
      this.catalog = catalog;
      // What a scan also does: a catalog's temporary copy left by a killed command goes.
      if (patched && !readonly) removeStaleRootTempFiles(dir, scanStart);
    }
    const source: TailSource = { read: (from, to) => catalog.read(from, to), repair: this.repairTail };
    const { from, to } = catalog.records();
    this.looked = { scanStart, catalog, listings, problems, clean, source, unindexed: !index && to > from };
    this.indexOnDisk = clean !== undefined;
    return this.looked;
  }

  /**
   * Every memory's header, by id: the folders as first scanned, with this object's writes since,
   * spooled ones included (read back from the spool into headers: asked for every header, a caller
   * gets them all).
   */
  private scan(): Map<string, FileHeader> {
    const entries = this.scanFolders();
    for (const [id, at] of this.spooled) {
      const header = this.spooledHeader(at);
      if (header) entries.set(id, header);
    }
    this.spooled.clear();
    return entries;
  }

  /** Whether memory `id` exists: a bulk write's question for each memory, answered without reading its spooled line. */
  private holds(id: string): boolean {
    return this.spooled.has(id) || this.scanFolders().has(id);
  }

  /** The header of a spooled line, its strings its own (the line read to make it can go). */
  private spooledHeader(at: number): FileHeader | undefined {
    const line = this.spool?.lineAt(at);
    const header = line ? LineSource.header(line, this.repairTail) : undefined;
    header?.rebase(this.spoolSource, at);
    return header;
  }

  /** The headers of the folders' files as scanned, with this object's writes since but not the spooled ones. */
  private scanFolders(): Map<string, FileHeader> {
    return this.entries ?? this.scanAll('headers');
  }

  /**
   * Every memory file's front matter, from the catalog where a file is unchanged and from the file
   * otherwise; unreadable files become problems, duplicate ids too. Saves the catalog if it changed,
   * with a clean index when every file was readable, settled and recorded. What it keeps: every
   * header, which it returns; or no header, only what the catalog and its clean index need, and
   * then returns the catalog it wrote, open with the index bytes it wrote (`catalog`:
   * cleanIndexScanned; undefined if it wrote none), or nothing (vouchForBulkWrite: the object is
   * being closed, and reading the index back would only add to the peak).
   */
  private scanAll(keeps: 'headers'): Map<string, FileHeader>;
  private scanAll(keeps: 'catalog'): Catalog | undefined;
  private scanAll(keeps: 'nothing'): undefined;
  private scanAll(keeps: 'headers' | 'catalog' | 'nothing'): Map<string, FileHeader> | Catalog | undefined {
    const keep = keeps === 'headers';
    const { scanStart, catalog, listings, clean, problems: folderProblems, source } = this.look();
    const cursor = catalog;
    const entries = new Map<string, FileHeader>();
    // Without the headers, the summary as it goes (a duplicate id keeps the index from being
    // written: CatalogIndex.bytesOf finds it in the id order).
    const tally = keep ? undefined : new SummaryCount();
    this.droppedTwins.clear();
    const problems: StorageProblem[] = [...folderProblems];
    // The new catalog, in reading order: runs of unchanged lines copied from the old one, new lines.
    const chunks: CatalogPart[] = [];
    let runStart = -1;
    let runEnd = -1;
    const flush = () => {
      if (runStart !== -1) chunks.push({ from: runStart, to: runEnd });
      runStart = -1;
    };
    let changed = false;
    // Each header's line: where it starts in the new catalog's records, less where its tail offsets count from.
    const placed: FileHeader[] = [];
    const deltas: number[] = [];
    let written = 0;
    // What a clean index needs; `indexable` turns false at the first file that keeps it from being clean.
    const index: Omit<IndexInput, 'summary'> = { listings, lineLengths: [], types: [], keys: new RecordKeys(), suspects: [] };
    let indexable = !problems.length;
    for (let typeIndex = 0; typeIndex < MEMORY_TYPES.length; typeIndex++) {
      const type = MEMORY_TYPES[typeIndex];
      const listing = listings[typeIndex];
      if (!listing) continue;
      const folder = this.typeDir(type);
      const { names, stats } = listing;
      // Plain concatenation: path.join costs as much as the stat itself at 10,000 files.
      const prefix = folder + sep;
      // A memory file's name (`.md`, and `md` is not hex) is never a temporary one: no pattern to try on it.
      if (names.some((name) => !name.endsWith('.md') && isTempFileName(name))) {
        indexable = false; // the listing is about to change
        if (!this.readonly) removeStaleTempFiles(folder, names, scanStart);
      }
      for (let i = 0; i < names.length; i++) {
        const file = names[i];
        if (!isMemoryFileName(file)) continue;
        // lstat: a link is never followed, so no memory file can make us read outside the context.
        const path = prefix + file;
        const kind = stats[i * FIELDS + KIND];
        if (kind < 0) {
          problems.push({ path: `${MEMORY_DIR}/${type}/${file}`, message: fsProblem(statError(kind, path)) });
          continue;
        }
        if (kind === LINK) {
          problems.push({ path: `${MEMORY_DIR}/${type}/${file}`, message: 'is a symbolic link; not followed' });
          continue;
        }
        if (kind !== FILE) continue; // a folder, a device, or removed while we looked
        const st = statAt(listing, i);
        const fields = cursor.seek(typeIndex, type, file);
        const known = fields !== -1 && cursor.take(fields, st);
        let header: FileHeader | undefined;
        let problem: string | undefined;
        let lineLength = 0;
        // Where the header's tail offsets count from: the old catalog's line, or its own line.
        let lineFrom = 0;
        let digested = false;
        if (known && settled(st, catalog.scannedAt)) {
          lineFrom = cursor.lineStart;
          problem = cursor.problem;
          if (problem === undefined) header = new FileHeader(cursor.span, cursor.cut1, cursor.cut2, cursor.cut3, type, st.size, file, undefined, source, cursor.tailStart, cursor.tailEnd);
          lineLength = cursor.lineEnd - cursor.lineStart;
          if (runStart !== -1 && runEnd === cursor.lineStart) runEnd = cursor.lineEnd;
          else {
            flush();
            runStart = cursor.lineStart;
            runEnd = cursor.lineEnd;
          }
        } else {
          const read = this.readFile(path, type, file, st, fields === -1 ? undefined : cursor.takenLine());
          itemDone(); // a file read and parsed: garbage a cold scan of 100,000 makes by the hundred MiB
          if (!read) {
            indexable = false;
            continue;
          }
          flush();
          const { line } = read;
          lineLength = line?.length ?? 0; // latin1: one byte per character
          digested = hasDigest(line);
          // Rewrite the catalog for a new or changed file, or one that can now be trusted.
          if (!known || settled(st, scanStart)) changed = true;
          header = read.header;
          problem = read.problem;
          // The line goes to the spool, where the header reads it back (a cold scan of 100,000
          // held some 30 MB of lines until the catalog was written); in memory if none can be made.
          const spool = line && !this.readonly ? this.lineSpool() : undefined;
          if (spool && line) {
            lineFrom = spool.append(line);
            header?.rebase(this.spoolSource, lineFrom);
            const last = chunks[chunks.length - 1];
            if (typeof last === 'object' && last.spool && last.to === lineFrom) last.to += lineLength;
            else chunks.push({ spool, from: lineFrom, to: lineFrom + lineLength });
          } else if (line) chunks.push(line);
        }
        if (lineLength) {
          if (header && keep) {
            placed.push(header);
            deltas.push(written - lineFrom);
          }
          written += lineLength;
        }
        if (problem !== undefined) {
          problems.push({ path: `${MEMORY_DIR}/${type}/${file}`, message: problem });
          continue;
        }
        if (indexable) {
          // A file changed within a tick of this scan is recorded as a suspect if its digest can vouch for it later.
          const suspect = lineLength > 0 && !settled(st, scanStart) && digested;
          if (suspect) index.suspects.push(index.lineLengths.length);
          if (lineLength && (suspect || settled(st, scanStart))) {
            index.lineLengths.push(lineLength);
            index.types.push(typeIndex);
            index.keys.push(header!.created, header!.id);
          } else indexable = false;
        }
        if (keep) this.addEntry(entries, header!, problems);
        else tally!.add(header!);
      }
    }
    flush();
    this.editsFrom = this.spool?.size ?? 0; // the spool's lines from here on are its own writes'
    if (cursor.skipped || cursor.rest) changed = true; // files removed or renamed since
    indexable &&= !problems.length;
    if (!this.readonly) removeStaleRootTempFiles(this.dir, scanStart);
    if (!keep) {
      if (this.readonly || !(changed || (indexable && !clean))) return undefined;
      const input = indexable ? { ...index, summary: tally!.summary() } : undefined;
      if (keeps === 'catalog') return saveAndReopenCatalog(this.dir, chunks, scanStart, catalog, input);
      saveCatalog(this.dir, chunks, scanStart, catalog, input);
      return undefined;
    }
    this.entries = entries;
    this.scanProblems = problems;
    this.scannedAt = scanStart;
    this.catalogParts = chunks;
    // Also rewritten when only the index is out of date (an entry other than a memory file changed).
    if ((changed || (indexable && !clean)) && !this.readonly) {
      const saved = saveAndReopenCatalog(this.dir, chunks, scanStart, catalog, indexable ? { ...index, summary: summarise(entries.values()) } : undefined);
      index.keys = new RecordKeys(); // written: a cold scan's 100,000 ids and dates need not wait for the function's end
      this.indexOnDisk = indexable && saved !== undefined;
      if (saved) this.entries = this.moveTo(saved, placed, deltas);
    }
    return this.entries;
  }

  /**
   * Goes on with the catalog a scan just wrote (`saved`) instead of the lines it read and the
   * catalog before it: each header of `placed` reads its rest from its line there (`deltas`: how
   * far its offsets move, less where the records start), and the lines are dropped. At 100,000
   * files with a cold catalog, that is about 30 MB a bulk command no longer holds.
   */
  private moveTo(saved: Catalog, placed: FileHeader[], deltas: number[]): Map<string, FileHeader> {
    const { from, to } = saved.records();
    const source: TailSource = { read: (a, b) => saved.read(a, b), repair: this.repairTail };
    // The lines go first, so that each header moved lets its line go, collected as the loop goes.
    this.catalogParts.length = 0;
    this.catalogParts = to > from ? [{ from, to }] : [];
    for (let i = 0; i < placed.length; i++) {
      placed[i].rebase(source, from + deltas[i]);
      itemDone();
    }
    this.catalog?.close();
    this.catalog = saved;
    // The clean index seen before described the old catalog's offsets: not to be used with this one
    // (nor is it: a scan's entries take its place until close).
    if (this.looked) this.looked = { ...this.looked, catalog: saved, source, clean: undefined };
    // The map again: its keys are the ids as they were, views into the lines.
    const entries = new Map<string, FileHeader>();
    for (const header of this.entries!.values()) entries.set(header.id, header);
    return entries;
  }

  /** Adds a scanned header; of two files with one id, the newer is kept and the other reported. */
  private addEntry(entries: Map<string, FileHeader>, header: FileHeader, problems: StorageProblem[]): void {
    const existing = entries.get(header.id);
    if (!existing) {
      entries.set(header.id, header);
      return;
    }
    // A file copied by hand, or a move interrupted by a crash: keep the newer one, report both.
    const [winner, dropped] = header.updated > existing.updated ? [header, existing] : [existing, header];
    problems.push({
      path: `${MEMORY_DIR}/${dropped.type}/${dropped.file}`,
      message: `duplicate id ${header.id} (also in ${MEMORY_DIR}/${winner.type}/${winner.file}); ignored`,
    });
    entries.set(header.id, winner);
    const twins = this.droppedTwins.get(header.id) ?? [];
    twins.push({ type: dropped.type, file: dropped.file });
    this.droppedTwins.set(header.id, twins);
  }

  /**
   * Reads one file: its header (or the problem that stops it being read) and its catalog line.
   * Undefined if the file is gone. Given the file's `previous` line, whose stat no longer matches,
   * a file whose front matter is unchanged (its digest) keeps that line's record with its new
   * stat, unparsed: after an editor appended to a thousand bodies, their headers are as they were.
   */
  readonly readFile = (path: string, type: MemoryType, file: string, st: FileStat, previous?: string): ReadFile | undefined => {
    let body: RecordBody;
    try {
      const bytes = readFileSync(path);
      const record = previous === undefined ? undefined : recordOfLine(previous);
      if (record && record.digest !== NO_DIGEST && sameFrontMatter(bytes, record.digest)) {
        const line = restatedLine(previous!, record.digestAt, st);
        const header = LineSource.header(line, this.repairTail);
        if (header) return { header, line };
      }
      const { header, derivedId, fromFrontMatter } = parseMemoryHeader(bytes.toString('utf8'), file, new Date(Math.round(st.mtimeMs)));
      body = { ...header, derivedId, digest: fromFrontMatter ? frontMatterDigest(bytes) : undefined };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT') return undefined; // removed while we looked: not a memory any more
      body = e.code ? fsProblem(e) : e.message;
    }
    const line = formatLine(type, file, st, body);
    if (typeof body === 'string') return { problem: body, line };
    // The header reads its fields from its line (which the catalog keeps), not from the parser's
    // strings: those are views into the file's text, which a header kept for the whole command
    // would keep alive (every file of a scan with a cold catalog). Without a line, copies.
    const fromLine = line === undefined ? undefined : LineSource.header(line, this.repairTail);
    if (fromLine) return { header: fromLine, line };
    const { id, title, tags, created, updated, meta, derivedId } = { ...detachedHeader(body), derivedId: body.derivedId };
    return { header: FileHeader.of({ id, title, type, tags, created, updated, meta }, st.size, file, derivedId), line };
  };

  /** `repair`, as headers call it through their TailSource (the catalog's, or a LineSource). */
  private readonly repairTail = (header: FileHeader): HeaderTail => this.repair(header);

  /**
   * A catalog line whose columns matched its file but whose rest is damaged: the file is read
   * instead (and its line replaced on close). Its eager columns are kept for this command.
   */
  private repair(header: FileHeader): HeaderTail {
    const path = join(this.typeDir(header.type), header.file);
    const key = `${header.type}/${header.file}`;
    this.catalogEdits.set(key, null); // the next command reads the file again, whatever happens here
    this.catalogDirty = true;
    this.repaired = true;
    try {
      const st = lstatSync(path);
      const read = this.readFile(path, header.type, header.file, st);
      if (read?.header) {
        if (read.line) this.catalogEdits.set(key, read.line);
        const { title, tags, meta, derivedId } = read.header;
        return { title, tags, meta, derivedId };
      }
    } catch {
      // Unreadable now: reported by the next command.
    }
    return { title: header.name, tags: [], meta: {}, derivedId: false };
  }

  /** The catalog line of a file this object just wrote; undefined if it has none (the next command parses the file again). */
  private lineOf(type: MemoryType, file: string, header: MemoryHeader, derivedId: boolean, digest?: string): string | undefined {
    try {
      const st = statSync(join(this.typeDir(type), file));
      const { id, title, tags, created, updated, meta } = header;
      return formatLine(type, file, st, { id, title, tags, created, updated, meta, derivedId, digest });
    } catch {
      return undefined;
    }
  }

  /** The spool of catalog lines, made on first use; undefined where none can be made. */
  private lineSpool(): LineSpool | undefined {
    if (!this.spool && !this.spoolFailed && !this.readonly) {
      this.spool = LineSpool.create(this.dir);
      this.spoolFailed = !this.spool;
    }
    return this.spool;
  }

  /** Flushes the files this bulk write wrote so far (their folders at its end). */
  private syncWritten(): void {
    const written = this.unsynced!;
    syncAll(written, []);
    for (const path of written) this.syncedFolders!.add(dirname(path));
    written.clear();
  }

  /** Drops a file's line from the catalog saved on close (the file was removed or moved). */
  private noteGone(type: MemoryType, file: string): void {
    this.catalogEdits.set(`${type}/${file}`, null);
    this.catalogDirty = true;
  }

  private readMemory(entry: FileHeader): Memory | undefined {
    const path = join(this.typeDir(entry.type), entry.file);
    let text: string;
    let mtime: Date;
    try {
      text = readFileSync(path, 'utf8');
      mtime = statSync(path).mtime;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw fromFsError(err, path);
    }
    return parseMemoryFile(text, entry.file, entry.type, mtime).memory;
  }

  list(query: ListQuery): ListResult {
    const clean = this.cleanIndexScanned();
    if (clean) {
      if (!query.tags?.length && (query.sort ?? 'created') === 'created') {
        const range = this.createdRange(clean, query.since, query.until);
        if (range) return this.listClean(clean, query, range);
      } else {
        const filtered = this.listCleanFiltered(clean, query);
        if (filtered) return filtered;
      }
    }
    return this.listScanned(query);
  }

  private listScanned(query: ListQuery): ListResult {
    // Newest files last in reading order (names start with the date): fed newest first, a page of
    // the newest rejects most memories at the first comparison.
    const headers = [...this.scan().values()].reverse();
    const { memories, total } = applyListQuery(headers, query);
    return { memories: memories.map((h) => (h as FileHeader).plain()), total, problems: this.problems() };
  }

  /** The catalog's clean index while it holds for this object: nothing changed on disk and no scan or write yet. */
  private cleanIndex(): CatalogIndex | undefined {
    return this.entries ? undefined : this.look().clean;
  }

  /**
   * The clean index for a reading command (list, lookup, status, doctor, the source of a migrate,
   * backup or clone), made when the catalog has none that holds and no patch could make one (a
   * context copied in, a first command, thousands of files changed): a scan that keeps no header
   * writes the catalog with its clean index, and the command goes on from that index as after a
   * warm start. A scan keeping a header of every file held them through the command: 68 MB at
   * 100,000 (a `list` 157 MiB, a migrate 188). Undefined when no clean index could be made (a file
   * unreadable or changed within a tick of the scan, a read-only context, writes of this object's
   * own) or when the catalog has lines but no index, which a scan leaves when it could not make
   * one: the caller scans, keeping the headers, as before.
   */
  private cleanIndexScanned(): CatalogIndex | undefined {
    const clean = this.cleanIndex();
    if (clean || this.entries || this.readonly || this.spool?.size || this.look().unindexed) return clean;
    const saved = this.scanAll('catalog');
    if (!saved) return undefined;
    const index = saved.readIndex();
    const { listings } = this.look();
    this.catalog?.close();
    this.catalog = saved;
    const source: TailSource = { read: (a, b) => saved.read(a, b), repair: this.repairTail };
    // The lines the scan spooled are in the catalog now.
    this.spool?.close();
    this.spool = undefined;
    this.editsFrom = 0;
    // Its suspects (files changed within a tick of the scan) were read by this very scan: they are
    // for the next command to check, as after a scan that keeps the headers. (Looking at the
    // folders again instead, as the next command does, cost a list at 100,000 19 MiB more.)
    const usable = index?.matches(listings) ? index : undefined;
    this.looked = { ...this.looked!, catalog: saved, source, clean: usable };
    this.indexOnDisk = usable !== undefined;
    return usable;
  }

  /** The header of record `r` of the clean index; undefined if its line does not parse (the catalog was damaged under us). */
  private cleanHeader(clean: CatalogIndex, r: number): FileHeader | undefined {
    const { catalog, source } = this.look();
    return FileHeader.ofLine(catalog.read(clean.lineStart(r), clean.lineEnd(r)), clean.lineStart(r), source);
  }

  /**
   * A list with filters (tags, --since, --until) or in another order (updated, title) from the
   * clean index, keeping no header but those shown. The dates bound a range of the index's date
   * order (a binary search); every record of the wanted types in it is read in file order, through
   * the catalog's window, skipped at once when its line lacks a wanted tag's text, and otherwise
   * given to applyListQuery, which keeps the best `limit` (as it does for the scan's headers).
   * Undefined when a line does not parse (the scan decides). The scan it replaces kept a header of
   * every file: at 100,000, a `list --tag` took 0.55 s and 133 MiB, a `list --sort title` 1 s and
   * 166 MiB.
   */
  private listCleanFiltered(clean: CatalogIndex, query: ListQuery): ListResult | undefined {
    const wanted = new Set((query.types ?? DEFAULT_LIST_TYPES).map((t) => MEMORY_TYPES.indexOf(t)));
    const needles = (query.tags ?? []).map(tagInLine);
    const range = this.createdRange(clean, query.since, query.until);
    if (!range) return undefined;
    const { from, to } = range;
    const inRange = new Uint8Array(clean.records);
    for (let k = from; k < to; k++) inRange[clean.byCreated(k)] = 1;
    const { catalog, source } = this.look();
    let damaged = false;
    function* candidates(): Generator<FileHeader> {
      for (let r = 0; r < clean.records; r++) {
        if (!inRange[r] || !wanted.has(clean.typeOf(r))) continue;
        const start = clean.lineStart(r);
        const line = catalog.read(start, clean.lineEnd(r));
        if (!needles.every((needle) => line.includes(needle))) continue;
        const header = FileHeader.ofLine(line, start, source);
        if (!header) {
          damaged = true;
          return;
        }
        yield header;
      }
    }
    const { memories, total } = applyListQuery(candidates(), query);
    if (damaged) return undefined;
    return { memories: memories.map((h) => (h as FileHeader).plain()), total, problems: [] };
  }

  /**
   * The places in the date order (newest first) of the records created from `since` to `until`
   * (both inclusive), found by halving; undefined if a line it reads does not parse.
   */
  private createdRange(clean: CatalogIndex, since: string | undefined, until: string | undefined): { from: number; to: number } | undefined {
    const first = (after: (created: string) => boolean): number | undefined => {
      let lo = 0;
      let hi = clean.records;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const created = this.cleanHeader(clean, clean.byCreated(mid))?.created;
        if (created === undefined) return undefined;
        if (after(created)) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    const from = until ? first((created) => created > until) : 0;
    const to = since ? first((created) => created >= since) : clean.records;
    return from === undefined || to === undefined ? undefined : { from, to };
  }

  /**
   * A list by creation date from the clean index: the records of `range` in that order, each line
   * read only if shown (applyListQuery's order and counts, without a header per memory; a page of
   * a consolidation's plan reads only its own lines, not those of every older memory).
   */
  private listClean(clean: CatalogIndex, query: ListQuery, { from, to }: { from: number; to: number }): ListResult {
    const wanted = (query.types ?? DEFAULT_LIST_TYPES).map((t) => MEMORY_TYPES.indexOf(t));
    let total = 0;
    if (from === 0 && to === clean.records) total = wanted.reduce((sum, t, i) => (wanted.indexOf(t) === i ? sum + clean.counts[MEMORY_TYPES[t]] : sum), 0);
    else for (let k = from; k < to; k++) if (wanted.includes(clean.typeOf(clean.byCreated(k)))) total++;
    const limit = Math.min(query.limit ?? total, total);
    const memories: MemoryHeader[] = [];
    for (let k = 0; k < to - from && memories.length < limit; k++) {
      const r = clean.byCreated(query.reverse ? to - 1 - k : from + k);
      if (!wanted.includes(clean.typeOf(r))) continue;
      const header = this.cleanHeader(clean, r);
      if (!header) return this.listScanned(query); // the whole scan decides
      memories.push(header.plain());
    }
    return { memories, total, problems: [] };
  }

  lookup(ref: string): MemoryHeader[] {
    const clean = this.cleanIndexScanned();
    if (clean) {
      // By id or id prefix; then, when none matched (and no line was damaged), by file name.
      const found = this.lookupClean(clean, ref);
      if (found?.length) return found.map((h) => h.plain());
      const named = found && this.lookupCleanByName(clean, ref.endsWith('.md') ? ref : `${ref}.md`);
      if (named) return named.map((h) => h.plain());
    }
    const entries = this.scan();
    const exact = entries.get(ref);
    if (exact) return [exact.plain()];
    const lower = ref.toLowerCase();
    const byPrefix = [...entries.values()].filter((e) => e.id.toLowerCase().startsWith(lower));
    if (byPrefix.length) return byPrefix.map((e) => e.plain());
    const file = ref.endsWith('.md') ? ref : `${ref}.md`;
    return [...entries.values()].filter((e) => e.file === file).map((e) => e.plain());
  }

  /**
   * The memories whose id is `ref` (then only that one) or starts with it, ignoring case, as the
   * scan's lookup finds them (in reading order), by a binary search of the clean index's id order;
   * none when none does, and undefined when a line does not parse (the scan decides).
   */
  private lookupClean(clean: CatalogIndex, ref: string): FileHeader[] | undefined {
    const lower = ref.toLowerCase();
    const idAt = (k: number) => this.cleanHeader(clean, clean.byId(k))?.id.toLowerCase();
    let lo = 0;
    let hi = clean.records;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const id = idAt(mid);
      if (id === undefined) return undefined;
      if (id < lower) lo = mid + 1;
      else hi = mid;
    }
    const found: Array<{ r: number; header: FileHeader }> = [];
    for (let k = lo; k < clean.records; k++) {
      const r = clean.byId(k);
      const header = this.cleanHeader(clean, r);
      if (!header) return undefined;
      if (!header.id.toLowerCase().startsWith(lower)) break;
      if (header.id === ref) {
        this.cleanNext = { of: clean, k: k + 1 }; // where a read of the next id in order looks first (cleanById)
        return this.keepFound([header]);
      }
      found.push({ r, header });
    }
    return this.keepFound(found.sort((a, b) => a.r - b.r).map((f) => f.header));
  }

  /**
   * Memory `id` through the clean index's id order: first the record after the last one found (a
   * caller going through ids in order, as a migrate's check of its copy does, finds each at once,
   * holding nothing per memory), then by a binary search while fewer than CLEAN_LOOKUPS were made.
   * Null when the search finds no such memory (the clean index holds every one); undefined when
   * not searched or a line does not parse (the scan decides).
   */
  private cleanById(clean: CatalogIndex, id: string): FileHeader | null | undefined {
    const next = this.cleanNext?.of === clean ? this.cleanNext.k : clean.records;
    const header = next < clean.records ? this.cleanHeader(clean, clean.byId(next)) : undefined;
    if (header?.id === id) {
      this.cleanNext = { of: clean, k: next + 1 };
      return header;
    }
    if (this.cleanSearches++ >= CLEAN_LOOKUPS) return undefined;
    const found = this.lookupClean(clean, id); // places cleanNext after the one found
    return found && (found.find((h) => h.id === id) ?? null);
  }

  /**
   * The memories whose file is named `file`, one type folder at a time, by a binary search of the
   * records' reading order (type, then file name, in JavaScript's order: the listing's); undefined
   * when a line does not parse. A `show` by name at 100,000 scanned every file (0.5 s, 129 MiB).
   */
  private lookupCleanByName(clean: CatalogIndex, file: string): FileHeader[] | undefined {
    const found: FileHeader[] = [];
    for (const [t, type] of MEMORY_TYPES.entries()) {
      let lo = 0;
      let hi = clean.records;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const header = this.cleanHeader(clean, mid);
        if (!header) return undefined;
        const at = MEMORY_TYPES.indexOf(header.type);
        if (at < t || (at === t && header.file < file)) lo = mid + 1;
        else hi = mid;
      }
      if (lo === clean.records) continue;
      const header = this.cleanHeader(clean, lo);
      if (!header) return undefined;
      if (header.type === type && header.file === file) found.push(header);
    }
    return this.keepFound(found);
  }

  /** Headers found through the clean index, kept so that read() of them needs no scan either. */
  private keepFound(headers: FileHeader[]): FileHeader[] {
    for (const header of headers) this.cleanFound.set(header.id, header);
    return headers;
  }

  read(id: string): Memory | undefined {
    const entry = this.entryOf(id);
    return entry ? this.readMemory(entry) : undefined;
  }

  /**
   * The header of memory `id`: from the clean index while it holds (no scan: a read, update or
   * delete at 10,000 memories then reads one file), else the scan's. A write changes a folder, so
   * after it this object no longer trusts what it saw (see forgetLook).
   */
  private entryOf(id: string): FileHeader | undefined {
    const clean = this.cleanIndex();
    const known = clean && this.cleanFound.get(id);
    if (known) return known;
    // A loop over many memories in no order (a restore reading each one it may replace) scans once instead.
    const found = clean ? this.cleanById(clean, id) : undefined;
    if (found !== undefined) return found ?? undefined;
    const at = this.spooled.get(id);
    return at === undefined ? this.scanFolders().get(id) : this.spooledHeader(at);
  }

  /** entryOf, for a change to the memory: a header read from the spool is kept among the entries from now on. */
  private entryToChange(id: string): FileHeader | undefined {
    const entry = this.entryOf(id);
    if (entry && this.spooled.delete(id)) this.entries?.set(entry.id, entry);
    return entry;
  }

  /** After a write without a scan: the folders and the clean index seen before it are out of date for this object. */
  private forgetLook(): void {
    if (this.entries) return; // the scan's entries are kept current by the writes themselves
    this.looked = undefined;
    this.cleanFound.clear();
    this.cleanNext = undefined;
  }

  /** `memory` or `memory/<type>` when one is a symbolic link (never followed: it may lead outside). */
  private linkedFolder(type: MemoryType): string | undefined {
    for (const rel of [MEMORY_DIR, `${MEMORY_DIR}/${type}`]) {
      try {
        if (lstatSync(join(this.dir, rel)).isSymbolicLink()) return rel;
      } catch {
        return undefined; // missing: nothing to follow
      }
    }
    return undefined;
  }

  /**
   * A new memory's file name: the name it had in another backend when it carries a safe one that is
   * free in its folder (so a REF by name survives a migration), else the shared naming rule.
   */
  private fileNameFor(memory: StoredMemory): string {
    const kept = memory.name;
    if (isKeepableName(kept) && !existsSync(join(this.typeDir(memory.type), `${kept}.md`))) return `${kept}.md`;
    return `${memoryName(memory)}.md`;
  }

  private writeFile(type: MemoryType, file: string, memory: Memory): MemoryHeader {
    const folder = this.typeDir(type);
    // A bulk write checks each folder once (two lstats and a mkdir per file were a tenth of a restore).
    if (!this.checkedFolders?.has(type)) {
      const linked = this.linkedFolder(type);
      if (linked) throw new InvalidInputError(`${join(this.dir, linked)} is a symbolic link; whitemagic does not write through links`, 'make it a real folder');
      mkdirSync(folder, { recursive: true, mode: DIR_MODE });
      this.checkedFolders?.add(type);
    }
    const path = join(folder, file);
    // Encoded once: written, measured and digested from the same bytes.
    const bytes = Buffer.from(serialiseMemory(memory), 'utf8');
    try {
      if (this.unsynced) {
        writeFileForBatch(path, bytes, FILE_MODE);
        this.unsynced.add(path);
      } else {
        writeFileAtomic().sync(path, bytes, { mode: FILE_MODE });
      }
    } catch (err) {
      throw fromFsError(err, path);
    }
    const { content: _content, ...rest } = memory;
    void _content;
    const header: MemoryHeader = { ...rest, name: file.slice(0, -3), bytes: bytes.length };
    if (this.unsynced && this.unsynced.size >= bulkSync.batch) this.syncWritten();
    if (this.entries) {
      const { id, title, tags, created, updated, meta } = header;
      this.catalogDirty = true; // saved on close
      // The front matter written holds the title and creation time: its digest vouches for the record.
      const line = this.lineOf(type, file, header, false, frontMatterDigest(bytes));
      const spool = line && this.unsynced ? this.lineSpool() : undefined;
      if (spool && line) {
        // A bulk write keeps the line on disk, and of the memory only where its line is.
        this.spooled.set(detach(id), spool.append(line));
        this.entries.delete(id);
        this.catalogEdits.delete(`${type}/${file}`); // the spooled line is newer (mergeLines)
      } else {
        this.catalogEdits.set(`${type}/${file}`, line ?? null);
        this.spooled.delete(id);
        // Like a file read by a scan, the header reads its fields from its catalog line when it has one.
        this.entries.set(id, (line && LineSource.header(line, this.repairTail)) || FileHeader.of({ id, title, type, tags, created, updated, meta }, header.bytes, file, false));
      }
    }
    return header;
  }

  insert(memory: StoredMemory, options: InsertOptions = {}): MemoryHeader {
    // A fresh id cannot be in use, so a lone create skips reading the folders; the name is still checked.
    if (options.freshId && !this.entries) {
      const file = `${memoryName(memory)}.md`;
      if (existsSync(join(this.typeDir(memory.type), file))) throw new ConflictError(`a memory named ${file} exists already`);
      this.forgetLook(); // what it saw is out of date now
      return this.writeFile(memory.type, file, memory);
    }
    if (this.holds(memory.id)) throw new ConflictError(`a memory with id ${memory.id} exists already`);
    return this.writeFile(memory.type, this.fileNameFor(memory), memory);
  }

  update(memory: Memory): MemoryHeader {
    const entry = this.entryToChange(memory.id);
    if (!entry) throw new NotFoundError(`memory not found: ${memory.id}`);
    // The file keeps its name when its type changes, so an interrupted move is finished by a rerun.
    const header = this.writeFile(memory.type, entry.file, memory);
    if (entry.type !== memory.type) {
      const old = join(this.typeDir(entry.type), entry.file);
      // Until the new file is on disk, the old one stays; the scan prefers the newer `updated`.
      if (this.unsynced) this.movedFrom.push(old);
      else this.unlinkQuiet(old);
      this.noteGone(entry.type, entry.file);
    }
    this.finishInterruptedMove(memory.id, entry.file);
    this.forgetLook();
    return header;
  }

  /**
   * A move killed between writing the new file and unlinking the old one leaves the old file (same
   * name, older `updated`) in another folder; the scan ignores it, and the next update of that
   * memory removes it. A duplicate under another name was made by hand and is left to the user.
   */
  private finishInterruptedMove(id: string, file: string): void {
    const twins = this.droppedTwins.get(id);
    if (!twins) return;
    for (const twin of twins.filter((t) => t.file === file)) {
      this.unlinkQuiet(join(this.typeDir(twin.type), twin.file));
      this.noteGone(twin.type, twin.file);
      const rel = `${MEMORY_DIR}/${twin.type}/${twin.file}`;
      this.scanProblems = this.scanProblems.filter((p) => p.path !== rel);
    }
    this.droppedTwins.delete(id);
  }

  remove(id: string): boolean {
    const entry = this.entryToChange(id);
    if (!entry) return false;
    this.unlinkQuiet(join(this.typeDir(entry.type), entry.file));
    this.entries?.delete(id);
    this.noteGone(entry.type, entry.file);
    this.forgetLook();
    return true;
  }

  private unlinkQuiet(path: string): void {
    try {
      unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fromFsError(err, path);
    }
  }

  *readAll(): Iterable<Memory> {
    for (const { memory } of this.readEach()) yield memory;
  }

  *readAllStored(): Iterable<StoredMemory> {
    for (const { entry, memory } of this.readEach()) yield { ...memory, name: entry.name };
  }

  /**
   * Every memory read from its file, in id order, with the header it was found by. From the clean
   * index when it holds: its id order names each file, and no header is made for every memory
   * before the first is read (at 100,000 memories, some 50 MiB a bulk read held throughout).
   * `wanted`: the ids whose files are read (every one when not given).
   */
  private *readEach(wanted?: (id: string) => boolean): Iterable<{ entry: FileHeader; memory: Memory }> {
    const clean = this.cleanIndexScanned();
    let after: string | undefined;
    if (clean) {
      let k = 0;
      for (; k < clean.records; k++) {
        const entry = this.cleanHeader(clean, clean.byId(k));
        if (!entry) break; // a line that does not parse: the scan decides the rest
        after = entry.id;
        if (wanted && !wanted(entry.id)) continue;
        const memory = this.readMemory(entry);
        if (memory) yield { entry, memory };
      }
      if (k === clean.records) return;
    }
    // By id, and a header read for each in turn: after a bulk write its memories' headers are in
    // the spool (a migrate's check of its copy read 100,000 back into memory at once).
    const ids = [...this.scanFolders().keys(), ...this.spooled.keys()].filter((id) => (after === undefined || id > after) && (!wanted || wanted(id))).sort();
    for (const id of ids) {
      const entry = this.entryOf(id);
      const memory = entry && this.readMemory(entry);
      if (memory) yield { entry, memory };
    }
  }

  /**
   * Each file is still written whole (temporary file, rename), so a reader or a killed process
   * never sees a part; the fsyncs are done together, bulkSync.batch files at a time and the rest before
   * this returns. Of each file written it keeps the id and where its catalog line is in the spool
   * (line-spool.ts): the catalog is written from the spool on close.
   */
  insertMany(memories: Iterable<StoredMemory>, onConflict: 'fail' | 'skip' | 'replace' = 'fail'): BulkResult {
    if (this.unsynced) return this.insertEach(memories, onConflict);
    this.unsynced = new Set();
    this.syncedFolders = new Set();
    this.checkedFolders = new Set();
    try {
      return this.insertEach(memories, onConflict);
    } finally {
      const written = this.unsynced;
      const moved = this.movedFrom;
      const folders = this.syncedFolders;
      this.unsynced = undefined;
      this.syncedFolders = undefined;
      this.checkedFolders = undefined;
      this.movedFrom = [];
      for (const path of written) folders.add(dirname(path));
      syncAll(written, folders);
      for (const old of moved) this.unlinkQuiet(old);
      syncAll([], new Set(moved.map((path) => dirname(path))));
    }
  }

  private insertEach(memories: Iterable<StoredMemory>, onConflict: 'fail' | 'skip' | 'replace'): BulkResult {
    return insertEach(memories, onConflict, {
      has: (id) => this.holds(id),
      insert: (m) => this.insert(m),
      update: (m) => this.update(m),
    });
  }

  summary(): StorageSummary {
    const clean = this.cleanIndexScanned();
    if (clean) {
      const { counts, tags, bytes } = clean.summary;
      return { counts: { ...counts }, tags: { ...tags }, bytes };
    }
    return summarise(this.scan().values());
  }

  problems(): StorageProblem[] {
    // The clean index is only written by a scan that found no problem, and still matches the folders.
    if (this.cleanIndexScanned()) return [];
    this.scan();
    return [...this.scanProblems];
  }

  /** The derived search index (search-index.ts), opened on first use. */
  private searchIndex(): MarkdownSearchIndex {
    this.index ??= MarkdownSearchIndex.open(this.dir, isMemoryFileName, { inMemory: this.readonly });
    return this.index;
  }

  search(query: SearchQuery): SearchResult {
    // A context that does not exist yet (the implicit default) has nothing to search: create nothing.
    if (!existsSync(join(this.dir, MEMORY_DIR))) return { hits: [], total: 0, problems: [] };
    const index = this.searchIndex();
    const problems = index.sync();
    // A catalog that records no folder (an earlier version's) is written again with the records,
    // once, as a list would: later reads ahead then take the folders' names from it (docs/storage.md).
    // Not one that left out a folder that had just changed: that would patch the catalog in the
    // first search after every create (the next list records it).
    if (index.unrecordedFolders && !this.readonly) this.look(true);
    return { ...index.search(query), problems };
  }

  reindex(onIndexed?: IndexProgress): ReindexResult {
    return { indexed: this.searchIndex().rebuild(onIndexed) };
  }

  checkIndex(): IndexCheck {
    if (!existsSync(join(this.dir, INDEX_FILE))) return { present: false, pending: this.cleanIndexScanned()?.records ?? this.scan().size, drift: [] };
    const self = this;
    // Each file's id, type and name: from the clean index while its lines parse (no header kept per
    // file), then the scan's (a file given twice is harmless: the check only notes each one's id).
    function* onDisk(): Iterable<{ id: string; type: MemoryType; name: string }> {
      const clean = self.cleanIndexScanned();
      if (clean) {
        let r = 0;
        for (; r < clean.records; r++) {
          const header = self.cleanHeader(clean, r);
          if (!header) break;
          yield { id: header.id, type: header.type, name: header.file };
        }
        if (r === clean.records) return;
      }
      for (const entry of self.scan().values()) yield { id: entry.id, type: entry.type, name: entry.file };
    }
    // The memories one at a time, as a bulk read reads them (readEach: from the clean index when it
    // holds), and no file of those the check does not compare.
    function* memories(compare: (id: string) => boolean): Iterable<Memory> {
      for (const { memory } of self.readEach(compare)) {
        itemDone();
        yield memory;
      }
    }
    // The folders as this command listed them (its scan's, or its catalog's check): listing them
    // again for the index held a second copy of every name (at 100,000 files, 11 MB of doctor's peak).
    return this.searchIndex().check(onDisk, memories, this.look().listings);
  }

  /**
   * After a bulk write's catalog is saved: its records date from this object's scan, from before
   * its writes, so the next command would read every file written again, keeping a header for
   * every file of the context (a list after a restore of 100,000: 2.6 s and 159 MiB). A scan
   * keeping no header does it now: each file written is read (its front matter's digest against
   * its line, not parsed), and the catalog written again with its clean index (files written
   * within a tick of it as suspects, which the next command checks), so the next command reads
   * none of them. A catalog is a cache: if this fails, the next command scans as before.
   */
  private vouchForBulkWrite(): void {
    this.looked = undefined;
    this.entries = undefined;
    loopDone(); // the write's garbage (and the merge's) goes before this scan makes its own
    try {
      this.scanAll('nothing');
    } catch {
      // Left to the next command.
    } finally {
      this.spool?.close();
      this.spool = undefined;
      this.catalog?.close();
      this.catalog = undefined;
    }
  }

  /**
   * Writes the catalog: the scan's parts, this object's edits and the spool merged (mergeLines).
   * A method of its own so that the merged parts go when it returns: after a bulk write whose lines
   * are not in file-name order (a restore's, in the backup's order) they are one object a line, and
   * in close()'s own frame the interpreter kept them alive through the scan that vouches for the
   * write (restore-backup at 100,000: some 5 MB of its peak).
   */
  private saveMergedCatalog(): void {
    // Served from the clean index until now (a repaired line, say): scan, so the catalog written
    // below has every line and not only the repaired one.
    if (!this.entries) this.scan();
    const catalog = this.catalog!;
    // What the merge needs is in the parts, the edits and the spool: the headers can go first.
    this.entries = undefined;
    this.spooled.clear();
    saveCatalog(this.dir, mergeLines(this.catalogParts, catalog, this.catalogEdits, this.spool, this.editsFrom), this.scannedAt, catalog);
  }

  close(): void {
    // A few writes of its own (a create, update, delete, move) leave the catalog as the folders were
    // before them, clean index and all: the next command reads the files written (catalog-patch.ts),
    // which is far cheaper than the scan a catalog without its index would cost it. Many (a bulk
    // write) or a repaired line: the catalog is saved with the lines.
    const few = this.indexOnDisk && !this.repaired && this.catalogEdits.size <= FEW_WRITES && !this.spool?.size;
    const save = this.catalogDirty && !this.readonly && !few;
    const bulkWrite = this.spool !== undefined && this.editsFrom < this.spool.size;
    if (save) this.saveMergedCatalog();
    this.catalogParts = [];
    this.spool?.close();
    this.spool = undefined;
    this.spooled.clear();
    this.catalog?.close();
    this.catalog = undefined;
    if (save && bulkWrite) this.vouchForBulkWrite();
    this.spoolFailed = false;
    this.editsFrom = 0;
    this.catalogDirty = false;
    this.cleanSearches = 0;
    this.repaired = false;
    this.indexOnDisk = false;
    this.catalogEdits.clear();
    this.entries = undefined;
    this.looked = undefined;
    this.cleanFound.clear();
    this.cleanNext = undefined;
    this.index?.close();
    this.index = undefined;
  }
}

/** Whether a new catalog line holds a front-matter digest. */
function hasDigest(line: string | undefined): boolean {
  return line !== undefined && (recordOfLine(line)?.digest ?? NO_DIGEST) !== NO_DIGEST;
}

/** Flushes files, then folders (those of files written, renamed or removed: so renames and unlinks are durable too). */
function syncAll(paths: Iterable<string>, folders: Iterable<string>): void {
  try {
    fsyncMany(paths, folders);
  } catch (err) {
    throw fromFsError(err, (err as NodeJS.ErrnoException).path ?? dirname([...folders][0] ?? ''));
  }
}
