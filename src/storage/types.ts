import type { Memory, MemoryHeader, MemoryType } from '../memory/types.js';
import type { IndexCheck, ReindexResult, SearchQuery, SearchResult } from '../search/types.js';

/**
 * The storage interface: the only thing commands know about where memories live.
 *
 * A backend stores the memories of one context. It is synchronous on purpose: both backends are
 * local (files, or better-sqlite3, itself synchronous), and a short-lived CLI process is fastest
 * without promise hops. Opening a backend is asynchronous because its module is loaded lazily
 * (see registry.ts), so a markdown run never loads the SQLite driver.
 *
 * Every backend runs the same conformance suite (test/storage/conformance.ts).
 */
export interface StorageBackend {
  /** The backend's registered name, as written in the context manifest. */
  readonly name: BackendName;
  /** What this backend can do beyond the required methods; callers test these, never the class. */
  readonly capabilities: BackendCapabilities;

  /** Memories matching the query (headers only, no bodies), sorted and limited, and unreadable entries. */
  list(query: ListQuery): ListResult;

  /**
   * Memories a REF may mean: the one whose id is `ref`; else those whose id starts with `ref`
   * (case-insensitive); else the one whose name is `ref` (a `.md` ending ignored). Never throws for
   * an unknown REF: an empty array. The caller decides what ambiguity means.
   */
  lookup(ref: string): MemoryHeader[];

  /** One whole memory by exact id, or undefined. */
  read(id: string): Memory | undefined;

  /** Stores a new memory. Throws ConflictError if its id exists. Returns its stored header. */
  insert(memory: StoredMemory, options?: InsertOptions): MemoryHeader;

  /**
   * Replaces the stored memory with the same id, moving it if its type changed. Throws
   * NotFoundError if the id is unknown. The change is atomic: a reader sees the old or the new.
   */
  update(memory: Memory): MemoryHeader;

  /** Removes a memory for good. Returns false if the id was unknown. */
  remove(id: string): boolean;

  /** Every memory, with bodies, in id order: for backup, clone, migrate and exports. */
  readAll(): Iterable<Memory>;

  /**
   * Optional: readAll with each memory's stored name, where the backend knows it as it reads
   * (markdown: the file name). Without it, readAllNamed (bulk.ts) looks each name up by id.
   */
  readAllStored?(): Iterable<StoredMemory>;

  /**
   * Stores many memories at once (clone, migrate, restore), in one transaction where the backend
   * has them. `onConflict` says what to do with an id that exists already.
   */
  insertMany(memories: Iterable<StoredMemory>, onConflict?: 'fail' | 'skip' | 'replace'): BulkResult;

  /** Counts by type, tag counts and bytes, for `stats`, `tags`, `status` and `contexts`. */
  summary(): StorageSummary;

  /** Entries that could not be read, with why: malformed files, duplicate ids. */
  problems(): StorageProblem[];

  /**
   * Ranked full-text search (SPEC section 5) through the shared index of src/search/fts.ts, so
   * every backend gives the same hits in the same order for the same memories. A backend whose
   * memories can change behind its back (hand edits) brings its index up to date first.
   */
  search(query: SearchQuery): SearchResult;

  /**
   * Rebuilds the search index from the memories (`reindex`). Call under the context's lock.
   * `onIndexed`, if given, is told how many memories are indexed so far (for a progress line).
   */
  reindex(onIndexed?: IndexProgress): ReindexResult;

  /** Compares the search index with the memories without changing either (`doctor`). */
  checkIndex(): IndexCheck;

  /** Releases handles (a database connection). The backend is unusable afterwards. */
  close(): void;
}

/**
 * A memory to store, with the name it had in another backend when it comes from one (migrate,
 * clone, restore): a backend keeps that name where it safely can, so a REF by name still works.
 */
export type StoredMemory = Memory & { name?: string };

/** Names of the registered backends; see registry.ts. */
export type BackendName = 'markdown' | 'sqlite';

export interface BackendCapabilities {
  /** Memories are files a person may add, edit or delete by hand between commands. */
  handEditable: boolean;
  /** Multi-memory writes (insertMany) are one transaction: all or nothing. */
  transactions: boolean;
  /** The backend keeps everything in one file that must be snapshotted through the backend. */
  singleFile: boolean;
  /**
   * An open instance always reads what is stored now, whoever wrote it (a database connection), so
   * a long-lived caller such as the library may keep it open between operations. A backend that
   * keeps a picture of the disk for one command (markdown) says false and is reopened each time.
   */
  staysCurrent: boolean;
}

export interface ListQuery {
  /** Types to include. Default: short_term and long_term (archive only when asked). */
  types?: MemoryType[];
  /** Tags that must all be present (already normalised). */
  tags?: string[];
  /** Only memories created at or after this time (ISO). */
  since?: string;
  /** Only memories created at or before this time (ISO). */
  until?: string;
  /** Default `created`. */
  sort?: 'created' | 'updated' | 'title';
  /** Default: newest first for dates, A to Z for titles; `reverse` flips it. */
  reverse?: boolean;
  /** At most this many; default all. */
  limit?: number;
}

export interface ListResult {
  memories: MemoryHeader[];
  /** How many matched before `limit` cut the list. */
  total: number;
  problems: StorageProblem[];
}

export interface InsertOptions {
  /**
   * The id was just made by newId() (80 random bits), so no stored memory can carry it: a backend
   * may skip looking for one (the markdown backend then need not read every file to create one).
   */
  freshId?: boolean;
}

export interface BulkResult {
  inserted: number;
  skipped: number;
  replaced: number;
}

export interface StorageSummary {
  counts: Record<MemoryType, number>;
  /** Tag to number of memories carrying it (archived ones included). */
  tags: Record<string, number>;
  /** Bytes the memories take in storage. */
  bytes: number;
}

export interface StorageProblem {
  /** Where: a path relative to the context directory, or a row id. */
  path: string;
  message: string;
}

/** How a backend is made: its module default-exports one of these. */
export interface BackendFactory {
  readonly name: BackendName;
  /** Opens (without creating) the storage of the context at `dir`. */
  open(dir: string, options: BackendOpenOptions): StorageBackend;
  /** Creates the backend's storage in `dir` (the directory exists); idempotent. */
  create(dir: string): void;
  /** Files and folders of a context that belong to this backend's data (for clone, delete, size, migrate); the main one first. */
  dataPaths(dir: string): string[];
  /**
   * Files this backend derives from its data and rebuilds when missing (markdown's search index):
   * removed from a context migrated to another backend, where nothing reads them. None if absent.
   */
  derivedPaths?(dir: string): string[];
}

export interface BackendOpenOptions {
  /** Open for reading only: no files are created or repaired. */
  readonly?: boolean;
  /**
   * The caller reads each memory about once, by id (migrate's check of its copy): a backend keeps
   * no cache sized for reading again (SQLite keeps its own 2 MB page cache, not the connection's
   * 16 MB, which 100,000 reads by id only fill). Reads of every memory (`readAll`) and bulk writes
   * do this by themselves.
   */
  onePass?: boolean;
}

/** `done` of `total` memories indexed so far (reindex). */
export type IndexProgress = (done: number, total: number) => void;
