import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadBackend } from '../../src/storage/registry.js';
import { SCHEMA_STEPS } from '../../src/storage/sqlite/schema.js';
import { sampleMemory } from '../storage/conformance.js';
import { backendWith, find, searchSuite } from './search-suite.js';

searchSuite('sqlite');

/** The SQLite backend's index: in the database, upgraded into older databases, checked by doctor. */
describe('sqlite search index', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wm-sqlite-search-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is added to a database of an older schema, filled from its memories', async () => {
    const db = new Database(join(dir, 'whitemagic.db'));
    SCHEMA_STEPS[0](db);
    SCHEMA_STEPS[1](db);
    db.pragma('user_version = 2');
    const m = sampleMemory({ title: 'Older database', content: 'written before search existed', tags: ['legacy'] });
    db.prepare('INSERT INTO memories (id, name, title, content, type, tags, created, updated, meta, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
      m.id, 'older', m.title, m.content, m.type, JSON.stringify(m.tags), m.created, m.updated, '{}', 10,
    );
    db.close();
    const storage = (await loadBackend('sqlite')).open(dir, {});
    try {
      expect(find(storage, 'search existed').hits.map((h) => h.id)).toEqual([m.id]);
      expect(find(storage, 'older', { tags: ['legacy'] }).hits.map((h) => h.id)).toEqual([m.id]);
      expect(storage.checkIndex()).toEqual({ present: true, pending: 0, drift: [] });
    } finally {
      storage.close();
    }
  });

  it('doctor names indexed rows no memory has (orphans), and a memory whose text row is gone', async () => {
    // 70 memories: rows 1 to 70, across the 32-row words of the check's bitmap (rows 31 and 63 are
    // the top bits of the first two).
    const memories = Array.from({ length: 70 }, (_, i) => sampleMemory({ title: `Memory ${i}` }, Date.UTC(2024, 0, 1, 0, i)));
    const ctx = await backendWith('sqlite', memories);
    try {
      ctx.storage.close();
      const raw = new Database(join(ctx.dir, 'whitemagic.db'));
      const rowOf = (id: string) => (raw.prepare('SELECT rowid FROM search_doc WHERE id = ?').get(id) as { rowid: number }).rowid;
      const addText = raw.prepare("INSERT INTO search_fts (rowid, title, tags, content, facets) VALUES (?, 'ghost', '', '', '')");
      // Row 64 loses its text; a stray text row keeps the counts equal (else the index is corrupt).
      const unindexed = memories.find((m) => rowOf(m.id) === 64)!;
      raw.prepare('DELETE FROM search_fts WHERE rowid = 64').run();
      addText.run(300);
      // Two rows of ids no memory has, at bit 0 and bit 31 (the sign bit) of the fourth word.
      for (const [rowid, id] of [[96, 'ghost-a'], [127, 'ghost-b']] as const) {
        raw.prepare("INSERT INTO search_doc (rowid, id, type, title, tags, created, updated) VALUES (?, ?, 'short_term', 'Ghost', '[]', '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z')").run(rowid, id);
        addText.run(rowid);
      }
      raw.close();
      const storage = ctx.reopen();
      const check = storage.checkIndex();
      expect(check.corrupt).toBeUndefined();
      expect(check.drift.sort((x, y) => (x.id < y.id ? -1 : 1))).toEqual(
        [
          { id: 'ghost-a', kind: 'orphan' },
          { id: 'ghost-b', kind: 'orphan' },
          { id: unindexed.id, kind: 'missing' },
        ].sort((x, y) => (x.id < y.id ? -1 : 1)),
      );
      expect(storage.reindex()).toEqual({ indexed: 70 });
      expect(storage.checkIndex()).toEqual({ present: true, pending: 0, drift: [] });
    } finally {
      ctx.cleanup();
    }
  });

  it('doctor finds an index out of step with the rows; reindex repairs it', async () => {
    const a = sampleMemory({ title: 'Apricot' });
    const b = sampleMemory({ title: 'Blueberry' });
    const ctx = await backendWith('sqlite', [a, b]);
    try {
      ctx.storage.close();
      const raw = new Database(join(ctx.dir, 'whitemagic.db'));
      const rowid = (raw.prepare('SELECT rowid FROM search_doc WHERE id = ?').get(a.id) as { rowid: number }).rowid;
      raw.prepare('DELETE FROM search_fts WHERE rowid = ?').run(rowid);
      raw.prepare('DELETE FROM search_doc WHERE rowid = ?').run(rowid);
      raw.prepare("UPDATE search_doc SET title = 'Gamma' WHERE id = ?").run(b.id);
      raw.close();
      const storage = ctx.reopen();
      expect(storage.checkIndex().drift).toEqual([
        { id: a.id, kind: 'missing' },
        { id: b.id, kind: 'stale' },
      ].sort((x, y) => (x.id < y.id ? -1 : 1)));
      expect(find(storage, 'apricot').hits).toEqual([]);
      expect(storage.reindex()).toEqual({ indexed: 2 });
      expect(storage.checkIndex()).toEqual({ present: true, pending: 0, drift: [] });
      expect(find(storage, 'apricot').hits.map((h) => h.id)).toEqual([a.id]);
    } finally {
      ctx.cleanup();
    }
  });
});
