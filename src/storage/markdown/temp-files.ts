import { closeSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from '../../util/random.js';

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

let tempPrefix: string | undefined;
let tempCount = 0;

/**
 * Writes `bytes` to `path` atomically for a bulk write, without flushing: a temporary file beside it
 * (named as isTempFileName expects, created exclusively, owner-only), then a rename over `path`.
 * The caller makes the batch durable (fsyncMany) before reporting success.
 *
 * write-file-atomic does the same for single writes, plus what a bulk write of new files does not
 * need per file: resolving the target's real path (an lstat per path component), a stat of the
 * target for its mode, a chmod, and an exit handler. On 10,000 files that was four times the cost
 * of the writes themselves (2.2 s against 0.55 s here), the larger part of a restore's time. A
 * process killed mid-write leaves only a temporary file, never a memory, and the next command
 * that scans the folder removes it once stale.
 */
export function writeFileForBatch(path: string, bytes: Uint8Array, mode: number): void {
  tempPrefix ??= Buffer.from(randomBytes(4)).toString('hex');
  const temp = `${path}.${tempPrefix}${(tempCount++).toString(16)}`;
  const fd = openSync(temp, 'wx', mode);
  try {
    try {
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // Gone already; or left for the stale-file sweep.
    }
    throw err;
  }
}
