import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What whitemagic's own native addon (`native/`, built on install when a compiler is there) offers. */
export interface NativeAddon {
  /**
   * A folder's names joined by "/" in byte order, FIELDS doubles of lstat per name, and whether
   * that order is certainly JavaScript's (native/folder.c).
   */
  readFolder(folder: string): [string, Float64Array, boolean];
  /**
   * Starts reading these folders on a thread of the addon's own; the first readFolder of each then
   * takes that result (src/cli/read-ahead.ts). Once per process; later calls are ignored.
   */
  prefetch(folders: string[]): void;
}

const ADDON = join('build', 'Release', 'whitemagic_native.node');

let addon: NativeAddon | null | undefined;

/**
 * The native addon, or null where it was not built (no compiler at install, another platform) or
 * is turned off with WHITEMAGIC_NATIVE=0: every caller has a plain Node.js path that gives the same
 * answers, more slowly. Looked for in the package's root, a level or three above this module (the
 * bundles in dist/ and dist/chunks/, the sources in src/util/).
 */
export function nativeAddon(): NativeAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (process.env.WHITEMAGIC_NATIVE === '0') return addon;
  const requireHere = createRequire(import.meta.url);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let level = 0; level < 3; level++) {
    dir = dirname(dir);
    try {
      addon = requireHere(join(dir, ADDON)) as NativeAddon;
      return addon;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Not there: look a level up. Built for another Node.js or broken: the plain path serves.
      if (code !== 'MODULE_NOT_FOUND' && code !== 'ENOENT') return addon;
    }
  }
  return addon;
}

/** For tests: use (true) or ignore (false) the addon from now on; undefined looks for it again. */
export function setNativeAddon(use: boolean | undefined): void {
  addon = use === false ? null : undefined;
  if (use === true && nativeAddon() === null) throw new Error('the native addon is not built');
}
