import { readFileSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { lazyModule } from '../../util/lazy.js';
import type { MemoryHeader } from '../../memory/types.js';

/** Loaded on first write: reading commands never pay for it. */
const writeFileAtomic = lazyModule<typeof import('write-file-atomic')>('write-file-atomic');

/**
 * The catalog of a markdown context: a derived file holding the front matter of every memory file,
 * keyed by `<type>/<file>` with the file's size, times and inode, so a command re-reads only the
 * files that changed since the last command instead of parsing all of them.
 *
 * It is a cache, never the truth: every command still lists the three folders and stats each file
 * (SPEC section 3: files edited, added, copied in or removed by hand are seen by the next command),
 * and any file whose stat differs from its record is parsed again. A missing, unreadable or
 * foreign catalog reads as empty and is rebuilt. It is written atomically and never backed up.
 */
export const CATALOG_FILE = '.whitemagic-catalog.json';

/** Bump when the record layout changes: an older catalog is then ignored and rebuilt. */
const CATALOG_VERSION = 1;

/**
 * A record is trusted only if its file was last changed this long before the catalog's scan began.
 * File times are coarse (a clock tick, up to 2 s on some file systems): a file rewritten within the
 * same tick as it was read could keep the same size and times, the "racily clean" case git knows.
 */
const RACY_MS = 2_000;

/** The front matter of a memory as the catalog keeps it; `type`, `name` and `bytes` come from the file. */
export type CatalogHeader = Omit<MemoryHeader, 'type' | 'name' | 'bytes'> & { derivedId: boolean };

/**
 * What the catalog knows of one file, kept as the array stored on disk (small to store, and no
 * copying at load: a command over 10,000 unchanged files allocates as little as it can):
 * [size, mtimeMs, ctimeMs, ino, id, title, tags, created, updated, meta | 0, derivedId 0/1], or for
 * a file that cannot be read [size, mtimeMs, ctimeMs, ino, problem].
 */
export type CatalogRecord = [number, number, number, number, ...unknown[]];

/** The catalog as loaded: stored records by `<type>/<file>` (unchecked), and when its scan began. */
export interface Catalog {
  files: Record<string, unknown>;
  /** How many records it holds (to notice files removed since). */
  count: number;
  scannedAt: number;
}

type FileStat = Pick<Stats, 'size' | 'mtimeMs' | 'ctimeMs' | 'ino'>;

/** The catalog of the context at `dir`; empty when missing, unreadable or of another version. */
export function loadCatalog(dir: string): Catalog {
  const empty: Catalog = { files: {}, count: 0, scannedAt: 0 };
  let data: { version?: unknown; scannedAt?: unknown; count?: unknown; files?: unknown };
  try {
    data = JSON.parse(readFileSync(join(dir, CATALOG_FILE), 'utf8'));
  } catch {
    return empty;
  }
  if (
    !data ||
    data.version !== CATALOG_VERSION ||
    typeof data.scannedAt !== 'number' ||
    typeof data.count !== 'number' ||
    !data.files ||
    typeof data.files !== 'object'
  ) {
    return empty;
  }
  return { files: data.files as Record<string, unknown>, count: data.count, scannedAt: data.scannedAt };
}

/**
 * The stored record of a file if it can be used as is: well formed, the file exactly as recorded
 * (same inode, size and times), and changed long enough before the catalog's scan (see RACY_MS).
 * A catalog edited or damaged by hand must never crash a command: anything odd means "read the file".
 */
export function trustedRecord(stored: unknown, st: FileStat, scannedAt: number): CatalogRecord | undefined {
  if (!Array.isArray(stored) || !sameFile(stored as CatalogRecord, st) || !settled(stored as CatalogRecord, scannedAt)) return undefined;
  if (stored.length === 5) return typeof stored[4] === 'string' ? (stored as CatalogRecord) : undefined;
  return headerOf(stored as CatalogRecord) ? (stored as CatalogRecord) : undefined;
}

/** The file is exactly as recorded: same inode, size and times. */
export function sameFile(record: CatalogRecord, st: FileStat): boolean {
  return record[0] === st.size && record[1] === st.mtimeMs && record[2] === st.ctimeMs && record[3] === st.ino;
}

/** The file last changed long enough before `scanStart` that an unchanged stat means unchanged content. */
export function settled(record: CatalogRecord, scanStart: number): boolean {
  return Math.max(record[1], record[2]) < scanStart - RACY_MS;
}

/** The header of a record, or undefined for a record of an unreadable file or a malformed one. */
export function headerOf(record: CatalogRecord): CatalogHeader | undefined {
  if (record.length !== 11) return undefined;
  const [, , , , id, title, tags, created, updated, meta, derived] = record;
  if (typeof id !== 'string' || typeof title !== 'string' || typeof created !== 'string' || typeof updated !== 'string') return undefined;
  if (!Array.isArray(tags)) return undefined;
  const metaObject = meta && typeof meta === 'object' && !Array.isArray(meta) ? (meta as Record<string, unknown>) : {};
  return { id, title, tags: tags as string[], created, updated, meta: metaObject, derivedId: derived === 1 };
}

/** Why the file of a record cannot be read, if that is what it records. */
export function problemOf(record: CatalogRecord): string | undefined {
  return record.length === 5 ? String(record[4]) : undefined;
}

/** A new record for a file with these stats: its header, or the problem that stops it being read. */
export function recordFor(st: FileStat, body: CatalogHeader | string): CatalogRecord {
  const head: CatalogRecord = [st.size, st.mtimeMs, st.ctimeMs, st.ino];
  if (typeof body === 'string') return [...head, body];
  const meta = Object.keys(body.meta).length ? body.meta : 0;
  return [...head, body.id, body.title, body.tags, body.created, body.updated, meta, body.derivedId ? 1 : 0];
}

/**
 * Writes the catalog atomically. No fsync: it is derived, and a lost or torn write only costs a
 * rebuild. Failing to write (a read-only disk, permissions) is not an error for the command.
 */
export function saveCatalog(dir: string, records: Map<string, CatalogRecord>, scannedAt: number): void {
  const files: Record<string, CatalogRecord> = {};
  for (const [key, record] of records) files[key] = record;
  const text = JSON.stringify({ version: CATALOG_VERSION, scannedAt, count: records.size, files });
  try {
    writeFileAtomic().sync(join(dir, CATALOG_FILE), text, { mode: 0o600, fsync: false });
  } catch {
    // Derived data: the next command rebuilds what this one could not write.
  }
}
