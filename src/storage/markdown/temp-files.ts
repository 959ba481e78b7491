import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Temporary files of atomic writes (SPEC section 9: they never show as memories and are cleaned).
 * write-file-atomic writes `<name>.<number>` beside the target and renames it into place; a process
 * killed in between leaves it behind. Memory files end in `.md`, so these are never read as memories;
 * this module removes them once they are old enough that no live writer can still own them.
 */

/** A writer finishes a file in well under this; an older temporary file belongs to a dead process. */
export const TEMP_MAX_AGE_MS = 60_000;

/** `x.md.123456`, `whitemagic.json.123`, `.whitemagic-catalog.tsv.99`: a leftover of an atomic write. */
export function isTempFileName(name: string): boolean {
  return /\.(md|json)\.[0-9a-f]+$/i.test(name) || /^\.whitemagic-catalog\.tsv\.[0-9a-f]+$/i.test(name);
}

/**
 * Removes the temporary files among `names` (entries of `folder`) last changed before
 * `now - TEMP_MAX_AGE_MS` (their last write; a live writer keeps writing). Never fails the command: a file that cannot be removed stays for the next.
 * Returns how many were removed.
 */
export function removeStaleTempFiles(folder: string, names: Iterable<string>, now = Date.now()): number {
  let removed = 0;
  for (const name of names) {
    if (!isTempFileName(name)) continue;
    const path = join(folder, name);
    try {
      const st = statSync(path);
      if (!st.isFile() || st.mtimeMs > now - TEMP_MAX_AGE_MS) continue;
      unlinkSync(path);
      removed++;
    } catch {
      // Gone already, or not ours to remove: left for the next command.
    }
  }
  return removed;
}

/** Removes stale temporary files at the root of a context (the manifest's and the catalog's). */
export function removeStaleRootTempFiles(dir: string, now = Date.now()): number {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  return removeStaleTempFiles(dir, names, now);
}
