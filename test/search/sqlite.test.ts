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
