/*
 * wm_bm25(fts, weights...): FTS5's own bm25 ranking, to the bit, with the length of each document
 * kept between queries. A SQLite extension, loaded into a connection by src/search/rank.ts.
 *
 * bm25 needs each matching document's length in tokens. FTS5 reads it, for every match of every
 * query, by running a statement on its `_docsize` table: for a common word at 100,000 memories
 * that lookup is most of the ranking (about 12 of 19 ms). Here the lengths are kept in an array by
 * rowid, filled as documents are ranked, and dropped when the database may have changed: when
 * this connection changed any row (sqlite3_total_changes64) or the database file's data version
 * moved (SQLITE_FCNTL_DATA_VERSION: a commit by this or any other connection). The score is
 * computed exactly as fts5Bm25Function (ext/fts5/fts5_aux.c) computes it, in the same order of
 * operations, so both give the same doubles: the builtin serves where this is not built.
 *
 * wm_bm25_rows(): how many rows the last ranking on this connection scored (every match of its
 * MATCH: what a count(*) of it would say), so a search needs no second pass to count.
 *
 * One FTS5 table per connection is ranked with it (whitemagic's `search_fts`): the lengths are
 * kept per connection, not per table.
 *
 * wm_keep_wal(): keeps this connection's `-wal` and `-shm` files when it closes
 * (SQLITE_FCNTL_PERSIST_WAL), a setting SQLite gives only through sqlite3_file_control, which
 * better-sqlite3 does not expose. A WAL database's last connection otherwise deletes both files at
 * close and the next one makes them again: two files made and two unlinked by every search of a
 * markdown context, twenty by a federated search of ten (src/storage/markdown/search-index.ts).
 * Returns 1 when the setting took.
 */
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT1
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Rowids below this have their length kept (4 bytes each, at most 16 MiB); larger ones are looked up each time. */
#define MAX_KEPT_ROWID (1 << 22)

typedef struct Ranker {
  sqlite3 *db;
  int *sizes; /* tokens of each rowid's document, -1 where not known yet */
  sqlite3_int64 capacity;
  sqlite3_int64 changes; /* the state the sizes were read in */
  unsigned int version;
  int versionKnown;
  sqlite3_int64 rows; /* rows scored by the latest ranking */
} Ranker;

/* What one query computes once: as Fts5Bm25Data in fts5_aux.c. */
typedef struct Query {
  int nPhrase;
  double avgdl;
  double *aIDF;
  double *aFreq;
  int nCol;
  double *aWeight; /* each column's weight, read from the arguments once */
} Query;

static void forget(Ranker *r) {
  free(r->sizes);
  r->sizes = 0;
  r->capacity = 0;
}

/* Drops the kept lengths if the database may have changed since they were read. */
static void checkCurrent(Ranker *r) {
  sqlite3_int64 changes = sqlite3_total_changes64(r->db);
  unsigned int version = 0;
  int known = sqlite3_file_control(r->db, "main", SQLITE_FCNTL_DATA_VERSION, &version) == SQLITE_OK;
  if (changes != r->changes || known != r->versionKnown || version != r->version) forget(r);
  r->changes = changes;
  r->version = version;
  r->versionKnown = known;
}

static int keep(Ranker *r, sqlite3_int64 rowid, int size) {
  if (rowid < 0 || rowid >= MAX_KEPT_ROWID) return SQLITE_OK;
  if (rowid >= r->capacity) {
    sqlite3_int64 capacity = r->capacity ? r->capacity : 1024;
    while (capacity <= rowid) capacity *= 2;
    int *sizes = realloc(r->sizes, (size_t)capacity * sizeof(int));
    if (!sizes) return SQLITE_NOMEM;
    memset(sizes + r->capacity, 0xff, (size_t)(capacity - r->capacity) * sizeof(int)); /* -1 */
    r->sizes = sizes;
    r->capacity = capacity;
  }
  r->sizes[rowid] = size;
  return SQLITE_OK;
}

static int countHit(const Fts5ExtensionApi *api, Fts5Context *fts, void *count) {
  (void)api;
  (void)fts;
  (*(sqlite3_int64 *)count)++;
  return SQLITE_OK;
}

/* As fts5Bm25GetData: the average length and each phrase's IDF, computed at a query's first row. */
static int queryOf(const Fts5ExtensionApi *api, Fts5Context *fts, int nVal, sqlite3_value **apVal, Query **out) {
  Query *q = (Query *)api->xGetAuxdata(fts, 0);
  if (q) {
    *out = q;
    return SQLITE_OK;
  }
  int nPhrase = api->xPhraseCount(fts);
  int nCol = api->xColumnCount(fts);
  size_t bytes = sizeof(Query) + sizeof(double) * ((size_t)nPhrase * 2 + (size_t)nCol);
  q = (Query *)sqlite3_malloc64(bytes);
  if (!q) return SQLITE_NOMEM;
  memset(q, 0, bytes);
  q->nPhrase = nPhrase;
  q->aIDF = (double *)&q[1];
  q->aFreq = &q->aIDF[nPhrase];
  q->nCol = nCol;
  q->aWeight = &q->aFreq[nPhrase];
  for (int c = 0; c < nCol; c++) q->aWeight[c] = nVal > c ? sqlite3_value_double(apVal[c]) : 1.0;
  sqlite3_int64 nRow = 0;
  sqlite3_int64 nToken = 0;
  int rc = api->xRowCount(fts, &nRow);
  if (rc == SQLITE_OK) rc = api->xColumnTotalSize(fts, -1, &nToken);
  if (rc == SQLITE_OK) q->avgdl = (double)nToken / (double)nRow;
  for (int i = 0; rc == SQLITE_OK && i < nPhrase; i++) {
    sqlite3_int64 nHit = 0;
    rc = api->xQueryPhrase(fts, i, (void *)&nHit, countHit);
    if (rc == SQLITE_OK) {
      double idf = log((nRow - nHit + 0.5) / (nHit + 0.5));
      if (idf <= 0.0) idf = 1e-6;
      q->aIDF[i] = idf;
    }
  }
  if (rc == SQLITE_OK) rc = api->xSetAuxdata(fts, q, sqlite3_free);
  else sqlite3_free(q);
  if (rc == SQLITE_OK) *out = q;
  return rc;
}

static void wmBm25(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int nVal, sqlite3_value **apVal) {
  Ranker *r = (Ranker *)api->xUserData(fts);
  const double k1 = 1.2;
  const double b = 0.75;
  int first = api->xGetAuxdata(fts, 0) == 0;
  Query *q = 0;
  int rc = queryOf(api, fts, nVal, apVal, &q);
  if (rc == SQLITE_OK && first) {
    checkCurrent(r);
    r->rows = 0;
  }
  /* Each phrase's weighted count of instances, phrase by phrase: FTS5's bm25 goes through xInst,
   * which first merges every phrase's positions into one array sorted by place; the sums here add
   * the same weights in the same order (a phrase's instances come in place order either way). */
  if (rc == SQLITE_OK) r->rows++;
  for (int ip = 0; rc == SQLITE_OK && ip < q->nPhrase; ip++) {
    Fts5PhraseIter iter;
    int ic = -1, io = 0;
    double freq = 0.0;
    rc = api->xPhraseFirst(fts, ip, &iter, &ic, &io);
    for (; rc == SQLITE_OK && ic >= 0; api->xPhraseNext(fts, &iter, &ic, &io)) freq += ic < q->nCol ? q->aWeight[ic] : 1.0;
    q->aFreq[ip] = freq;
  }
  double D = 0.0;
  if (rc == SQLITE_OK) {
    sqlite3_int64 rowid = api->xRowid(fts);
    if (rowid >= 0 && rowid < r->capacity && r->sizes[rowid] >= 0) {
      D = (double)r->sizes[rowid];
    } else {
      int nTok = 0;
      rc = api->xColumnSize(fts, -1, &nTok);
      if (rc == SQLITE_OK) {
        D = (double)nTok;
        rc = keep(r, rowid, nTok);
      }
    }
  }
  if (rc == SQLITE_OK) {
    double score = 0.0;
    for (int i = 0; i < q->nPhrase; i++) {
      score += q->aIDF[i] * ((q->aFreq[i] * (k1 + 1.0)) / (q->aFreq[i] + k1 * (1 - b + b * D / q->avgdl)));
    }
    sqlite3_result_double(ctx, -1.0 * score);
  } else {
    sqlite3_result_error_code(ctx, rc);
  }
}

static void wmKeepWal(sqlite3_context *ctx, int nVal, sqlite3_value **apVal) {
  (void)nVal;
  (void)apVal;
  int on = 1;
  sqlite3_result_int(ctx, sqlite3_file_control(sqlite3_context_db_handle(ctx), "main", SQLITE_FCNTL_PERSIST_WAL, &on) == SQLITE_OK);
}

static void wmBm25Rows(sqlite3_context *ctx, int nVal, sqlite3_value **apVal) {
  (void)nVal;
  (void)apVal;
  sqlite3_result_int64(ctx, ((Ranker *)sqlite3_user_data(ctx))->rows);
}

static void dropRanker(void *p) {
  forget((Ranker *)p);
  sqlite3_free(p);
}

static fts5_api *fts5Of(sqlite3 *db) {
  fts5_api *api = 0;
  sqlite3_stmt *stmt = 0;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &stmt, 0) == SQLITE_OK) {
    sqlite3_bind_pointer(stmt, 1, (void *)&api, "fts5_api_ptr", 0);
    sqlite3_step(stmt);
  }
  sqlite3_finalize(stmt);
  return api;
}

#ifdef _WIN32
__declspec(dllexport)
#endif
int sqlite3_whitemagicrank_init(sqlite3 *db, char **error, const sqlite3_api_routines *routines) {
  SQLITE_EXTENSION_INIT2(routines);
  fts5_api *fts5 = fts5Of(db);
  if (!fts5 || fts5->iVersion < 2) {
    *error = sqlite3_mprintf("FTS5 is not available");
    return SQLITE_ERROR;
  }
  Ranker *r = (Ranker *)sqlite3_malloc64(sizeof(Ranker));
  if (!r) return SQLITE_NOMEM;
  memset(r, 0, sizeof(Ranker));
  r->db = db;
  /* The rows function does not own the ranker: the FTS5 function frees it with the connection. */
  int rc = sqlite3_create_function_v2(db, "wm_bm25_rows", 0, SQLITE_UTF8, r, wmBm25Rows, 0, 0, 0);
  if (rc == SQLITE_OK) rc = sqlite3_create_function_v2(db, "wm_keep_wal", 0, SQLITE_UTF8, 0, wmKeepWal, 0, 0, 0);
  if (rc != SQLITE_OK) {
    sqlite3_free(r);
    return rc;
  }
  return fts5->xCreateFunction(fts5, "wm_bm25", r, wmBm25, dropRanker);
}
