import type BetterSqlite3 from 'better-sqlite3';
import type { MemoryType } from '../../memory/types.js';
import { WhitemagicError } from '../../errors.js';
import { SearchIndex } from '../../search/fts.js';

type Database = BetterSqlite3.Database;

/**
 * The schema of `whitemagic.db`, as numbered steps. `PRAGMA user_version` records how many have
 * run; opening a database runs the missing ones (each in the same transaction as the version bump,
 * so a crash leaves the previous version whole) and refuses a database made by a newer version.
 * A later change adds a step at the end; a step never changes once released.
 */
export const SCHEMA_STEPS: ReadonlyArray<(db: Database) => void> = [
  // 1: the memories. `seq` is an explicit rowid so that an index keyed by rowid (full-text) stays
  // valid through VACUUM. Tags and extra front-matter keys are JSON, in their stored order.
  (db) =>
    db.exec(`
      CREATE TABLE memories (
        seq     INTEGER PRIMARY KEY,
        id      TEXT NOT NULL UNIQUE,
        name    TEXT NOT NULL,
        title   TEXT NOT NULL,
        content TEXT NOT NULL,
        type    TEXT NOT NULL CHECK (type IN ('short_term', 'long_term', 'archive')),
        tags    TEXT NOT NULL DEFAULT '[]',
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        meta    TEXT NOT NULL DEFAULT '{}',
        bytes   INTEGER NOT NULL
      );
      CREATE INDEX memories_type_created ON memories (type, created);
      CREATE INDEX memories_type_updated ON memories (type, updated);
      CREATE INDEX memories_name ON memories (name);
    `),
  // 2: one row per (tag, memory), so a tag filter and tag counts use an index instead of parsing
  // every row's JSON. Filled from the rows already there.
  (db) =>
    db.exec(`
      CREATE TABLE memory_tags (
        tag TEXT NOT NULL,
        seq INTEGER NOT NULL REFERENCES memories (seq) ON DELETE CASCADE,
        PRIMARY KEY (tag, seq)
      ) WITHOUT ROWID;
      CREATE INDEX memory_tags_seq ON memory_tags (seq);
      INSERT OR IGNORE INTO memory_tags (tag, seq)
        SELECT j.value, m.seq FROM memories m, json_each(m.tags) j;
    `),
  // 3: the full-text index both backends share (src/search/fts.ts), filled from the rows already there.
  (db) => SearchIndex.create(db).fill(db.prepare('SELECT id, title, content, type, tags, created, updated FROM memories').all() as FullRow[]),
  // 4: sizes by type from an index: `status` and `stats` at 100,000 memories read 2 MB of index
  // instead of every row (0.23 s).
  (db) => db.exec('CREATE INDEX memories_type_bytes ON memories (type, bytes)'),
];

/**
 * The oldest version this build reads as it is when it cannot upgrade it (a database it may not
 * write): every later step only adds an index, so the same queries give the same answers, slower.
 */
export const READABLE_FROM = 3;

interface FullRow {
  id: string;
  title: string;
  content: string;
  type: MemoryType;
  tags: string;
  created: string;
  updated: string;
}

/** The schema version this build writes and reads. */
export const SCHEMA_VERSION = SCHEMA_STEPS.length;

export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the database at `path` to `target` (default: this build's version). Idempotent: a current
 * database is left untouched. The caller holds a write transaction (BEGIN IMMEDIATE), so two
 * processes opening an old database at once upgrade it once.
 */
export function upgradeSchema(db: Database, path: string, target = SCHEMA_VERSION): void {
  const current = schemaVersion(db);
  refuseNewer(current, path);
  for (let v = current; v < target; v++) SCHEMA_STEPS[v](db);
  if (target > current) db.pragma(`user_version = ${target}`);
}

/** A database from a newer whitemagic is refused, naming both versions. */
export function refuseNewer(version: number, path: string): void {
  if (version > SCHEMA_VERSION) {
    throw new WhitemagicError(
      'unsupported',
      `${path} was written by a newer whitemagic (database schema ${version}; this version reads up to ${SCHEMA_VERSION})`,
      { hint: 'upgrade whitemagic to use this context' },
    );
  }
}
