import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Memory } from '../../src/memory/types.js';
import { SearchIndex } from '../../src/search/fts.js';
import { parseQuery } from '../../src/search/query.js';
import { openSqlite, type Database } from '../../src/storage/sqlite/driver.js';

// The ranking fetches the documents of only the rows it can keep (the best `limit`, and any tied
// with the last of them); these check that the hits are what fetching every ranked row gave.
describe('the rows a ranked search fetches', () => {
  let dir: string;
  let db: Database;
  let index: SearchIndex;
  const types: Memory['type'][] = ['short_term', 'long_term', 'archive'];
  /** A memory whose body says `alpha` once among `filler` other words: the fewer, the better it ranks. */
  const memory = (i: number, filler: number): Memory => ({
    id: `01J${String(i).padStart(8, '0')}ABCDEFGHJKMNPQ`.slice(0, 26),
    title: `Note ${i}`,
    content: `alpha ${'filler '.repeat(filler)}`.trim(),
    type: 'long_term',
    tags: [],
    created: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    updated: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
    meta: {},
  });
  const search = (limit: number) => index.search({ query: parseQuery('alpha'), types, limit });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wm-fts-rows-'));
    db = openSqlite(join(dir, 'index.db'), { timeout: 5000 });
    index = SearchIndex.create(db);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the best, and orders a tie at the cut by id, newest first', () => {
    // Scores fall with i; 10 to 19 tie (same length), across a cut at 12.
    db.transaction(() => {
      for (let i = 0; i < 10; i++) index.put(memory(i, i));
      for (let i = 10; i < 20; i++) index.put(memory(i, 20));
      for (let i = 20; i < 40; i++) index.put(memory(i, 10 + i));
    })();
    const ids = (limit: number) => search(limit).hits.map((h) => Number(h.id.slice(3, 11)));
    expect(ids(5)).toEqual([0, 1, 2, 3, 4]);
    expect(ids(12)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 19, 18]);
    expect(search(12).total).toBe(40);
  });

  it('fills in from the rows after the cut when a kept row has lost its document (a damaged index)', () => {
    db.transaction(() => {
      for (let i = 0; i < 30; i++) index.put(memory(i, i));
    })();
    db.prepare('DELETE FROM search_doc WHERE id = ?').run(memory(1, 1).id);
    expect(search(5).hits.map((h) => Number(h.id.slice(3, 11)))).toEqual([0, 2, 3, 4, 5]);
  });
});
