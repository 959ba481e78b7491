import { readFileSync, rmSync, statSync, closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { MEMORY_TYPES, type Memory, type MemoryType } from '../../memory/types.js';
import { SearchIndex } from '../../search/fts.js';
import { keepWalFiles } from '../../search/rank.js';
import { onePassCache, openSqlite } from '../sqlite/driver.js';
import { expectFiles, itemDone, loopDone } from '../../util/heap.js';
import type { IndexCheck, IndexDrift, SearchQuery, SearchResult } from '../../search/types.js';
import type { IndexProgress, StorageProblem } from '../types.js';
import { parseMemoryFile } from './file-format.js';
import { settledAt } from './file-times.js';
import { FIELDS, FILE, KIND, MEMORY_DIR, MTIME, SIZE, joinedNames, listingDigest, readTypeFolders, type FolderListing } from './folder-listing.js';

/**
 * The markdown backend's search index: a derived, disposable SQLite file inside the context
 * (`.index.db`), never in a backup; deleting it loses nothing. Before each search it is brought up
 * to date from what changed on disk: every memory file's size and mtime are compared with what the
 * index recorded, only changed files are read again, vanished ones are dropped. So hand edits are
 * always seen and a search reads no file that did not change.
 *
 * better-sqlite3 is loaded here, on first use, so create/show/list never load it.
 */

/** The index file, at the root of the context. */
export const INDEX_FILE = '.index.db';
/** Bump when the index's tables change: an index of another version is rebuilt. */
const INDEX_VERSION = 3;

/**
 * What the problems check (fileProblems) reads: the files that cannot be read, and the readable
 * ones by id (for ids more than one file holds), each a small partial index instead of a pass over
 * every row (at 100,000 files 20 and 50 ms of every sync that found a change, now under 15 in
 * all). Made with the tables, and by the first sync of an index made before them.
 */
const PROBLEM_INDEXES = `
CREATE INDEX IF NOT EXISTS files_error ON files (path) WHERE error IS NOT NULL;
CREATE INDEX IF NOT EXISTS files_readable_id ON files (id) WHERE error IS NULL;
`;

const FILES_SCHEMA = `
CREATE TABLE IF NOT EXISTS files (
  path TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  name TEXT NOT NULL,
  size INTEGER NOT NULL,
  mtime REAL NOT NULL,
  id TEXT,
  updated TEXT,
  error TEXT
);
CREATE INDEX IF NOT EXISTS files_id ON files (id);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
${PROBLEM_INDEXES}`;

type Database = BetterSqlite3.Database;

/** A memory file as found on disk. */
interface DiskFile {
  /** Relative to the context: `memory/<type>/<name>`. */
  path: string;
  type: MemoryType;
  name: string;
  size: number;
  mtime: number;
  /** The id the index's row for this path held, when it has one (the file changed since); null for a file it could not read. */
  oldId?: string | null;
  /** That row was recorded as changed just now (mtime -1), at this same size: told apart by content, not by its stat. */
  racy?: boolean;
}

interface FileRow {
  path: string;
  type: MemoryType;
  name: string;
  size: number;
  mtime: number;
  id: string | null;
  updated: string | null;
  error: string | null;
}


const TYPE_ORDER: Record<MemoryType, number> = Object.fromEntries(MEMORY_TYPES.map((t, i) => [t, i])) as Record<MemoryType, number>;

/**
 * The memory files of one type folder with their sizes and mtimes, kept as the folder listing
 * and two number arrays: the listing is compared as a whole first, and objects per file are only
 * made when it changed.
 */
interface TypeListing {
  type: MemoryType;
  names: string[];
  sizes: Float64Array;
  mtimes: Float64Array;
}

/**
 * The three folders as listed now (MEMORY_TYPES order; undefined for a missing or linked folder),
 * and unreadable folders. Like the backend, it follows no link: a linked folder or file is not read.
 */
function readListings(dir: string, isMemoryFileName: (name: string) => boolean): { listings: Array<FolderListing | undefined>; problems: StorageProblem[] } {
  // A link is skipped without a word here: the backend's own read reports it.
  const { listings, failures } = readTypeFolders(dir, isMemoryFileName, expectFiles);
  const problems = failures.map(({ rel, error }) => ({ path: rel, message: error.code === 'ENOTDIR' ? 'is not a directory' : error.message }));
  return { listings, problems };
}

/** The memory files of each listed folder with their sizes and mtimes (objects per file are made only here). */
function typeListings(listings: Array<FolderListing | undefined>, isMemoryFileName: (name: string) => boolean): TypeListing[] {
  const folders: TypeListing[] = [];
  listings.forEach((listing, t) => {
    if (!listing) return;
    const { names: all, stats } = listing;
    const names: string[] = [];
    const sizes = new Float64Array(all.length);
    const mtimes = new Float64Array(all.length);
    for (let i = 0; i < all.length; i++) {
      const at = i * FIELDS;
      if (stats[at + KIND] !== FILE || !isMemoryFileName(all[i])) continue;
      sizes[names.length] = stats[at + SIZE];
      mtimes[names.length] = stats[at + MTIME];
      names.push(all[i]);
    }
    folders.push({ type: MEMORY_TYPES[t], names, sizes: sizes.subarray(0, names.length), mtimes: mtimes.subarray(0, names.length) });
  });
  return folders;
}

/**
 * What a sync must take into the index: the files new or changed since the rows the index holds
 * (`files()` makes their objects one at a time: a rebuild of 100,000 held them all, with a set of
 * every path), how many, and the path and id of each removed file's row.
 */
interface ChangedFiles {
  files: () => Iterable<DiskFile>;
  count: number;
  removed: Array<{ path: string; id: string | null }>;
  /** The new and changed files as `files` gives them, by folder `k` and place `i` in it, without an object or a path made for each (doctor's check of a context copied in). */
  each: (visit: (k: number, i: number, oldId: string | null | undefined, racy: boolean) => void) => void;
}

/** Where each listed name is, by type: its folder's place in `folders` and its own in the folder. */
function nameIndex(folders: TypeListing[]): Map<MemoryType, { k: number; byName: Map<string, number> }> {
  return new Map(
    folders.map((folder, k) => {
      // Set one by one: a pair array per name first was 5 MB of garbage at 100,000 files.
      const byName = new Map<string, number>();
      folder.names.forEach((name, i) => byName.set(name, i));
      return [folder.type, { k, byName }];
    }),
  );
}

/** What changedFiles reads of each row: type, name, size, mtime, id (an array: no object per row). */
type RowStat = [MemoryType, string, number, number, string | null];

/**
 * The files changed between the folders as listed now and the index's rows, which are read one at
 * a time (`rowStats`): each is looked up among the listed names of its type and dropped, unless
 * its file changed or is gone; of those, only the id is kept (and whether the row was racy). Holding
 * every row (100,000 objects at 100,000 memories) made the first search after a create 1.4 s and
 * 220 MiB; holding the whole rows of changed files, a doctor of a context copied in (every file's
 * mtime new) 215 MiB. `at`: the folders' nameIndex, when the caller looks names up in it too.
 */
function changedFiles(folders: TypeListing[], rowStats: Iterable<RowStat>, at = nameIndex(folders)): ChangedFiles {
  const removed: ChangedFiles['removed'] = [];
  // Per listed file: 0 no row seen yet (new), 1 a row and the same stat, 2 a row and another stat
  // (its id in oldIds), 3 as 2, of a row recorded as changed just now at the same size.
  const flags = folders.map((folder) => new Uint8Array(folder.names.length));
  // Made for a folder at its first changed row, as long as the folder (ids set out of order into an
  // empty array would make it a dictionary).
  const oldIds: Array<Array<string | null> | undefined> = folders.map(() => undefined);
  for (const [type, name, size, mtime, id] of rowStats) {
    const folder = at.get(type);
    const i = folder?.byName.get(name);
    if (folder === undefined || i === undefined) {
      removed.push({ path: `${MEMORY_DIR}/${type}/${name}`, id });
      continue;
    }
    const { k } = folder;
    const { sizes, mtimes } = folders[k];
    if (size === sizes[i] && mtime === mtimes[i]) flags[k][i] = 1;
    else {
      flags[k][i] = mtime === -1 && size === sizes[i] ? 3 : 2;
      (oldIds[k] ??= new Array<string | null>(folders[k].names.length))[i] = id;
    }
  }
  let count = 0;
  for (const f of flags) for (let i = 0; i < f.length; i++) if (f[i] !== 1) count++;
  function* files(): Iterable<DiskFile> {
    for (let k = 0; k < folders.length; k++) {
      const { type, names, sizes, mtimes } = folders[k];
      for (let i = 0; i < names.length; i++) {
        const flag = flags[k][i];
        if (flag === 1) continue;
        const file: DiskFile = { path: `${MEMORY_DIR}/${type}/${names[i]}`, type, name: names[i], size: sizes[i], mtime: mtimes[i] };
        if (flag !== 0) {
          file.oldId = oldIds[k]![i];
          file.racy = flag === 3;
        }
        yield file;
      }
    }
  }
  const each: ChangedFiles['each'] = (visit) => {
    flags.forEach((flag, k) => {
      for (let i = 0; i < flag.length; i++) if (flag[i] !== 1) visit(k, i, oldIds[k]?.[i], flag[i] === 3);
    });
  };
  return { files, count, removed, each };
}

function sqliteCode(err: unknown): string {
  return String((err as { code?: unknown })?.code ?? '');
}

/** The derived search index of one markdown context. */
export class MarkdownSearchIndex {
  private readonly fts: SearchIndex;
  /**
   * Set by sync: the folders were read ahead with a catalog whose clean index records none of
   * them (FolderListing.unrecorded); the backend then has the catalog written again with them.
   */
  unrecordedFolders = false;

  private constructor(
    readonly dir: string,
    private readonly db: Database,
    private readonly isMemoryFileName: (name: string) => boolean,
  ) {
    this.fts = new SearchIndex(db);
  }

  /**
   * Opens (creating if needed) the index of the context at `dir`. An index of another version, or
   * one SQLite finds corrupt, is deleted and rebuilt; where the context cannot be written, the
   * index lives in memory for this command (as it does for a backend opened read-only).
   */
  static open(dir: string, isMemoryFileName: (name: string) => boolean, options: { inMemory?: boolean } = {}): MarkdownSearchIndex {
    const path = join(dir, INDEX_FILE);
    const attempt = (file: string): Database => {
      if (file !== ':memory:') closeSync(openSync(file, 'a', 0o600)); // owner-only from the start
      const db = openSqlite(file, { timeout: 10_000 });
      try {
        if (file !== ':memory:') {
          db.pragma('journal_mode = WAL');
          // The -wal and -shm files stay beside the index between commands, the WAL emptied at
          // close rather than deleted: SQLite's default, making both at open and deleting them at
          // close, was four file operations of every search and forty of a federated search over
          // ten contexts (about 1 ms of each). Emptied, a WAL left behind holds nothing to recover.
          db.pragma('journal_size_limit = 0');
          keepWalFiles(db);
        }
        db.pragma('synchronous = NORMAL');
        const version = db.pragma('user_version', { simple: true }) as number;
        if (version !== INDEX_VERSION) {
          if (version !== 0) throw Object.assign(new Error('index of another version'), { code: 'WM_REBUILD' });
          db.transaction(() => {
            db.exec(FILES_SCHEMA);
            SearchIndex.ensureSchema(db);
            db.pragma(`user_version = ${INDEX_VERSION}`);
          }).immediate();
        }
        return db;
      } catch (err) {
        db.close();
        throw err;
      }
    };
    let db: Database;
    try {
      db = attempt(options.inMemory ? ':memory:' : path);
    } catch (err) {
      const code = sqliteCode(err);
      if (code === 'WM_REBUILD' || code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') {
        removeIndexFiles(dir);
        db = attempt(path);
      } else if (['EACCES', 'EPERM', 'EROFS', 'SQLITE_CANTOPEN', 'SQLITE_READONLY', 'SQLITE_PERM'].includes(code)) {
        db = attempt(':memory:');
      } else {
        throw err;
      }
    }
    return new MarkdownSearchIndex(dir, db, isMemoryFileName);
  }

  /**
   * Brings the index up to date with the files on disk; returns the files it could not read.
   * When the listing (names, sizes, mtimes) is what it was after the last sync, nothing changed
   * and nothing more is read: the common case costs a directory listing and a stat per file.
   */
  sync(onIndexed?: IndexProgress): StorageProblem[] {
    const { listings, problems } = readListings(this.dir, this.isMemoryFileName);
    this.unrecordedFolders = listings.some((listing) => listing?.unrecorded === true);
    // The listing as the last sync left it: its digest where the addon computes one (32 characters
    // read back instead of the whole listing: 2 ms at 10,000 files, 20 at 100,000), else whole.
    const digest = listingDigest(listings);
    const listing = digest === undefined ? listingRecord(listings) : undefined;
    const saved = this.db.prepare(`SELECT key, value FROM state WHERE key IN ('problems', ${digest === undefined ? "'listing names', 'listing numbers'" : "'listing digest'"})`).all() as Array<{ key: string; value: string | Buffer }>;
    const state = new Map(saved.map((r) => [r.key, r.value]));
    const names = state.get('listing names');
    const numbers = state.get('listing numbers');
    const same = listing ? names === listing.names && Buffer.isBuffer(numbers) && numbers.equals(listing.numbers) : state.get('listing digest') === digest;
    if (same && typeof state.get('problems') === 'string') {
      return [...problems, ...(JSON.parse(state.get('problems') as string) as StorageProblem[])];
    }
    const changed = this.changedFiles(listings);
    let fileProblems: StorageProblem[] = [];
    // Each changed file's rows are written once: a large page cache would only fill (onePassCache).
    const ownCache = onePassCache(this.db);
    try {
      this.db.transaction(() => {
        const racy = this.apply(changed, onIndexed);
        this.fts.compactAfterBulk();
        this.db.exec(PROBLEM_INDEXES);
        fileProblems = this.fileProblems();
        const put = this.db.prepare('INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)');
        // A file recorded as changed-just-now must be looked at again next time: no shortcut then.
        this.db.prepare("DELETE FROM state WHERE key = 'signature'").run(); // an earlier build's digest of the listing
        // One form or the other: a run with the addon, or without, reads only its own (the other then syncs once the long way).
        put.run('listing digest', racy || !digest ? '' : digest);
        put.run('listing names', racy || !listing ? '' : listing.names);
        put.run('listing numbers', listing?.numbers ?? Buffer.alloc(0));
        put.run('problems', JSON.stringify(fileProblems));
      }).immediate();
    } finally {
      ownCache();
    }
    return [...problems, ...fileProblems];
  }

  /** The files changed since the index's rows were written (changedFiles). */
  private changedFiles(listings: Array<FolderListing | undefined>): ChangedFiles {
    return changedFiles(typeListings(listings, this.isMemoryFileName), this.rowStats());
  }

  /** The index's rows, one at a time, as changedFiles compares them. */
  private rowStats(): Iterable<RowStat> {
    return this.db.prepare('SELECT type, name, size, mtime, id FROM files').raw().iterate() as IterableIterator<RowStat>;
  }

  /** Takes changed and removed files into the index; true if a file was recorded as changed just now. */
  private apply({ files, count, removed }: ChangedFiles, onIndexed?: IndexProgress): boolean {
    // Ids whose file must be picked again below: of removed rows, of files that held another id
    // before (or no longer read), and ids more than one file holds. Not every id written (a rebuild
    // of 100,000 kept two sets of them all), nor the id of every changed file (the first search in
    // a context copied in, where every mtime is new, did).
    const affected = new Set<string>();
    // Memories of ids more than one file holds, kept until the winner is picked below. An id one
    // file holds is indexed at once and its memory dropped: a rebuild of 100,000 kept them all.
    const parsed = new Map<string, Memory>();
    // Ids of `affected` indexed here already (another file held them before): not picked again.
    const indexed = new Set<string>();
    const candidates = this.db.prepare('SELECT * FROM files WHERE id = ? AND error IS NULL');
    const del = this.db.prepare('DELETE FROM files WHERE path = ?');
    const upsert = this.db.prepare(
      `INSERT INTO files (path, type, name, size, mtime, id, updated, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime = excluded.mtime, id = excluded.id,
         updated = excluded.updated, error = excluded.error`,
    );
    for (const row of removed) {
      if (row.id) affected.add(row.id);
      del.run(row.path);
    }
    const now = Date.now();
    let racy = false;
    let i = 0;
    for (const f of files()) {
      onIndexed?.(i++, count);
      itemDone();
      // Recorded as never seen when it changed just now, so a second write in the same tick is not missed.
      const mtime = settledAt(f.mtime, now) ? f.mtime : -1;
      if (mtime === -1) racy = true;
      try {
        const memory = this.readFile(f);
        const id = memory.id;
        if (f.oldId && f.oldId !== id) affected.add(f.oldId);
        upsert.run(f.path, f.type, f.name, f.size, mtime, id, memory.updated, null);
        if ((candidates.all(id) as FileRow[]).length === 1) {
          this.fts.put(memory);
          if (affected.has(id)) indexed.add(id);
        } else {
          parsed.set(f.path, memory);
          affected.add(id);
          indexed.delete(id); // another file holds it too: decided below
        }
      } catch (err) {
        if (f.oldId) affected.add(f.oldId);
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'ENOENT') {
          del.run(f.path);
          continue;
        }
        const message = e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied; check its permissions' : e.message;
        upsert.run(f.path, f.type, f.name, f.size, mtime, null, null, message);
      }
    }
    if (count) onIndexed?.(count, count);
    for (const id of affected) {
      if (indexed.has(id)) continue;
      const rows = candidates.all(id) as FileRow[];
      const winner = pickWinner(rows);
      let memory: Memory | undefined;
      if (winner) {
        try {
          memory = parsed.get(winner.path) ?? this.readFile(winner);
        } catch {
          memory = undefined; // vanished or broken since: the next search sees it changed
        }
      }
      if (memory && memory.id === id) this.fts.put(memory);
      else this.fts.remove(id);
    }
    return racy;
  }

  private readFile(f: { path: string; type: MemoryType; name: string }): Memory {
    const full = join(this.dir, f.path);
    const st = statSync(full);
    const text = readFileSync(full, 'utf8');
    return parseMemoryFile(text, f.name, f.type, st.mtime).memory;
  }

  /** Unreadable files and duplicate ids, as the backend reports them. */
  private fileProblems(): StorageProblem[] {
    const problems: StorageProblem[] = [];
    for (const row of this.db.prepare('SELECT path, error FROM files WHERE error IS NOT NULL ORDER BY path').all() as FileRow[]) {
      problems.push({ path: row.path, message: row.error ?? 'unreadable' });
    }
    const dupIds = this.db.prepare('SELECT id FROM files WHERE id IS NOT NULL AND error IS NULL GROUP BY id HAVING count(*) > 1').all() as Array<{ id: string }>;
    const rowsOf = this.db.prepare('SELECT * FROM files WHERE id = ? AND error IS NULL');
    for (const { id } of dupIds) {
      const rows = rowsOf.all(id) as FileRow[];
      const kept = pickWinner(rows)!;
      for (const r of rows) {
        if (r.path !== kept.path) problems.push({ path: r.path, message: `duplicate id ${id} (also in ${kept.path}); ignored` });
      }
    }
    return problems;
  }

  /** Searches the index as it is (call sync first). */
  search(query: SearchQuery): Omit<SearchResult, 'problems'> {
    return this.fts.search(query);
  }

  /** Empties the index and reads every file again; returns how many memories it holds. */
  rebuild(onIndexed?: IndexProgress): number {
    this.db.transaction(() => {
      this.db.exec('DELETE FROM files; DELETE FROM state;');
      this.fts.clear();
    }).immediate();
    this.sync(onIndexed);
    return this.fts.count();
  }

  /**
   * What doctor reports of the index: corruption, changes the next sync takes in (pending), and
   * drift the change check cannot see (a file edited while keeping its size and mtime). Reading
   * only. `onDisk` gives the memory files by id, type and name, afresh each time it is called;
   * `memories` reads the memories whose ids `compare` accepts, one at a time as the check goes
   * (doctor at 100,000 held them all: 380 MiB), and no file of a pending one. `listings`: the
   * folders as the backend listed them for this command, not listed again here.
   */
  check(
    onDisk: () => Iterable<{ id: string; type: MemoryType; name: string }>,
    memories: (compare: (id: string) => boolean) => Iterable<Memory>,
    listings: Array<FolderListing | undefined>,
  ): IndexCheck {
    // The checks read every page once (the integrity check, the rows of files, and each memory's
    // row as its memory is compared): a large page cache would only fill (onePassCache).
    const ownCache = onePassCache(this.db);
    let drifted: IndexDrift[];
    let found: ReturnType<MarkdownSearchIndex['pending']>;
    try {
      const corrupt = this.fts.integrity();
      if (corrupt) return { present: true, corrupt, pending: 0, drift: [] };
      found = this.pending(onDisk, listings);
      const { skip } = found;
      drifted = skip ? this.fts.drift(memories((id) => !skip.has(id)), skip) : this.orphansOfNoFile(onDisk);
    } finally {
      ownCache();
    }
    const { pending, racy } = found;
    // The files' ids are gone through again for the paths of the memories that drifted, usually
    // none, rather than kept (at 100,000 memories a map of every id to its path was some 30 MB of
    // doctor's peak).
    const pathOf = new Map(drifted.map((d) => [d.id, undefined as string | undefined]));
    if (pathOf.size) for (const { id, type, name } of onDisk()) if (pathOf.has(id)) pathOf.set(id, `${MEMORY_DIR}/${type}/${name}`);
    const drift = drifted.map((d) => ({ ...d, path: pathOf.get(d.id) }));
    const racyDrift = drift.filter((d) => racy.has(d.id)).length;
    return { present: true, pending: pending + racyDrift, drift: drift.filter((d) => !racy.has(d.id)) };
  }

  /**
   * What the next sync would take in (changedFiles), told apart from drift: how many files are
   * pending, the ids not to compare (those the files pending hold, and held before), and the ids of
   * files recorded as changed just now (compared by content; a difference there is pending). A
   * function of its own, so that what it makes of the listing (each file's place by name) is let
   * go before the check reads the memories. Files are told by their place in the
   * listing, not by path: in a context copied in, where every file is pending, a set of every path
   * was 20 MB of doctor's peak. When every file is pending (a context copied in: every mtime is
   * new) there is nothing to compare, and no `skip` is made: it would hold every id.
   */
  private pending(
    onDisk: () => Iterable<{ id: string; type: MemoryType; name: string }>,
    listings: Array<FolderListing | undefined>,
  ): { pending: number; skip?: Set<string>; racy: Set<string> } {
    // What the command did before (a cold catalog's scan: its files' buffers, the catalog's index
    // bytes) is garbage: collected before the listing and its maps are made (doctor in a context
    // copied in, 100,000 files: 140 to 127 MiB).
    loopDone();
    const folders = typeListings(listings, this.isMemoryFileName);
    // Built once: the rows are matched to the listing by name, and then the files' ids.
    const at = nameIndex(folders);
    const { removed, each } = changedFiles(folders, this.rowStats(), at);
    const racy = new Set<string>();
    const pendingIn = folders.map((folder) => new Uint8Array(folder.names.length));
    let pending = 0;
    // A file recorded as changed just now, at the same size, is compared by content, not pending.
    each((k, i, oldId, wasRacy) => {
      if (wasRacy && oldId) return;
      pendingIn[k][i] = 1;
      pending++;
    });
    if (pending === folders.reduce((n, folder) => n + folder.names.length, 0)) return { pending: pending + removed.length, racy };
    const skip = new Set<string>();
    each((_k, _i, oldId, wasRacy) => {
      if (oldId) (wasRacy ? racy : skip).add(oldId);
    });
    for (const row of removed) {
      pending++;
      if (row.id) skip.add(row.id);
    }
    if (pending > removed.length) {
      for (const { id, type, name } of onDisk()) {
        itemDone();
        const folder = at.get(type);
        const i = folder?.byName.get(name);
        if (folder && i !== undefined && pendingIn[folder.k][i]) skip.add(id);
      }
    }
    return { pending, skip, racy };
  }

  /**
   * The drift of an index whose every file is pending (pending, above): no memory to compare, so
   * only rows of the documents whose id no file row holds, nor any file on disk (usually none,
   * and then the files are not gone through), as SearchIndex.drift would find them with every id
   * pending skipped.
   */
  private orphansOfNoFile(onDisk: () => Iterable<{ id: string }>): IndexDrift[] {
    const ids = this.db
      .prepare('SELECT id FROM search_doc d WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.id = d.id)')
      .pluck()
      .all() as string[];
    if (!ids.length) return [];
    const orphan = new Set(ids);
    for (const { id } of onDisk()) orphan.delete(id);
    return [...orphan].map((id) => ({ id, kind: 'orphan' as const }));
  }

  close(): void {
    this.db.close();
  }
}

/** The file that holds an id when several do: the newest `updated`, then the first in reading order. */
function pickWinner(rows: FileRow[]): FileRow | undefined {
  let best: FileRow | undefined;
  for (const r of rows) {
    if (!best) {
      best = r;
      continue;
    }
    const newer = (r.updated ?? '') > (best.updated ?? '');
    const same = (r.updated ?? '') === (best.updated ?? '');
    const earlier = TYPE_ORDER[r.type] < TYPE_ORDER[best.type] || (r.type === best.type && r.name < best.name);
    if (newer || (same && earlier)) best = r;
  }
  return best;
}

/**
 * A listing as the index records it after a sync, to tell at the next one whether anything
 * changed: each folder's names as the listing joined them, and every entry's stats as the bytes of
 * its doubles (kind, size, mtime, ctime, inode). Compared whole rather than hashed: a hash needs
 * node:crypto (about 4 ms to load) or cold JavaScript over every name (as slow), while SQLite hands
 * back the string and Buffer.equals compares the bytes at once. No object per file is made.
 */
function listingRecord(listings: Array<FolderListing | undefined>): { names: string; numbers: Buffer } {
  const names: string[] = [];
  const numbers: Uint8Array[] = [];
  listings.forEach((listing, t) => {
    if (!listing) return;
    const { stats } = listing;
    names.push(`${MEMORY_TYPES[t]}\0${joinedNames(listing)}`);
    numbers.push(new Uint8Array(stats.buffer, stats.byteOffset, stats.byteLength));
  });
  return { names: names.join('\0'), numbers: Buffer.concat(numbers) };
}

/** Deletes the index and SQLite's files beside it. */
export function removeIndexFiles(dir: string): void {
  for (const file of indexFiles(dir)) rmSync(file, { force: true });
}

/** The index's file and SQLite's files beside it. */
export function indexFiles(dir: string): string[] {
  return ['', '-wal', '-shm', '-journal'].map((suffix) => join(dir, INDEX_FILE + suffix));
}
