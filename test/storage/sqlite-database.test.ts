import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WhitemagicError } from '../../src/errors.js';
import { loadBackend } from '../../src/storage/registry.js';
import { SCHEMA_STEPS, SCHEMA_VERSION } from '../../src/storage/sqlite/schema.js';
import { parseQuery } from '../../src/search/query.js';
import type { BackendFactory } from '../../src/storage/types.js';
import { sampleMemory, variedMemories } from './conformance.js';

/** What only the SQLite backend has: its file, its schema versions, its errors. */
describe('sqlite backend: the database file', () => {
  let dir: string;
  let factory: BackendFactory;
  let db: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wm-sqlite-'));
    factory = await loadBackend('sqlite');
    db = join(dir, 'whitemagic.db');
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const openError = (): WhitemagicError => {
    try {
      const s = factory.open(dir, {});
      // Some damage shows only when pages are read.
      s.list({ types: ['short_term', 'long_term', 'archive'] });
      [...s.readAll()];
      s.close();
    } catch (err) {
      return err as WhitemagicError;
    }
    throw new Error('expected the open to fail');
  };

  it('reads every row with a small page cache, and gives the connection its own back after', () => {
    factory.create(dir);
    const s = factory.open(dir, {});
    s.insertMany(Array.from({ length: 50 }, (_, i) => sampleMemory({ title: `memory ${i}` }, Date.UTC(2024, 0, 1) + i)));
    const db = (s as unknown as { db: Database.Database }).db;
    const own = db.pragma('cache_size', { simple: true });
    expect(own).toBe(-16000); // better-sqlite3's build: 16 MB a connection
    // The connection cannot run a pragma while the read is open: what it was told is looked at instead.
    const told = vi.spyOn(db, 'pragma');
    let first: string[] | undefined;
    let count = 0;
    for (const memory of s.readAll()) {
      first ??= told.mock.calls.map((c) => String(c[0]));
      if (memory.id) count++;
    }
    expect(count).toBe(50);
    expect(first).toContain('cache_size = -2000');
    told.mockRestore();
    expect(db.pragma('cache_size', { simple: true })).toBe(own);
    // A read left half way (a backup that failed) gives it back too.
    for (const memory of s.readAll()) {
      void memory;
      break;
    }
    expect(db.pragma('cache_size', { simple: true })).toBe(own);
    s.close();
  });

  it('writes in bulk with a small page cache, and gives the connection its own back after', () => {
    factory.create(dir);
    const s = factory.open(dir, {});
    const db = (s as unknown as { db: Database.Database }).db;
    const own = db.pragma('cache_size', { simple: true });
    // Looked at while the bulk write takes each memory: at 100,000, the connection's own 16 MB
    // cache only filled with pages written once (4 to 8 MiB of a restore's or migrate's peak).
    const seen: unknown[] = [];
    function* memories() {
      for (let i = 0; i < 20; i++) {
        seen.push(db.pragma('cache_size', { simple: true }));
        yield sampleMemory({ title: `memory ${i}` }, Date.UTC(2024, 0, 1) + i);
      }
    }
    expect(s.insertMany(memories()).inserted).toBe(20);
    expect(new Set(seen)).toEqual(new Set([-2000]));
    expect(db.pragma('cache_size', { simple: true })).toBe(own);
    // A bulk write that fails gives it back too.
    function* failing() {
      yield sampleMemory({ title: 'one more' }, Date.UTC(2024, 1, 1));
      throw new Error('the source failed');
    }
    expect(() => s.insertMany(failing())).toThrow('the source failed');
    expect(db.pragma('cache_size', { simple: true })).toBe(own);
    s.close();
  });

  it('opened for one pass, keeps SQLite\'s own page cache for the whole connection', () => {
    factory.create(dir);
    const cacheOf = (options: { onePass?: boolean }) => {
      const s = factory.open(dir, options);
      try {
        return (s as unknown as { db: Database.Database }).db.pragma('cache_size', { simple: true });
      } finally {
        s.close();
      }
    };
    expect(cacheOf({})).toBe(-16000);
    expect(cacheOf({ onePass: true })).toBe(-2000);
  });

  it('makes one owner-only file in WAL mode, at the current schema version', () => {
    factory.create(dir);
    factory.create(dir); // idempotent
    expect(statSync(db).mode & 0o777).toBe(0o600);
    const raw = new Database(db, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    raw.close();
    expect(factory.dataPaths(dir)[0]).toBe(db);
  });

  describe('commits reach the database file, not only the WAL (synchronous = NORMAL syncs at checkpoints)', () => {
    // Another process keeps the database open, so closing is not the last close and SQLite would
    // not checkpoint by itself: the commit would stay in the unsynced WAL.
    let other: Database.Database;
    const inDatabaseFile = (text: string) => readFileSync(db).includes(text);
    beforeEach(() => {
      factory.create(dir);
      other = new Database(db);
      other.prepare('SELECT count(*) FROM memories').get();
    });
    afterEach(() => {
      vi.useRealTimers();
      other.close();
    });

    it('when the writer closes', () => {
      const storage = factory.open(dir, {});
      storage.insert(sampleMemory({ title: 'Written just before close' }));
      expect(inDatabaseFile('Written just before close')).toBe(false);
      storage.close();
      expect(inDatabaseFile('Written just before close')).toBe(true);
    });

    it('a second after a write, for a connection kept open', () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const storage = factory.open(dir, {});
      try {
        storage.insert(sampleMemory({ title: 'Kept connection' }));
        storage.insert(sampleMemory({ title: 'Second in the same second' }));
        expect(inDatabaseFile('Kept connection')).toBe(false);
        vi.advanceTimersByTime(1000);
        expect(inDatabaseFile('Kept connection')).toBe(true);
        expect(inDatabaseFile('Second in the same second')).toBe(true);
      } finally {
        storage.close();
      }
    });

    it('at once for work on many memories', () => {
      const storage = factory.open(dir, {});
      try {
        storage.insertMany([sampleMemory({ title: 'Restored in bulk' })]);
        expect(inDatabaseFile('Restored in bulk')).toBe(true);
      } finally {
        storage.close();
      }
    });
  });

  it('upgrades an older schema on open, keeping every memory, idempotently', () => {
    // A database as the first schema version made it: only the memories table, tags as JSON.
    const old = new Database(db);
    SCHEMA_STEPS[0](old);
    old.pragma('user_version = 1');
    const m = sampleMemory({ tags: ['keep', 'these'] });
    old
      .prepare('INSERT INTO memories (id, name, title, content, type, tags, created, updated, meta, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(m.id, 'old-name', m.title, m.content, m.type, JSON.stringify(m.tags), m.created, m.updated, '{}', 10);
    old.close();

    for (let i = 0; i < 2; i++) {
      const s = factory.open(dir, {});
      expect(s.read(m.id)).toEqual(m);
      expect(s.list({ tags: ['these'] }).memories.map((h) => h.id)).toEqual([m.id]);
      expect(s.summary().tags).toEqual({ keep: 1, these: 1 });
      s.close();
    }
    const raw = new Database(db, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect((raw.prepare('SELECT count(*) AS n FROM memory_tags').get() as { n: number }).n).toBe(2);
    raw.close();
  });

  it('counts sizes by type from an index, and reads a database one index behind when opened read-only', () => {
    factory.create(dir);
    const s = factory.open(dir, {});
    s.insertMany(variedMemories());
    const summary = s.summary();
    s.close();
    const raw = new Database(db);
    const plan = raw.prepare('EXPLAIN QUERY PLAN SELECT type, count(*) AS n, total(bytes) AS b FROM memories GROUP BY type').all() as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join('; ')).toContain('COVERING INDEX memories_type_bytes');
    // As version 3 left it: a read-only open reads it as it is (the step only adds an index).
    raw.exec('DROP INDEX memories_type_bytes');
    raw.pragma('user_version = 3');
    raw.close();
    const readOnly = factory.open(dir, { readonly: true });
    expect(readOnly.summary()).toEqual(summary);
    readOnly.close();
    // Version 2 lacks the search tables: still refused read-only.
    const older = new Database(db);
    older.pragma('user_version = 2');
    older.close();
    expect(() => factory.open(dir, { readonly: true })).toThrow(/needs a schema upgrade/);
  });

  it('reindexes in pages: every memory, progress counted across pages', () => {
    factory.create(dir);
    const s = factory.open(dir, {});
    try {
      const memories = Array.from({ length: 1203 }, (_, i) => sampleMemory({ title: `Memory ${i}`, content: i === 1202 ? 'the zebra at the end' : 'plain' }, Date.UTC(2024, 0, 1) + i));
      s.insertMany(memories);
      const progress: Array<[number, number]> = [];
      expect(s.reindex((done, total) => progress.push([done, total]))).toEqual({ indexed: 1203 });
      expect(progress).toHaveLength(1203);
      expect(progress.at(-1)).toEqual([1203, 1203]);
      expect(progress.every(([done], i) => done === i + 1)).toBe(true);
      expect(s.search({ query: parseQuery('zebra') }).hits.map((h) => h.title)).toEqual(['Memory 1202']);
      expect(s.checkIndex()).toMatchObject({ drift: [] });
    } finally {
      s.close();
    }
  });

  it('refuses a database made by a newer whitemagic, naming both versions', () => {
    factory.create(dir);
    const raw = new Database(db);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    raw.close();
    const err = openError();
    expect(err).toBeInstanceOf(WhitemagicError);
    expect(err.code).toBe('unsupported');
    expect(err.message).toContain(db);
    expect(err.message).toContain(`schema ${SCHEMA_VERSION + 5}`);
    expect(err.message).toContain(`up to ${SCHEMA_VERSION}`);
  });

  it('reports a file that is not a database as corrupt, naming it and pointing at restore-backup', () => {
    writeFileSync(db, 'this is not a database at all, just text that is long enough to fill a header.'.repeat(20));
    const err = openError();
    expect(err).toBeInstanceOf(WhitemagicError);
    expect(err.code).toBe('corrupt');
    expect(err.exitCode).toBe(1);
    expect(err.message).toContain(db);
    expect(err.hint).toContain('restore-backup');
  });

  it('reports an emptied (0 bytes) database as truncated, never as an empty context', () => {
    factory.create(dir);
    const s = factory.open(dir, {});
    s.insert(sampleMemory());
    s.close();
    truncateSync(db, 0);
    const err = openError();
    expect(err.code).toBe('corrupt');
    expect(err.message).toContain(db);
    expect(err.hint).toContain('restore-backup');
  });

  it('reports a database cut short as corrupt', () => {
    factory.create(dir);
    const s = factory.open(dir, {});
    // Enough rows for many pages, so the cut lands inside the data.
    s.insertMany(Array.from({ length: 300 }, (_, i) => sampleMemory({ title: `memory ${i}`, content: 'x'.repeat(500) }, Date.UTC(2024, 0, 1) + i)));
    s.close();
    const size = statSync(db).size;
    truncateSync(db, Math.floor(size / 3));
    const err = openError();
    expect(err.code).toBe('corrupt');
    expect(err.message).toContain(db);
  });

  it('reports a database whose pages were overwritten as corrupt', () => {
    factory.create(dir);
    const s = factory.open(dir, {});
    s.insertMany(Array.from({ length: 200 }, (_, i) => sampleMemory({ title: `memory ${i}`, content: 'y'.repeat(400) }, Date.UTC(2024, 0, 1) + i)));
    s.close();
    const bytes = readFileSync(db);
    // Keep the header page, scribble over the b-tree pages after it.
    bytes.fill(0xa5, 4096, bytes.length - 4096);
    writeFileSync(db, bytes);
    const err = openError();
    expect(err.code).toBe('corrupt');
  });

  it('keeps tags and extra keys in their stored order', () => {
    factory.create(dir);
    const s = factory.open(dir, {});
    const [, , many, extra] = variedMemories();
    s.insertMany([many, extra]);
    s.close();
    const again = factory.open(dir, {});
    expect(again.read(many.id)!.tags).toEqual(many.tags);
    expect(Object.keys(again.read(extra.id)!.meta)).toEqual(Object.keys(extra.meta));
    again.close();
  });
});
