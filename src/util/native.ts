import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What whitemagic's own native addon (`native/`, built on install when a compiler is there) offers. */
export interface NativeAddon {
  /**
   * A folder's names joined by "/" in byte order, FIELDS doubles of lstat per name, whether that
   * order is certainly JavaScript's, the folder's own inode, mtimeMs and ctimeMs with the time
   * they were taken (null if they could not be), whether the names came from the catalog's record
   * of the folder rather than its readdir, whether that catalog has a clean index that records no
   * folder (one of an earlier version), and whether the listing was read ahead (native/folder.c).
   * An addon built before the last four gives only the first three.
   */
  readFolder(folder: string): [string, Float64Array, boolean, (Float64Array | null)?, boolean?, boolean?, boolean?];
  /**
   * Starts reading these folders on a thread of the addon's own; the first readFolder of each then
   * takes that result (src/cli/read-ahead.ts). `records`, beside `folders`: for each, null or the
   * path of its context's catalog and the folder's index in MEMORY_TYPES, whose record of the
   * folder may stand for its readdir (native/folder.c). Once per process; later calls are ignored.
   */
  prefetch(folders: string[], records?: Array<[string, number] | null>): void;
  /**
   * The entries whose stats differ between a listing's and the same layout as bytes
   * (native/folder.c). Absent from an addon built before it existed.
   */
  changedEntries?(stats: Float64Array, recorded: Uint8Array): Int32Array;
  /**
   * A digest of folder listings: each folder's joined names (null: no folder) and stats
   * (native/folder.c). Absent from an addon built before it existed.
   */
  listingDigest?(names: Array<string | null>, stats: Array<Float64Array | null>): string;
  /**
   * Ends the process at once with this code (native/exit.c): no teardown, no waiting for V8's
   * background work. Absent from an addon built before it existed.
   */
  exitNow?(code: number): never;
  /**
   * The front-matter digest of each file (native/digest.c), or null where the caller must read the
   * file itself. Absent from an addon built before it existed.
   */
  frontMatterDigests?(paths: string[]): Array<string | null>;
}

const ADDON = 'whitemagic_native.node';

let addon: NativeAddon | null | undefined;

/**
 * The native addon, or null where it was not built (no compiler at install, another platform) or
 * is turned off with WHITEMAGIC_NATIVE=0: every caller has a plain Node.js path that gives the same
 * answers, more slowly.
 */
export function nativeAddon(): NativeAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  const file = builtFile(ADDON);
  if (!file) return addon;
  try {
    addon = loadNativeModule(file) as NativeAddon;
  } catch {
    // Built for another Node.js, or broken: the plain path serves.
  }
  return addon;
}

/**
 * A native module's exports, loaded straight with `process.dlopen`, which is what `require` does
 * for a `.node` file after resolving its path: about 0.13 ms against 1.1 ms through `require` for
 * the first one a process loads. Loading the same file again (the launcher and the bundle each ask
 * once) finds it already in memory.
 */
export function loadNativeModule(file: string): unknown {
  const module = { exports: {} };
  process.dlopen(module, file);
  return module.exports;
}

/**
 * The path of a file the native build made (`build/Release/<name>`), or undefined where it was not
 * built or WHITEMAGIC_NATIVE=0 turns native code off. Looked for in the package's root, a level or
 * three above this module (the bundles in dist/ and dist/chunks/, the sources in src/util/).
 */
export function builtFile(name: string): string | undefined {
  if (process.env.WHITEMAGIC_NATIVE === '0') return undefined;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let level = 0; level < 3; level++) {
    dir = dirname(dir);
    const file = join(dir, 'build', 'Release', name);
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** For tests: use (true) or ignore (false) the addon from now on; undefined looks for it again. */
export function setNativeAddon(use: boolean | undefined): void {
  addon = use === false ? null : undefined;
  if (use === true && nativeAddon() === null) throw new Error('the native addon is not built');
}
