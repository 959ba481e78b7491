import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type BetterSqlite3 from 'better-sqlite3';
import { loadNativeModule } from '../../util/native.js';

export type Database = BetterSqlite3.Database;
type DatabaseConstructor = typeof BetterSqlite3;
type OpenOptions = BetterSqlite3.Options;

let open: ((file: string | Buffer, options: OpenOptions) => Database) | undefined;

/**
 * Opens a SQLite database with better-sqlite3, loaded on first use (a markdown `list` never loads it).
 *
 * Loaded as a package, better-sqlite3 is a dozen CommonJS files, each resolved, read and compiled,
 * and its native addon is found by the `bindings` package probing a dozen paths: about 9 ms of every
 * SQLite command. So its JavaScript is bundled into ours (compiled once into the code cache with the
 * rest of the command line) and its addon is loaded straight from the installed package's
 * `build/Release`. The installed package stays the authority: when its version differs from the
 * one bundled, or its addon is elsewhere (a prebuilt binary in another layout), the package is
 * loaded as usual.
 */
export function openSqlite(file: string | Buffer, options: OpenOptions): Database {
  open ??= loadDriver();
  const db = open(file, options);
  // Those closed since are dropped here too: a long-lived process (the MCP server) opens one per
  // markdown search and never asks openConnections, which would otherwise keep them all.
  opened = opened.filter((other) => other.open);
  opened.push(db);
  return db;
}

/** Connections this process opened, until they are seen closed. */
let opened: Database[] = [];

/**
 * How many SQLite connections this process has open. The command line ends at once only when
 * none is (src/cli/fast-exit.ts): an open one would not get the checkpoint its close makes.
 */
export function openConnections(): number {
  opened = opened.filter((db) => db.open);
  return opened.length;
}

function loadDriver(): (file: string | Buffer, options: OpenOptions) => Database {
  const requireHere = createRequire(import.meta.url);
  const asPackage = (): ((file: string | Buffer, options: OpenOptions) => Database) => {
    const Driver = requireHere('better-sqlite3') as DatabaseConstructor;
    return (file, options) => new Driver(file, options);
  };
  let packageDir: string;
  try {
    packageDir = installedBeside() ?? dirname(requireHere.resolve('better-sqlite3/package.json'));
  } catch {
    return asPackage();
  }
  const addonFile = join(packageDir, 'build', 'Release', 'better_sqlite3.node');
  const bundledVersion = (require('better-sqlite3/package.json') as { version: string }).version;
  let installedVersion: unknown;
  try {
    installedVersion = (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version?: unknown }).version;
  } catch {
    installedVersion = undefined;
  }
  if (installedVersion !== bundledVersion || !existsSync(addonFile)) return asPackage();
  const Driver = require('better-sqlite3/lib/database.js') as DatabaseConstructor;
  const addon = loadNativeModule(addonFile) as object;
  // The addon object itself is accepted (better-sqlite3 documents it; its types say only a path).
  return (file, options) => new Driver(file, { ...options, nativeBinding: addon as unknown as string });
}

/**
 * better-sqlite3 in the node_modules beside this package's files (dist/ or dist/chunks/ is where
 * this code runs), where an install puts it unless it was hoisted: found with one stat instead of
 * Node's resolution (about a millisecond). Undefined when it is not there.
 */
function installedBeside(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let level = 0; level < 2; level++) {
    dir = dirname(dir);
    const candidate = join(dir, 'node_modules', 'better-sqlite3');
    if (existsSync(join(candidate, 'package.json'))) return candidate;
  }
  return undefined;
}

/**
 * Gives `db` SQLite's own default page cache (2 MB) for work that touches each page once (a read
 * of every row, a transaction that indexes thousands of files), and returns what gives the
 * connection its own back. better-sqlite3 builds SQLite with 16 MB a connection, which such work
 * only fills: at 100,000 memories, 50 MiB of the peak of a SQLite backup and 20 of a markdown
 * reindex. Giving it back can fail only while a read is still open on the connection; the small
 * cache then stays, which costs only speed.
 */
export function onePassCache(db: Database): () => void {
  const own = db.pragma('cache_size', { simple: true }) as number;
  db.pragma(`cache_size = ${ONE_PASS_CACHE_KIB}`);
  return () => {
    try {
      db.pragma(`cache_size = ${own}`);
    } catch {
      // A read still open on this connection: see above.
    }
  };
}

/** A page cache size in KiB (SQLite takes a negative size as KiB): SQLite's own default. */
const ONE_PASS_CACHE_KIB = -2000;
