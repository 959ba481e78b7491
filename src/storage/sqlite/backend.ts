import { insertEach } from '../bulk.js';
import type BetterSqlite3 from 'better-sqlite3';
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConflictError, InvalidInputError, NotFoundError, WhitemagicError, fromFsError } from '../../errors.js';
import { isKeepableName, memoryName } from '../../memory/fields.js';
import { MEMORY_TYPES, type Memory, type MemoryHeader, type MemoryType } from '../../memory/types.js';
import { createdBetween, DEFAULT_LIST_TYPES } from '../query.js';
import type {
  BackendCapabilities,
  BulkResult,
  ListQuery,
  ListResult,
  StorageBackend,
  StorageProblem,
  IndexProgress,
  StorageSummary,
  StoredMemory,
} from '../types.js';
import { SearchIndex } from '../../search/fts.js';
import type { IndexCheck, ReindexResult, SearchQuery, SearchResult } from '../../search/types.js';
import { BUSY_TIMEOUT_MS, fromSqliteError, RESTORE_HINT, retryBusy, sqliteCode } from './errors.js';
import { onePassCache, openSqlite } from './driver.js';
import { READABLE_FROM, refuseNewer, schemaVersion, SCHEMA_VERSION, upgradeSchema } from './schema.js';

/** A row of `memories`; `content` only when the body was asked for. */
interface Row {
  seq: number;
  id: string;
  name: string;
  title: string;
  content?: string;
  type: MemoryType;
  tags: string;
  created: string;
  updated: string;
  meta: string;
  bytes: number;
}

const HEADER_COLUMNS = 'seq, id, name, title, type, tags, created, updated, meta, bytes';
const ALL_COLUMNS = `${HEADER_COLUMNS}, content`;

/**
 * Opens the database at `path` with the settings every connection needs: a busy timeout (so a
 * writer waits for another process instead of failing), WAL (readers never block the writer),
 * synchronous = NORMAL, and the schema upgraded to this build's version. `creating` also makes the
 * schema of a new, empty database.
 *
 * NORMAL is SQLite's advice for WAL: a commit is atomic and survives the process being killed at
 * once; the WAL is synced by the next checkpoint rather than at each commit. SqliteBackend
 * checkpoints a second after its last write and before it closes (see syncSoon), so a commit also
 * survives a power cut once its command ends, or within about a second for a long-lived caller.
 */
export function openDatabase(path: string, options: { creating?: boolean; readonly?: boolean; image?: Buffer } = {}): BetterSqlite3.Database {
  let db: BetterSqlite3.Database | undefined;
  try {
    db = options.image
      ? openSqlite(options.image, { readonly: true })
      : openSqlite(path, { fileMustExist: !options.creating, readonly: Boolean(options.readonly), timeout: BUSY_TIMEOUT_MS });
    const conn = db;
    const version = retryBusy(() => schemaVersion(conn), path);
    refuseNewer(version, path);
    if (!options.readonly) {
      if (conn.pragma('journal_mode', { simple: true }) !== 'wal') {
        retryBusy(() => {
          // Switching to WAL needs a moment alone with the file; another process may be doing the same.
          if (conn.pragma('journal_mode = WAL', { simple: true }) !== 'wal') throw Object.assign(new Error('busy'), { code: 'SQLITE_BUSY' });
        }, path);
      }
      conn.pragma('synchronous = NORMAL');
    }
    conn.pragma('foreign_keys = ON');
    if (version < SCHEMA_VERSION) {
      const empty = version === 0 && !retryBusy(() => conn.prepare("SELECT 1 FROM sqlite_master WHERE name = 'memories'").get(), path);
      if (empty && !options.creating) {
        throw new InvalidInputError(
          `${path} is empty or truncated: it holds no whitemagic data`,
          RESTORE_HINT,
          'corrupt',
        );
      }
      if (!options.readonly) {
        try {
          retryBusy(() => conn.transaction(() => upgradeSchema(conn, path)).immediate(), path);
        } catch (err) {
          // A database this process may not write still reads, if its version is readable as it is.
          if (!(version >= READABLE_FROM && (err as { code?: string }).code?.startsWith('SQLITE_READONLY'))) throw err;
        }
      } else if (version < READABLE_FROM) {
        throw new InvalidInputError(`${path} needs a schema upgrade; open it once for writing`);
      }
    }
    return conn;
  } catch (err) {
    try {
      db?.close();
    } catch {
      // Closing a handle on a damaged file can fail too; the first error is the one to report.
    }
    if (!options.image && !options.creating && inUnwritableFolder(err, path)) return openDatabase(path, { readonly: true, image: imageOf(path) });
    throw fromSqliteError(err, path);
  }
}

/**
 * Whether opening failed because SQLite could not make its `-shm` file beside the database: it
 * says so (SQLITE_READONLY_DIRECTORY), or, with a write-ahead log there already, only that it
 * cannot open the file, while the folder is one this process may not write.
 */
function inUnwritableFolder(err: unknown, path: string): boolean {
  const code = sqliteCode(err);
  if (code === 'SQLITE_READONLY_DIRECTORY') return true;
  if (!code?.startsWith('SQLITE_CANTOPEN') || !existsSync(path)) return false;
  try {
    accessSync(dirname(path), constants.W_OK);
    return false;
  } catch {
    return true;
  }
}

/**
 * The bytes of a database whose folder this process may not write, to be read from memory (a
 * context on read-only media, or another user's): SQLite reads a WAL database in place only with
 * its `-shm` file beside it, which it cannot make there. Marked a rollback-journal database (file
 * format bytes 18 and 19), as SQLite reads an image in memory; opened read-only, so any write is
 * refused as the file's would be. Refused when its write-ahead log holds changes not yet in the
 * database: the copy would miss them.
 */
function imageOf(path: string): Buffer {
  let wal = 0;
  try {
    wal = statSync(`${path}-wal`).size;
  } catch {
    // No log: everything is in the database.
  }
  if (wal > 0) {
    throw new WhitemagicError('permission', `cannot read ${path}: its write-ahead log holds changes not yet in the database, and its folder cannot be written`, {
      hint: 'open it once where its folder can be written (any command does), or give this user write access to the folder',
    });
  }
  let image: Buffer;
  try {
    image = readFileSync(path);
  } catch (err) {
    throw fromFsError(err, path);
  }
  if (image.length > 19 && image[18] === 2 && image[19] === 2) image[18] = image[19] = 1;
  return image;
}

/** Memories read at a time by reindex. */
const REINDEX_PAGE = 500;

/** How long after a write its commit is synced at the latest, for a connection kept open (see syncSoon). */
const SYNC_DELAY_MS = 1000;

/** Size of a memory in the database: the bytes of its title, body, tags and extra keys as stored. */
function storedBytes(title: string, content: string, tags: string, meta: string): number {
  return Buffer.byteLength(title) + Buffer.byteLength(content) + Buffer.byteLength(tags) + Buffer.byteLength(meta);
}

/**
 * The SQLite backend: one `whitemagic.db` per context (schema in schema.ts). Queries are pushed
 * into SQL and give exactly what applyListQuery gives (the conformance suite checks).
 *
 * Every change goes through putRow / deleteRow inside write(): one BEGIN IMMEDIATE transaction per
 * call, retried while another process holds the write lock. An index kept in the same database
 * (full text) hooks into those two methods and stays in step with the rows.
 */
export class SqliteBackend implements StorageBackend {
  readonly name = 'sqlite' as const;
  readonly capabilities: BackendCapabilities = { handEditable: false, transactions: true, singleFile: true, staysCurrent: true };

  private readonly statements = new Map<string, BetterSqlite3.Statement>();
  /** Commits not yet synced to disk, and the timer that will (see syncSoon). */
  private unsynced = false;
  private syncTimer?: NodeJS.Timeout;
  /** The full-text index in the same database, changed in the same transactions as the rows. */
  private readonly index: SearchIndex;

  constructor(
    private readonly db: BetterSqlite3.Database,
    /** The database file, for messages. */
    readonly path: string,
  ) {
    this.index = new SearchIndex(db);
  }

  /** A prepared statement, prepared once per connection. */
  private sql(text: string): BetterSqlite3.Statement {
    let stmt = this.statements.get(text);
    if (!stmt) {
      stmt = this.db.prepare(text);
      this.statements.set(text, stmt);
    }
    return stmt;
  }

  /** Runs a read, mapping SQLite errors (corrupt file, busy) to one-line errors naming the file. */
  private guard<T>(fn: () => T): T {
    try {
      return retryBusy(fn, this.path);
    } catch (err) {
      throw fromSqliteError(err, this.path);
    }
  }

  /** Runs `fn` in one write transaction (BEGIN IMMEDIATE: the write lock up front, never a failed upgrade). */
  private write<T>(fn: () => T, options: { syncNow?: boolean } = {}): T {
    const result = this.guard(() => this.db.transaction(fn).immediate());
    this.syncSoon();
    // Work on many memories is on disk before it reports (one sync, worth nothing next to the work).
    if (options.syncNow) this.sync();
    return result;
  }

  /**
   * Makes this connection's commits durable within SYNC_DELAY_MS: a passive checkpoint syncs the
   * WAL to disk (synchronous = NORMAL does not at commit) without waiting for readers. One timer
   * serves every write in that time, so a burst of writes pays one sync; it never keeps the
   * process alive, and close() syncs whatever is left.
   */
  private syncSoon(): void {
    this.unsynced = true;
    if (this.syncTimer) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = undefined;
      this.sync();
    }, SYNC_DELAY_MS);
    this.syncTimer.unref();
  }

  private sync(): void {
    if (!this.unsynced || !this.db.open) return;
    try {
      this.db.pragma('wal_checkpoint(PASSIVE)');
      this.unsynced = false;
    } catch {
      // Busy or failing: the next write's timer, or close, tries again.
    }
  }

  /** Stores a row for `memory` under `name`: inserted when `seq` is undefined, else replaced in place. */
  private putRow(memory: Memory, name: string, seq?: number): MemoryHeader {
    const tags = JSON.stringify(memory.tags);
    const meta = JSON.stringify(memory.meta);
    const bytes = storedBytes(memory.title, memory.content, tags, meta);
    const values = [name, memory.title, memory.content, memory.type, tags, memory.created, memory.updated, meta, bytes];
    if (seq === undefined) {
      const info = this.sql(
        'INSERT INTO memories (id, name, title, content, type, tags, created, updated, meta, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(memory.id, ...values);
      seq = Number(info.lastInsertRowid);
    } else {
      this.sql(
        'UPDATE memories SET name = ?, title = ?, content = ?, type = ?, tags = ?, created = ?, updated = ?, meta = ?, bytes = ? WHERE seq = ?',
      ).run(...values, seq);
      this.sql('DELETE FROM memory_tags WHERE seq = ?').run(seq);
    }
    const addTag = this.sql('INSERT OR IGNORE INTO memory_tags (tag, seq) VALUES (?, ?)');
    for (const tag of memory.tags) addTag.run(tag, seq);
    this.index.put(memory);
    const { content: _content, ...rest } = memory;
    void _content;
    return { ...rest, id: memory.id, tags: [...memory.tags], meta: { ...memory.meta }, name, bytes };
  }

  private deleteRow(seq: number, id: string): void {
    this.index.remove(id);
    this.sql('DELETE FROM memory_tags WHERE seq = ?').run(seq);
    this.sql('DELETE FROM memories WHERE seq = ?').run(seq);
  }

  private existing(id: string): { seq: number; name: string } | undefined {
    return this.sql('SELECT seq, name FROM memories WHERE id = ?').get(id) as { seq: number; name: string } | undefined;
  }

  private toHeader(row: Row): MemoryHeader {
    return {
      id: row.id,
      title: row.title,
      type: row.type,
      tags: this.parseJson(row, 'tags') as string[],
      created: row.created,
      updated: row.updated,
      meta: this.parseJson(row, 'meta') as Record<string, unknown>,
      name: row.name,
      bytes: row.bytes,
    };
  }

  private toMemory(row: Row): Memory {
    return {
      id: row.id,
      title: row.title,
      content: row.content ?? '',
      type: row.type,
      tags: this.parseJson(row, 'tags') as string[],
      created: row.created,
      updated: row.updated,
      meta: this.parseJson(row, 'meta') as Record<string, unknown>,
    };
  }

  private parseJson(row: Row, column: 'tags' | 'meta'): unknown {
    try {
      return JSON.parse(row[column]);
    } catch {
      throw new InvalidInputError(
        `${this.path}: the ${column} of memory ${row.id} cannot be read`,
        RESTORE_HINT,
        'corrupt',
      );
    }
  }

  list(query: ListQuery): ListResult {
    const types = query.types ?? DEFAULT_LIST_TYPES;
    const dates = createdBetween('created', query.since, query.until);
    const where = [`type IN (${types.map(() => '?').join(', ')})`, ...dates.where];
    const params: unknown[] = [...types, ...dates.params];
    const tags = [...new Set(query.tags ?? [])];
    if (tags.length) {
      where.push(`seq IN (SELECT seq FROM memory_tags WHERE tag IN (${tags.map(() => '?').join(', ')}) GROUP BY seq HAVING count(*) = ?)`);
      params.push(...tags, tags.length);
    }
    // The order of applyListQuery's comparator: BINARY collation compares UTF-8 bytes, i.e. code points.
    const sort = query.sort ?? 'created';
    const flip = (dir: 'ASC' | 'DESC') => (query.reverse ? (dir === 'ASC' ? 'DESC' : 'ASC') : dir);
    const order = sort === 'title' ? `title ${flip('ASC')}, id ${flip('DESC')}` : `${sort} ${flip('DESC')}, id ${flip('DESC')}`;
    const filter = where.join(' AND ');
    const limit = query.limit;
    // Only rows at or past the limit-th value of the date can make the page: the (type, date) index
    // finds that value without reading a row, so a page of 20 reads 20 rows, not 10,000. (Bound in
    // its own query: as a subquery inside the page's WHERE, SQLite no longer uses it for the range.)
    const bounded = limit !== undefined && limit > 0 && sort !== 'title';
    const dir = flip('DESC');
    const boundText = `SELECT ${sort} AS bound FROM memories WHERE ${filter} ORDER BY ${sort} ${dir} LIMIT 1 OFFSET ?`;
    const pageText = (withBound: boolean) =>
      `SELECT ${HEADER_COLUMNS} FROM memories WHERE ${filter}${withBound ? ` AND ${sort} ${dir === 'DESC' ? '>=' : '<='} ?` : ''} ORDER BY ${order}` +
      (limit !== undefined ? ' LIMIT ?' : '');
    return this.guard(() =>
      // One read transaction: the bound, the page and the count describe the same moment.
      this.db.transaction(() => {
        const bound = bounded ? (this.sql(boundText).get(...params, limit - 1) as { bound: string } | undefined)?.bound : undefined;
        const withBound = bound !== undefined;
        const pageParams = [...params, ...(withBound ? [bound] : []), ...(limit !== undefined ? [limit] : [])];
        const rows = this.sql(pageText(withBound)).all(...pageParams) as Row[];
        // Counted apart: a count over the window would make SQLite read and sort every match.
        const total = limit === undefined ? rows.length : (this.sql(`SELECT count(*) AS n FROM memories WHERE ${filter}`).get(...params) as { n: number }).n;
        return { memories: rows.map((r) => this.toHeader(r)), total, problems: [] };
      })(),
    );
  }

  lookup(ref: string): MemoryHeader[] {
    return this.guard(() => {
      const exact = this.sql(`SELECT ${HEADER_COLUMNS} FROM memories WHERE id = ?`).get(ref) as Row | undefined;
      if (exact) return [this.toHeader(exact)];
      const pattern = ref.replace(/[\\%_]/g, (c) => `\\${c}`) + '%';
      // LIKE is case-insensitive for ASCII, which ids are made of.
      const byPrefix = this.sql(`SELECT ${HEADER_COLUMNS} FROM memories WHERE id LIKE ? ESCAPE '\\' ORDER BY id`).all(pattern) as Row[];
      if (byPrefix.length) return byPrefix.map((r) => this.toHeader(r));
      const name = ref.endsWith('.md') ? ref.slice(0, -3) : ref;
      const byName = this.sql(`SELECT ${HEADER_COLUMNS} FROM memories WHERE name = ? ORDER BY id`).all(name) as Row[];
      return byName.map((r) => this.toHeader(r));
    });
  }

  read(id: string): Memory | undefined {
    return this.guard(() => {
      const row = this.sql(`SELECT ${ALL_COLUMNS} FROM memories WHERE id = ?`).get(id) as Row | undefined;
      return row ? this.toMemory(row) : undefined;
    });
  }

  insert(memory: StoredMemory): MemoryHeader {
    return this.write(() => this.insertOne(memory));
  }

  private insertOne(memory: StoredMemory): MemoryHeader {
    if (this.existing(memory.id)) throw new ConflictError(`a memory with id ${memory.id} exists already`);
    const name = isKeepableName(memory.name) ? memory.name : memoryName(memory);
    return this.putRow(stripName(memory), name);
  }

  update(memory: Memory): MemoryHeader {
    return this.write(() => this.updateOne(memory));
  }

  /** Replaces a row; the memory keeps its name, as a markdown file keeps its file name. */
  private updateOne(memory: Memory): MemoryHeader {
    const row = this.existing(memory.id);
    if (!row) throw new NotFoundError(`memory not found: ${memory.id}`);
    return this.putRow(stripName(memory), row.name, row.seq);
  }

  remove(id: string): boolean {
    return this.write(() => {
      const row = this.existing(id);
      if (!row) return false;
      this.deleteRow(row.seq, id);
      return true;
    });
  }

  /**
   * Every memory in id order. One SELECT is one read transaction: a consistent snapshot while other
   * processes write. The connection cannot write until the iteration ends.
   */
  *readAll(): Iterable<Memory> {
    // A read of every row touches each page once: a large page cache would only fill.
    const ownCache = onePassCache(this.db);
    const rows = this.guard(() => this.sql(`SELECT ${ALL_COLUMNS} FROM memories ORDER BY id`).iterate()) as IterableIterator<Row>;
    try {
      for (;;) {
        const next = this.guard(() => rows.next());
        if (next.done) return;
        yield this.toMemory(next.value);
      }
    } finally {
      rows.return?.();
      ownCache();
    }
  }

  insertMany(memories: Iterable<StoredMemory>, onConflict: 'fail' | 'skip' | 'replace' = 'fail'): BulkResult {
    const ownCache = onePassCache(this.db);
    try {
      return this.insertManyNow(memories, onConflict);
    } finally {
      ownCache();
    }
  }

  private insertManyNow(memories: Iterable<StoredMemory>, onConflict: 'fail' | 'skip' | 'replace'): BulkResult {
    return this.write(
      () => {
        const result = insertEach(memories, onConflict, {
          has: (id) => this.existing(id) !== undefined,
          insert: (m) => this.insertOne(m),
          update: (m) => this.updateOne(m),
        });
        this.index.compactAfterBulk();
        return result;
      },
      { syncNow: true },
    );
  }

  summary(): StorageSummary {
    // One read transaction, so the counts and the tags describe the same moment.
    return this.guard(() =>
      this.db.transaction(() => {
        const counts = Object.fromEntries(MEMORY_TYPES.map((t) => [t, 0])) as Record<MemoryType, number>;
        let bytes = 0;
        const byType = this.sql('SELECT type, count(*) AS n, total(bytes) AS b FROM memories GROUP BY type').all() as Array<{
          type: MemoryType;
          n: number;
          b: number;
        }>;
        for (const r of byType) {
          counts[r.type] = r.n;
          bytes += r.b;
        }
        const tags: Record<string, number> = {};
        for (const r of this.sql('SELECT tag, count(*) AS n FROM memory_tags GROUP BY tag ORDER BY tag').all() as Array<{ tag: string; n: number }>) {
          tags[r.tag] = r.n;
        }
        return { counts, tags, bytes };
      })(),
    );
  }

  problems(): StorageProblem[] {
    return [];
  }

  search(query: SearchQuery): SearchResult {
    return { ...this.guard(() => this.index.search(query)), problems: [] };
  }

  reindex(onIndexed?: IndexProgress): ReindexResult {
    return this.write(() => {
      this.index.clear();
      // In pages of rows, not all at once: 100,000 memories read whole were some 200 MB.
      const total = (this.sql('SELECT count(*) AS n FROM memories').get() as { n: number }).n;
      const page = this.sql('SELECT seq, id, title, content, type, tags, created, updated FROM memories WHERE seq > ? ORDER BY seq LIMIT ?');
      let indexed = 0;
      for (let after = 0; ; ) {
        const rows = page.all(after, REINDEX_PAGE) as Row[];
        if (!rows.length) break;
        const before = indexed;
        indexed += this.index.fill(rows as never, onIndexed && ((done) => onIndexed(before + done, total)));
        after = rows[rows.length - 1].seq;
      }
      this.index.compactAfterBulk();
      return { indexed };
    }, { syncNow: true });
  }

  checkIndex(): IndexCheck {
    return this.guard(() => {
      const corrupt = this.index.integrity();
      if (corrupt) return { present: true, corrupt, pending: 0, drift: [] };
      return { present: true, pending: 0, drift: this.index.drift(this.readAll()) };
    });
  }

  close(): void {
    clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    // Closing checkpoints only if no other process has the database open: sync explicitly.
    this.sync();
    this.statements.clear();
    if (this.db.open) this.db.close();
  }
}

/** The memory without a carried-over name: that lives in its own column. */
function stripName(memory: StoredMemory): Memory {
  if (!('name' in memory)) return memory;
  const { name: _name, ...rest } = memory;
  void _name;
  return rest;
}
