import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Memory } from '../../src/memory/types.js';
import { SearchIndex } from '../../src/search/fts.js';
import { withFacets } from '../../src/search/facets.js';
import { parseQuery } from '../../src/search/query.js';
import { rankingOf, setRankExtension } from '../../src/search/rank.js';
import { openSqlite, type Database } from '../../src/storage/sqlite/driver.js';
import { fixtureMemories, fixtureQueries } from './fixture.js';

// The extension is built on install beside the native addon, where a C compiler and better-sqlite3's
// SQLite headers are there (scripts/sqlite-headers.mjs); without it the builtin bm25 ranks, which
// every other search test covers (as it does with WHITEMAGIC_NATIVE=0).
const built = process.env.WHITEMAGIC_NATIVE !== '0' && existsSync(fileURLToPath(new URL('../../build/Release/whitemagic_rank.node', import.meta.url)));

describe.skipIf(!built)('the ranking extension (native/rank.c)', () => {
  let dir: string;
  let file: string;
  let db: Database;
  let index: SearchIndex;
  const memories = fixtureMemories();
  const open = () => {
    const conn = openSqlite(file, { timeout: 5000 });
    conn.pragma('journal_mode = WAL');
    return conn;
  };
  /** Every match's score by `fn`, in rowid order. */
  const scores = (conn: Database, fn: string, match: string) =>
    conn.prepare(`SELECT rowid, ${fn}(search_fts, 8, 4, 1, 0) AS score FROM search_fts WHERE search_fts MATCH ? ORDER BY rowid`).all(match);
  const count = (conn: Database, match: string) => conn.prepare('SELECT count(*) FROM search_fts WHERE search_fts MATCH ?').pluck().get(match);
  // Words of the fixture's titles, common and rare, and a few phrases and operators.
  const words = [...new Set(memories.flatMap((m) => m.title.toLowerCase().match(/[a-z]{4,}/g) ?? []))].slice(0, 80);
  // And as searches make them: with the type and tag filters (facets.ts), phrases of weight 0.
  const tag = memories.flatMap((m) => m.tags)[0];
  const filtered = ['backup', 'cache OR index', '"connection pool"'].flatMap((m) => [
    withFacets(m, 'facets', ['short_term', 'long_term'], []),
    withFacets(m, 'facets', ['archive'], [tag]),
  ]);
  const matches = [...words, '"connection pool"', 'cache OR index', 'postgres NOT replication', 'dep*', '{title}: backup', '{title tags}: backup OR deploy', ...filtered];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wm-rank-'));
    file = join(dir, 'index.db');
    db = open();
    index = SearchIndex.create(db);
    db.transaction(() => memories.forEach((m) => index.put(m)))();
  });

  afterEach(() => {
    setRankExtension(undefined);
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scores every match as FTS5 bm25 does, to the bit, from the lengths it keeps, and counts them', () => {
    const ranking = rankingOf(db);
    expect(ranking.fn).toBe('wm_bm25');
    expect(words.length).toBeGreaterThan(40);
    for (const pass of ['lengths read', 'lengths kept']) {
      for (const match of matches) {
        const got = scores(db, 'wm_bm25', match);
        expect(got, `${match} (${pass})`).toEqual(scores(db, 'bm25', match));
        expect(ranking.rowsRanked(), match).toBe(got.length ? count(db, match) : ranking.rowsRanked());
      }
    }
    expect(scores(db, 'wm_bm25', 'backup').length).toBeGreaterThan(3);
    for (const match of filtered.filter((_, i) => i % 2 === 0)) expect(scores(db, 'wm_bm25', match).length, match).toBeGreaterThan(0);
  });

  it('reads a length again once the document changed: in its own connection, or committed by another', () => {
    rankingOf(db);
    const longer = (m: Memory, times: number): Memory => ({ ...m, content: `${m.content} ${'backup restore verify '.repeat(times)}` });
    // Words of the memories changed below, so their lengths are kept before they change.
    const theirWords = memories.slice(0, 4).flatMap((m) => m.title.toLowerCase().match(/[a-z]{4,}/g) ?? []);
    const agree = (why: string) => {
      for (const match of [...theirWords, 'backup', 'restore', 'verify']) expect(scores(db, 'wm_bm25', match), `${match}: ${why}`).toEqual(scores(db, 'bm25', match));
    };
    agree('first ranking');
    expect(theirWords.length).toBeGreaterThan(3);
    // Another connection commits; this one has not written.
    const other = open();
    try {
      const theirs = new SearchIndex(other);
      theirs.put(longer(memories[2], 60));
      theirs.remove(memories[3].id);
    } finally {
      other.close();
    }
    agree('after another connection committed');
    // Same rowid, another length: a write in this connection.
    index.put(longer(memories[0], 40));
    agree('after a write in this connection');
    // Inside a transaction not yet committed.
    db.transaction(() => {
      index.put(longer(memories[1], 25));
      agree('inside a transaction');
    })();
    agree('after it committed');
  });

  it('gives the same hits, scores and totals as the builtin, for every query of the relevance fixture', () => {
    const queries = [...fixtureQueries().map((q) => q.query), ...words.slice(0, 30), 'a', '"connection pool"', '-postgres backup'];
    const run = () => queries.map((q) => {
      const { hits, total } = index.search({ query: parseQuery(q), types: ['short_term', 'long_term', 'archive'], limit: 3 });
      return { q, total, hits: hits.map((h) => [h.id, h.score]) };
    });
    const withExtension = run();
    expect(rankingOf(db).fn).toBe('wm_bm25');
    setRankExtension(false);
    const builtin = open();
    try {
      index = new SearchIndex(builtin);
      expect(rankingOf(builtin).fn).toBe('bm25');
      expect(run()).toEqual(withExtension);
    } finally {
      builtin.close();
    }
    expect(withExtension.filter((r) => r.total > 3).length).toBeGreaterThan(3); // cuts were met
  });
});
