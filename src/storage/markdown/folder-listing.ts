import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MEMORY_TYPES, type MemoryType } from '../../memory/types.js';
import { nativeAddon } from '../../util/native.js';

/** The folder of a markdown context that holds the three type folders (SPEC section 3). */
export const MEMORY_DIR = 'memory';

/** Doubles per name in `FolderListing.stats`. */
export const FIELDS = 5;
/** Offsets within a name's FIELDS. */
export const KIND = 0;
export const SIZE = 1;
export const MTIME = 2;
export const CTIME = 3;
export const INO = 4;
/** Kinds; a negative kind is minus the errno of a failed lstat. */
export const MISSING = 0;
export const FILE = 1;
export const LINK = 2;
export const OTHER = 3;

/**
 * One folder read: its entry names in JavaScript's sort order, and the lstat of each (a link is
 * never followed) as FIELDS doubles per name: kind, size, mtimeMs, ctimeMs, ino. Names the caller
 * did not want may be left unstated (MISSING).
 */
export interface FolderListing {
  readonly names: string[];
  readonly stats: Float64Array;
  /** The names joined by "/" (which no name contains), when the read gave them so. */
  readonly joined?: string;
  /**
   * The folder's own inode, mtimeMs and ctimeMs, taken before its names were read, and the clock's
   * time just before that (FOLDER_*), where the native addon read it. The catalog records them with
   * the names when they had settled, so that a later read can take the names from the record
   * while the folder's stat is unchanged (native/folder.c).
   */
  readonly folder?: Float64Array;
  /** True when the names came from the catalog's record of the folder, not from reading it. */
  readonly fromRecord?: boolean;
  /** True when the catalog given for the read has a clean index that records no folder (an earlier version's). */
  readonly unrecorded?: boolean;
  /** True when the folder was read ahead (src/cli/read-ahead.ts): a command that reads ahead, and will again. */
  readonly readAhead?: boolean;
}

/** Offsets within FolderListing.folder. */
export const FOLDER_INO = 0;
export const FOLDER_MTIME = 1;
export const FOLDER_CTIME = 2;
export const FOLDER_LISTED_AT = 3;

/** A listing's names joined by "/": what the catalog's clean index compares (catalog.ts). */
export function joinedNames(listing: FolderListing): string {
  return listing.joined ?? listing.names.join('/');
}

/**
 * Reads a folder of memory files and the stat of each, the check every markdown command starts
 * with. Through the native addon where it is built (one call: the folder is opened once and each
 * name looked up in it, with no object per file; about half the time at 10,000 files), else with
 * readdir and an lstat per wanted name. Throws as readdirSync does when the folder can't be read.
 * `listed` is told the number of names before a string or object is made per name.
 */
export function readFolder(folder: string, wanted: (name: string) => boolean, listed?: (names: number) => void): FolderListing {
  const addon = nativeAddon();
  if (addon) {
    const [joined, stats, sameOrder, own, fromRecord, unrecorded, ahead] = addon.readFolder(folder);
    listed?.(stats.length / FIELDS);
    const record = { folder: own ?? undefined, fromRecord: fromRecord === true, unrecorded: unrecorded === true, readAhead: ahead === true };
    // A string per name only when asked for: an unchanged folder is compared whole (joinedNames).
    if (sameOrder) return lazyNames(joined, stats, record);
    const names = splitNames(joined);
    if (inSortOrder(names)) return { names, stats, joined, ...record };
    // Byte order differs from JavaScript's only around astral characters: state them again in order.
  }
  return readFolderPlain(folder, wanted, listed);
}

/**
 * The same answer with Node.js alone. `listed` is told how many names the folder has before an
 * object is made per name (the heap hint, src/util/heap.ts).
 */
export function readFolderPlain(folder: string, wanted: (name: string) => boolean, listed?: (names: number) => void): FolderListing {
  const names = readdirSync(folder);
  listed?.(names.length);
  names.sort();
  // Plain concatenation: path.join per file costs as much as the lstat at 10,000 files.
  const prefix = folder.endsWith('/') ? folder : folder + '/';
  const stats = new Float64Array(names.length * FIELDS);
  for (let i = 0; i < names.length; i++) {
    if (!wanted(names[i])) continue;
    const at = i * FIELDS;
    let st;
    try {
      st = lstatSync(prefix + names[i], { throwIfNoEntry: false });
    } catch (err) {
      stats[at + KIND] = (err as NodeJS.ErrnoException).errno ?? -1;
      continue;
    }
    if (!st) continue; // removed since the listing: MISSING
    stats[at + KIND] = st.isFile() ? FILE : st.isSymbolicLink() ? LINK : OTHER;
    stats[at + SIZE] = st.size;
    stats[at + MTIME] = st.mtimeMs;
    stats[at + CTIME] = st.ctimeMs;
    stats[at + INO] = st.ino;
  }
  return { names, stats };
}

/**
 * The indexes of the entries whose stats (all FIELDS) in `stats` differ from `recorded`, the same
 * layout as bytes (the catalog's clean index keeps listings so). One native call where the addon
 * is built; else compared here.
 */
export function changedEntries(stats: Float64Array, recorded: Uint8Array): ArrayLike<number> {
  const native = nativeAddon()?.changedEntries;
  if (native) return native(stats, recorded);
  const before = new Float64Array(stats.length);
  new Uint8Array(before.buffer).set(recorded);
  const changed: number[] = [];
  for (let i = 0, at = 0; at < stats.length; i++, at += FIELDS) {
    for (let f = 0; f < FIELDS; f++) {
      if (stats[at + f] !== before[at + f]) {
        changed.push(i);
        break;
      }
    }
  }
  return changed;
}

/**
 * A digest of these listings (MEMORY_TYPES order; undefined: no folder): their names and stats,
 * natively (native/folder.c). Undefined where the addon is not built: the caller then keeps and
 * compares the listings whole.
 */
export function listingDigest(listings: Array<FolderListing | undefined>): string | undefined {
  return nativeAddon()?.listingDigest?.(
    listings.map((listing) => (listing ? joinedNames(listing) : null)),
    listings.map((listing) => listing?.stats ?? null),
  );
}

/** What the change checks compare: a file's size, times and inode. */
export interface FileStat {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

/** The stat of the listing's `i`-th name. */
export function statAt({ stats }: FolderListing, i: number): FileStat {
  const at = i * FIELDS;
  return { size: stats[at + SIZE], mtimeMs: stats[at + MTIME], ctimeMs: stats[at + CTIME], ino: stats[at + INO] };
}

function splitNames(joined: string): string[] {
  return joined === '' ? [] : joined.split('/');
}

function lazyNames(joined: string, stats: Float64Array, record: Pick<FolderListing, 'folder' | 'fromRecord' | 'unrecorded' | 'readAhead'>): FolderListing {
  let names: string[] | undefined;
  return {
    get names() {
      names ??= splitNames(joined);
      return names;
    },
    stats,
    joined,
    ...record,
  };
}

function inSortOrder(names: string[]): boolean {
  for (let i = 1; i < names.length; i++) if (names[i - 1] > names[i]) return false;
  return true;
}

/** The error a failed lstat gave, from its kind (minus errno), with Node.js's code and message. */
export function statError(kind: number, path: string): NodeJS.ErrnoException {
  const [code, description] = systemErrors().get(kind) ?? ['EIO', 'i/o error'];
  return Object.assign(new Error(`${code}: ${description}, lstat '${path}'`), { code, errno: kind, path, syscall: 'lstat' });
}

let systemErrorMap: Map<number, [string, string]> | undefined;
function systemErrors(): Map<number, [string, string]> {
  systemErrorMap ??= (require('node:util') as typeof import('node:util')).getSystemErrorMap();
  return systemErrorMap;
}

/** What kept a type folder from being read (readTypeFolders): its path in the context, and the error. */
export interface TypeFolderFailure {
  type: MemoryType;
  /** `memory/<type>`. */
  rel: string;
  /** The folder's full path. */
  folder: string;
  error: NodeJS.ErrnoException;
}

/**
 * A context's three type folders read with readFolder, in MEMORY_TYPES order, as every markdown
 * read starts (the backend's look and the search index's sync share it): undefined for a folder that
 * is missing, is a link or could not be read. A link (`memory` itself, or a type folder) is never
 * followed and is named in `linked`, once; a folder that could not be read is in `failures`, for
 * the caller to report or throw. `listed` is told the number of names listed so far (the heap hint).
 */
export function readTypeFolders(
  dir: string,
  wanted: (name: string) => boolean,
  listed?: (names: number) => void,
): { listings: Array<FolderListing | undefined>; linked: string[]; failures: TypeFolderFailure[] } {
  const listings: Array<FolderListing | undefined> = [];
  const linked: string[] = [];
  const failures: TypeFolderFailure[] = [];
  if (isLink(join(dir, MEMORY_DIR))) {
    linked.push(MEMORY_DIR);
    return { listings: MEMORY_TYPES.map(() => undefined), linked, failures };
  }
  let seen = 0;
  for (const type of MEMORY_TYPES) {
    const rel = `${MEMORY_DIR}/${type}`;
    // The same string the launcher reads ahead (read-ahead.ts): the addon matches folders by it.
    const folder = join(dir, MEMORY_DIR, type);
    listings.push(undefined);
    try {
      if (isLink(folder)) {
        linked.push(rel);
        continue;
      }
      const listing = readFolder(folder, wanted, (names) => listed?.(seen + names));
      seen += listing.stats.length / FIELDS;
      listings[listings.length - 1] = listing;
    } catch (err) {
      const error = err as NodeJS.ErrnoException;
      if (error.code !== 'ENOENT') failures.push({ type, rel, folder, error });
    }
  }
  return { listings, linked, failures };
}

/** Whether `path` is a symbolic link; false when it is missing or cannot be looked at. */
function isLink(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
  } catch {
    return false; // ENOTDIR, EACCES: the read that follows says so
  }
}
