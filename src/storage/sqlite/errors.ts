import { BusyError, InvalidInputError, WhitemagicError } from '../../errors.js';

/** What to do about a damaged database: its data is gone from this file, a backup has it. */
export const RESTORE_HINT = "find a backup with 'whitemagic backups', then 'whitemagic restore-backup FILE'";

/** How long one statement waits for another process's write lock (SQLite's busy handler). */
export const BUSY_TIMEOUT_MS = 5_000;
/** How long a write keeps retrying when SQLite still answers SQLITE_BUSY after its own wait. */
const BUSY_RETRY_MS = 30_000;

export function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/** SQLITE_BUSY and its extended codes (BUSY_RECOVERY, BUSY_SNAPSHOT), and a locked table. */
export function isBusy(err: unknown): boolean {
  const code = sqliteCode(err);
  return code !== undefined && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/**
 * Runs `fn`, retrying while SQLite reports the database busy. The busy timeout already waits inside
 * most statements, but a few paths (BEGIN IMMEDIATE racing a checkpoint, WAL recovery) return
 * SQLITE_BUSY at once; writers from many processes must never see it.
 */
export function retryBusy<T>(fn: () => T, path: string): T {
  const deadline = Date.now() + BUSY_RETRY_MS;
  let pause = 5;
  for (;;) {
    try {
      return fn();
    } catch (err) {
      if (!isBusy(err)) throw err;
      if (Date.now() >= deadline) {
        throw new BusyError(`context is busy: ${path} stayed locked by another process`, 'try again in a moment');
      }
      sleep(pause + Math.random() * pause);
      pause = Math.min(pause * 2, 100);
    }
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
function sleep(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/**
 * Turns an error from better-sqlite3 into a one-line WhitemagicError naming the database file.
 * A corrupt, truncated or foreign file points the user at their backups.
 */
export function fromSqliteError(err: unknown, path: string): unknown {
  if (err instanceof WhitemagicError) return err;
  const code = sqliteCode(err);
  if (!code) return err;
  const reason = (err as Error).message.split('\n')[0];
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB' || code === 'SQLITE_FORMAT') {
    return new InvalidInputError(
      `${path} is corrupt or not a whitemagic database (${reason})`,
      RESTORE_HINT,
      'corrupt',
    );
  }
  if (isBusy(err)) return new BusyError(`context is busy: ${path} is locked by another process`, 'try again in a moment');
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_PERM') || code.startsWith('SQLITE_AUTH')) {
    return new WhitemagicError('permission', `cannot write ${path} (${reason})`, { hint: 'check the permissions of that file and its folder' });
  }
  if (code.startsWith('SQLITE_CANTOPEN')) {
    return new WhitemagicError('io', `cannot open ${path} (${reason})`, { hint: 'check that the folder exists and is writable' });
  }
  if (code === 'SQLITE_FULL') return new WhitemagicError('io', `no space left on device while writing ${path}`);
  if (code.startsWith('SQLITE_IOERR')) return new WhitemagicError('io', `cannot read or write ${path} (${reason})`);
  return new WhitemagicError('io', `${path}: ${reason}`);
}
