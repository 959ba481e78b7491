import type BetterSqlite3 from 'better-sqlite3';
import type { Memory, MemoryType } from '../memory/types.js';
import { createdBetween, DEFAULT_LIST_TYPES } from '../storage/query.js';
import { facetsText, withFacets } from './facets.js';
import { toFtsMatch, wholeWordMatch, withWholeWords, type ParsedQuery } from './query.js';
import { rankingOf, type Ranking } from './rank.js';
import { MARK_CLOSE, MARK_OPEN, parseMarked, pickSnippet } from './snippet.js';
import type { IndexDrift, SearchHit, SearchQuery } from './types.js';
import { itemDone } from '../util/heap.js';

/**
 * The full-text index both backends share, so that they return the same hits in the same order:
 * two tables in a SQLite database (the SQLite backend's own, or the markdown backend's derived
 * `.index.db`). `search_doc` holds what hits and date filters need; `search_fts` (FTS5, porter
 * stemming over unicode61 without diacritics) holds the text and the facets (facets.ts), one row
 * per memory, same rowid.
 *
 * Ranking is FTS5's BM25 with column weights, title highest; equal scores go newest id first.
 * Without date filters the ranking runs on the FTS table alone and reads `search_doc` only for
 * the hits shown: at 100,000 memories that is the difference between milliseconds and tenths
 * of a second for a common word.
 */

/** BM25 weight of each FTS column: title, tags, body. */
export const COLUMN_WEIGHTS = { title: 8, tags: 4, content: 1 } as const;
/** Rows fetched beyond a search's limit, so that scores tied at the cut rarely need a second fetch. */
const TIE_MARGIN = 32;
/** Hits a search returns when no limit is given. */
export const DEFAULT_SEARCH_LIMIT = 20;
/** Documents a bulk write must put (and at least half the index) before the index is merged whole. */
export const COMPACT_AFTER = 1000;

type Database = BetterSqlite3.Database;
type Statement = BetterSqlite3.Statement;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS search_doc (
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  title TEXT NOT NULL,
  tags TEXT NOT NULL,
  created TEXT NOT NULL,
  updated TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
  title, tags, content, facets,
  tokenize = 'porter unicode61 remove_diacritics 2'
);
`;

/** Text as the index stores it: without the control characters used as match markers. */
function clean(text: string): string {
  return text.replace(/[\u0002\u0003]/g, ' ');
}

interface DocRow {
  rowid: number;
  id: string;
  type: MemoryType;
  title: string;
  tags: string;
  created: string;
  updated: string;
}

/** The search tables of one SQLite database: keep them up to date, query them, check them. */
export class SearchIndex {
  private statements = new Map<string, Statement>();
  private rankingValue: Ranking | undefined;
  /** Documents put through this object since it last merged the index. */
  private written = 0;

  constructor(readonly db: Database) {}

  /** Creates the tables if missing (idempotent; a schema upgrade of an older database). */
  static ensureSchema(db: Database): void {
    db.exec(SCHEMA);
  }

  /** The index of `db`, its tables created if missing. */
  static create(db: Database): SearchIndex {
    SearchIndex.ensureSchema(db);
    return new SearchIndex(db);
  }

  /** Indexes rows as the SQLite backend stores them (tags as JSON, no extra keys). Call inside a transaction. */
  fill(rows: Iterable<Omit<Memory, 'tags' | 'meta'> & { tags: string }>, onIndexed?: (done: number) => void): number {
    let n = 0;
    for (const row of rows) {
      this.put({ ...row, tags: JSON.parse(row.tags) as string[], meta: {} });
      n++;
      itemDone();
      onIndexed?.(n);
    }
    return n;
  }

  private stmt(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) this.statements.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  /** Indexes a memory, replacing what was indexed under its id. Call inside the caller's transaction. */
  put(memory: Memory): void {
    this.written++;
    const existing = this.stmt('SELECT rowid FROM search_doc WHERE id = ?').get(memory.id) as { rowid: number } | undefined;
    const doc = [memory.type, memory.title, JSON.stringify(memory.tags), memory.created, memory.updated];
    let rowid: number;
    if (existing) {
      rowid = existing.rowid;
      this.stmt('DELETE FROM search_fts WHERE rowid = ?').run(rowid);
      this.stmt('UPDATE search_doc SET type = ?, title = ?, tags = ?, created = ?, updated = ? WHERE rowid = ?').run(...doc, rowid);
    } else {
      rowid = Number(this.stmt('INSERT INTO search_doc (id, type, title, tags, created, updated) VALUES (?, ?, ?, ?, ?, ?)').run(memory.id, ...doc).lastInsertRowid);
    }
    this.stmt('INSERT INTO search_fts (rowid, title, tags, content, facets) VALUES (?, ?, ?, ?, ?)').run(
      rowid,
      clean(memory.title),
      clean(memory.tags.join(' ')),
      clean(memory.content),
      facetsText(memory.type, memory.tags),
    );
  }

  /**
   * Ends a bulk write (a rebuild, a first index, a restore, a migrate): when this object has put at
   * least COMPACT_AFTER documents and at least half of those the index now holds, merges FTS5's
   * segments into one ('optimize'). An index written in one go is left as segments of several
   * levels, and every lookup of a word merges their lists: a search at 10,000 memories marked its
   * hits in 3.7 ms on such an index and 0.7 ms once merged, and ranked a phrase in 2.6 and 1.2 ms.
   * Writes a memory at a time are left to FTS5's own merging, and an index in memory (one command's,
   * on read-only media) is not worth it. Call inside the write's transaction. True when it merged.
   */
  compactAfterBulk(): boolean {
    if (this.db.memory || this.written < COMPACT_AFTER || this.written * 2 < this.count()) return false;
    this.db.exec(`INSERT INTO search_fts (search_fts) VALUES ('optimize')`);
    this.written = 0;
    return true;
  }

  /** Drops a memory from the index; false if it was not there. */
  remove(id: string): boolean {
    const existing = this.stmt('SELECT rowid FROM search_doc WHERE id = ?').get(id) as { rowid: number } | undefined;
    if (!existing) return false;
    this.stmt('DELETE FROM search_fts WHERE rowid = ?').run(existing.rowid);
    this.stmt('DELETE FROM search_doc WHERE rowid = ?').run(existing.rowid);
    return true;
  }

  /** Empties the index (before a rebuild). */
  clear(): void {
    this.db.exec(`DELETE FROM search_doc; DELETE FROM search_fts;`);
  }

  /** Ranked hits for a query, best first, and how many matched in all. */
  search(q: SearchQuery): { hits: SearchHit[]; total: number } {
    const text = toFtsMatch(this.settlePrefixes(q.query), q.titlesOnly ? 'title' : undefined);
    const match = withFacets(text, 'facets', q.types ?? DEFAULT_LIST_TYPES, q.tags ?? []);
    const limit = q.limit ?? DEFAULT_SEARCH_LIMIT;
    const { ranked, total } = q.since || q.until ? this.rankWithDates(match, q, limit) : this.rank(match, limit);
    if (!ranked.length) return { hits: [], total };
    const marks = new MarkSource((rowids) => this.highlight(text, rowids));
    if (!q.deferMarks) marks.load(ranked.map((r) => r.rowid));
    const hits = ranked.map((r): SearchHit => {
      const hit = { id: r.id, title: r.title, type: r.type, tags: JSON.parse(r.tags) as string[], created: r.created, updated: r.updated, score: -r.rank };
      // Worked out when first read: a federated search drops most hits of each context unread.
      return marks.attach(
        r.rowid,
        withLazyFields(hit, {
          titleMarks: () => parseMarked(marks.get(r.rowid)?.t ?? r.title),
          snippet: () => pickSnippet(parseMarked(marks.get(r.rowid)?.c ?? '')),
        }),
      );
    });
    return { hits, total };
  }

  /** The title and body of these rows with the query's matched words between markers. */
  private highlight(match: string, rowids: number[]): MarkedRow[] {
    const highlight = this.stmt(
      `SELECT rowid, highlight(search_fts, 0, '${MARK_OPEN}', '${MARK_CLOSE}') AS t, highlight(search_fts, 2, '${MARK_OPEN}', '${MARK_CLOSE}') AS c
       FROM search_fts WHERE search_fts MATCH ? AND rowid IN (${rowids.map(() => '?').join(', ')})`,
    );
    // As BigInts: FTS5 takes a bound REAL (what a JavaScript number binds as) as no bound on the
    // rowid, so `rowid IN (?)` with one number (SQLite makes it `rowid = ?`) marked every match.
    return highlight.all(match, ...rowids.map(BigInt)) as MarkedRow[];
  }

  /**
   * Automatic prefix matching only where it helps: a word the index holds whole (by stem) matches
   * whole; a prefix match on a common word costs a merge of every word it starts, on every lookup.
   */
  private settlePrefixes(query: ParsedQuery): ParsedQuery {
    const probe = this.stmt('SELECT 1 FROM search_fts WHERE search_fts MATCH ? LIMIT 1');
    return withWholeWords(query, (term) => probe.get(wholeWordMatch(term)) !== undefined);
  }

  /** How this connection ranks (rank.ts): FTS5's bm25, or the same function with lengths kept. */
  private ranking(): Ranking {
    this.rankingValue ??= rankingOf(this.db);
    return this.rankingValue;
  }

  private bm25(): string {
    const { title, tags, content } = COLUMN_WEIGHTS;
    return `${this.ranking().fn}(search_fts, ${title}, ${tags}, ${content}, 0)`;
  }

  /**
   * The best `limit` rows on the FTS table alone. Equal scores are ordered by id, which lives in
   * search_doc: when the row after the cut ties with the last one kept, more rows are fetched until
   * the whole tie is in hand, then the few fetched are ordered by (score, id). The first fetch takes
   * TIE_MARGIN rows beyond the cut: a tie there is common (memories of equal length and counts
   * score alike), and each fetch scores every match again (about 20 ms for a common word at 100,000),
   * while a few more rows in one fetch cost nothing measurable.
   */
  private rank(match: string, limit: number): { ranked: Array<DocRow & { rank: number }>; total: number } {
    const top = this.stmt(`SELECT rowid, ${this.bm25()} AS rank FROM search_fts WHERE search_fts MATCH ? ORDER BY rank LIMIT ?`);
    let fetch = limit + TIE_MARGIN;
    let rows: Array<{ rowid: number; rank: number }>;
    for (;;) {
      rows = top.all(match, fetch) as Array<{ rowid: number; rank: number }>;
      const tiesPastCut = rows.length > limit && rows[limit].rank === rows[limit - 1].rank;
      if (!tiesPastCut || rows.length < fetch || rows[rows.length - 1].rank !== rows[limit - 1].rank) break;
      fetch *= 4;
    }
    // Every match was scored to find the best: the extension counted them (none scored, none matched).
    const counted = rows.length ? this.ranking().rowsRanked() : 0;
    const total = counted ?? (this.stmt('SELECT count(*) AS n FROM search_fts WHERE search_fts MATCH ?').get(match) as { n: number }).n;
    if (!rows.length) return { ranked: [], total };
    // Documents only for the rows that can be kept: the best `limit` and any tied with the last of
    // them (each is a page read on a connection just opened: a federated search over ten contexts
    // fetched 520 for the 20 it shows). A row without its document (a damaged index) lets the
    // rows after the cut fill in, as they did when every row was fetched.
    const cut = rows[Math.min(limit, rows.length) - 1].rank;
    let candidates = rows.filter((r) => r.rank <= cut);
    let docs = this.docsOf(candidates);
    if (docs.length < candidates.length && candidates.length < rows.length) docs = this.docsOf((candidates = rows));
    const byRowid = new Map(docs.map((d) => [d.rowid, d]));
    const ranked = candidates
      .filter((r) => byRowid.has(r.rowid))
      .map((r) => ({ ...byRowid.get(r.rowid)!, rank: r.rank }))
      .sort((a, b) => a.rank - b.rank || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(0, limit);
    return { ranked, total };
  }

  /** The search_doc rows of these FTS rows (any order; a row without one is left out). */
  private docsOf(rows: Array<{ rowid: number }>): DocRow[] {
    return this.stmt(`SELECT * FROM search_doc WHERE rowid IN (${rows.map(() => '?').join(', ')})`).all(...rows.map((r) => r.rowid)) as DocRow[];
  }

  /** Ranking with --since / --until: dates live in search_doc, so every match is joined. */
  private rankWithDates(match: string, q: SearchQuery, limit: number): { ranked: Array<DocRow & { rank: number }>; total: number } {
    const { where, params } = createdBetween('d.created', q.since, q.until);
    // bm25() only works in the FTS query itself: rank there, filter and order outside.
    const rows = this.stmt(
      `WITH m AS MATERIALIZED (SELECT rowid, ${this.bm25()} AS rank FROM search_fts WHERE search_fts MATCH ?)
       SELECT d.*, m.rank AS rank, count(*) OVER () AS total
       FROM m JOIN search_doc d ON d.rowid = m.rowid
       WHERE ${where.join(' AND ')}
       ORDER BY m.rank ASC, d.id DESC
       LIMIT ?`,
    ).all(match, ...params, limit) as Array<DocRow & { rank: number; total: number }>;
    return { ranked: rows, total: rows.length ? rows[0].total : 0 };
  }

  /** How many memories are indexed. */
  count(): number {
    return (this.stmt('SELECT count(*) AS n FROM search_doc').get() as { n: number }).n;
  }

  /** FTS5's own consistency check and SQLite's; the reason when either fails, else undefined. */
  integrity(): string | undefined {
    try {
      const rows = this.db.prepare('PRAGMA quick_check').all() as Array<Record<string, string>>;
      const bad = rows.map((r) => Object.values(r)[0]).filter((v) => v !== 'ok');
      if (bad.length) return bad.join('; ');
      this.db.prepare(`INSERT INTO search_fts (search_fts) VALUES ('integrity-check')`).run();
      const docs = this.count();
      const fts = (this.db.prepare('SELECT count(*) AS n FROM search_fts').get() as { n: number }).n;
      if (docs !== fts) return `${docs} indexed memories but ${fts} rows of text`;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
    return undefined;
  }

  /**
   * Compares memories with what is indexed for them: missing, stale (any searched field differs)
   * and orphans (indexed ids not among `memories`, unless listed in `skip`). Ids in `skip` are
   * not compared (changes the index has not been asked to take in yet).
   */
  drift(memories: Iterable<Memory>, skip: Set<string> = new Set()): IndexDrift[] {
    const drift: IndexDrift[] = [];
    // A bit per row of search_doc, set for each row whose id is a memory's: the rows left unset are
    // the orphans. (A set of every memory's id was 8 MB of doctor's peak at 100,000.)
    const last = (this.db.prepare('SELECT max(rowid) AS n FROM search_doc').get() as { n: number | null }).n ?? 0;
    const ofMemory = new Uint32Array((last >> 5) + 1);
    const get = this.db.prepare(
      `SELECT d.rowid AS rowid, f.rowid AS ftsRow, d.type AS type, d.title AS title, d.tags AS tags, d.created AS created, d.updated AS updated, f.content AS content, f.title AS ftitle, f.tags AS ftags, f.facets AS facets
       FROM search_doc d LEFT JOIN search_fts f ON f.rowid = d.rowid WHERE d.id = ?`,
    );
    for (const m of memories) {
      if (skip.has(m.id)) continue;
      const row = get.get(m.id) as (DocRow & { rowid: number; ftsRow: number | null; content: string; ftitle: string; ftags: string; facets: string }) | undefined;
      if (row) ofMemory[row.rowid >> 5] |= 1 << (row.rowid & 31);
      if (!row || row.ftsRow === null) {
        drift.push({ id: m.id, kind: 'missing' });
        continue;
      }
      const same =
        row.type === m.type &&
        row.title === m.title &&
        row.tags === JSON.stringify(m.tags) &&
        row.created === m.created &&
        row.updated === m.updated &&
        row.ftitle === clean(m.title) &&
        row.ftags === clean(m.tags.join(' ')) &&
        row.content === clean(m.content) &&
        row.facets === facetsText(m.type, m.tags);
      if (!same) drift.push({ id: m.id, kind: 'stale' });
    }
    const rows = this.db.prepare('SELECT rowid, id FROM search_doc').iterate() as Iterable<{ rowid: number; id: string }>;
    for (const { rowid, id } of rows) {
      if (!(ofMemory[rowid >> 5] & (1 << (rowid & 31))) && !skip.has(id)) drift.push({ id, kind: 'orphan' });
    }
    return drift;
  }
}

/** A row's title (`t`) and body (`c`) with the matched words between MARK_OPEN and MARK_CLOSE. */
interface MarkedRow {
  rowid: number;
  t: string;
  c: string;
}

/** Which rows a deferred hit's marks are fetched for, and from where. */
const markSources = new WeakMap<SearchHit, { source: MarkSource; rowid: number }>();

/**
 * The marked texts of one search's hits. Fetched in one query for all hits (a search's own), or,
 * with `SearchQuery.deferMarks`, for the hits a caller names to `fetchMarks`, and any other hit
 * alone when it is first read.
 */
class MarkSource {
  private readonly rows = new Map<number, MarkedRow | undefined>();

  constructor(private readonly fetch: (rowids: number[]) => MarkedRow[]) {}

  /** Fetches the rows not fetched yet, in one query. A row gone since the ranking stays unmarked. */
  load(rowids: number[]): void {
    const missing = rowids.filter((rowid) => !this.rows.has(rowid));
    if (!missing.length) return;
    for (const rowid of missing) this.rows.set(rowid, undefined);
    for (const row of this.fetch(missing)) this.rows.set(row.rowid, row);
  }

  get(rowid: number): MarkedRow | undefined {
    this.load([rowid]);
    return this.rows.get(rowid);
  }

  attach(rowid: number, hit: SearchHit): SearchHit {
    markSources.set(hit, { source: this, rowid });
    return hit;
  }
}

/**
 * Fetches the marked title and snippet of these hits of searches run with `deferMarks`, one query
 * per search, while their storage is still open. Other hits are left alone.
 */
export function fetchMarks(hits: SearchHit[]): void {
  const bySource = new Map<MarkSource, number[]>();
  for (const hit of hits) {
    const at = markSources.get(hit);
    if (!at) continue;
    const rowids = bySource.get(at.source) ?? [];
    rowids.push(at.rowid);
    bySource.set(at.source, rowids);
  }
  for (const [source, rowids] of bySource) source.load(rowids);
}

/**
 * `target` with more fields, each computed on first read (then an ordinary field): still a plain
 * object, whole to JSON.stringify, spread and deep equality.
 */
function withLazyFields<T extends object, L extends Record<string, unknown>>(target: T, fields: { [K in keyof L]: () => L[K] }): T & L {
  for (const [key, compute] of Object.entries(fields)) {
    Object.defineProperty(target, key, {
      enumerable: true,
      configurable: true,
      get() {
        const value = compute();
        Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
        return value;
      },
    });
  }
  return target as T & L;
}
