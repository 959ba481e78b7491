import type BetterSqlite3 from 'better-sqlite3';
import { builtFile } from '../util/native.js';

/**
 * How a connection ranks full-text matches: FTS5's `bm25`, or whitemagic's `wm_bm25`
 * (native/rank.c), the same function to the bit that keeps each document's length between queries
 * instead of looking it up for every match of every query (in-process search of a common word at
 * 100,000 memories: about 19 ms of ranking down to 7), and counts the rows it ranked, so a search
 * needs no second pass for its total. The extension is built on install beside the native addon;
 * where it is not (no compiler, WHITEMAGIC_NATIVE=0), the builtin gives the same order and scores.
 * The extension also sets what better-sqlite3 cannot: keepWalFiles below.
 */
export interface Ranking {
  /** The FTS5 function to rank with. */
  readonly fn: 'bm25' | 'wm_bm25';
  /** How many rows the latest ranking on this connection scored; undefined without the extension. */
  rowsRanked(): number | undefined;
}

const EXTENSION = 'whitemagic_rank.node';
const BUILTIN: Ranking = { fn: 'bm25', rowsRanked: () => undefined };

const rankings = new WeakMap<BetterSqlite3.Database, Ranking>();
let use: boolean | undefined;

/** The ranking of `db`, loading the extension into it on first use (once per connection). */
export function rankingOf(db: BetterSqlite3.Database): Ranking {
  let ranking = rankings.get(db);
  if (ranking) return ranking;
  ranking = BUILTIN;
  const file = use === false ? undefined : builtFile(EXTENSION);
  if (file) {
    try {
      db.loadExtension(file); // entry point sqlite3_whitemagicrank_init, as SQLite derives it from the name
      const rows = db.prepare('SELECT wm_bm25_rows() AS n').pluck();
      ranking = { fn: 'wm_bm25', rowsRanked: () => rows.get() as number };
    } catch {
      // Built for another SQLite, or refused: the builtin ranks the same.
    }
  }
  if (use === true && ranking === BUILTIN) throw new Error('the ranking extension is not built');
  rankings.set(db, ranking);
  return ranking;
}

/**
 * Keeps `db`'s `-wal` and `-shm` files when it closes (`wm_keep_wal`, native/rank.c), loading the
 * extension into it if need be; false where the extension is not loaded, and SQLite then deletes
 * both files when the last connection closes, as it does by default.
 */
export function keepWalFiles(db: BetterSqlite3.Database): boolean {
  if (rankingOf(db) === BUILTIN) return false;
  try {
    return db.prepare('SELECT wm_keep_wal()').pluck().get() === 1;
  } catch {
    return false; // an extension built before the function existed
  }
}

/** For tests: use (true) or ignore (false) the extension on connections ranked from now on; undefined as built. */
export function setRankExtension(value: boolean | undefined): void {
  use = value;
}
