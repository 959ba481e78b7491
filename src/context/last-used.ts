import { closeSync, openSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';

/**
 * When a context was last used: the mtime of an empty file in it, touched whenever a command opens
 * the context. One system call, no lock and no rewrite of any memory, so reads never contend. It
 * is a derived file: never in a backup, never copied by clone.
 */
export const LAST_USED_FILE = '.last-used';

/** Marks the context at `dir` as used now. Errors are ignored: a read-only context still reads. */
export function touchLastUsed(dir: string): void {
  const path = join(dir, LAST_USED_FILE);
  const now = new Date();
  try {
    utimesSync(path, now, now);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return;
    try {
      closeSync(openSync(path, 'a', 0o600));
    } catch {
      // Read-only or gone: last use is a convenience, not a promise.
    }
  }
}

/** When the context at `dir` was last opened (ISO), or undefined if no command has marked it yet. */
export function lastUsed(dir: string): string | undefined {
  try {
    return statSync(join(dir, LAST_USED_FILE)).mtime.toISOString();
  } catch {
    return undefined;
  }
}
