import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { fromFsError } from '../../errors.js';
import type { BackendFactory } from '../types.js';
import { openDatabase, SqliteBackend } from './backend.js';
import { onePassCache } from './driver.js';

/** The database of a SQLite context, beside its manifest (SPEC section 2). */
export const DB_FILE = 'whitemagic.db';

/**
 * The SQLite backend: one database file per context. This module is the only one that loads
 * better-sqlite3, and the registry loads it only for a SQLite context.
 */
const sqlite: BackendFactory = {
  name: 'sqlite',
  open(dir, options) {
    const path = join(dir, DB_FILE);
    const db = openDatabase(path, { readonly: options.readonly });
    if (options.onePass) onePassCache(db);
    return new SqliteBackend(db, path);
  },
  create(dir) {
    const path = join(dir, DB_FILE);
    try {
      // Made first with owner-only permissions; SQLite gives its -wal and -shm files the same.
      closeSync(openSync(path, 'a', 0o600));
    } catch (err) {
      throw fromFsError(err, path);
    }
    openDatabase(path, { creating: true }).close();
  },
  dataPaths(dir) {
    return [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`].map((f) => join(dir, f));
  },
};

export default sqlite;
