import { join } from 'node:path';
import { BusyError, fromFsError } from '../errors.js';

/** The lock of a context: a directory beside the memories, made and checked by proper-lockfile. */
export const LOCK_FILE = '.whitemagic.lock';

/** How long a command waits for another process's lock before failing "context is busy". */
export function lockTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.WHITEMAGIC_LOCK_TIMEOUT;
  const seconds = raw ? Number(raw) : 10;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 10_000;
}

/**
 * Runs `fn` holding the context's lock. A lock left by a killed process is stale after `stale` ms
 * and taken over; a live one is waited for up to `timeoutMs`, then BusyError (exit 1).
 */
export async function withContextLock<T>(dir: string, fn: () => T | Promise<T>, timeoutMs = lockTimeoutMs()): Promise<T> {
  const lockfile = (await import('proper-lockfile')).default;
  const interval = 50;
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dir, {
      lockfilePath: join(dir, LOCK_FILE),
      realpath: false,
      stale: 10_000,
      update: 2_000,
      retries: { retries: Math.ceil(timeoutMs / interval), factor: 1, minTimeout: interval, maxTimeout: interval },
      onCompromised: () => {
        // Another process took the lock as stale while we held it (we were frozen > 10 s): the
        // operations under it are each atomic, so keep going rather than crash mid-way.
      },
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new BusyError(`context is busy: another process holds the lock of ${dir}`, 'try again, or raise --lock-timeout');
    }
    throw fromFsError(err, join(dir, LOCK_FILE));
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}
