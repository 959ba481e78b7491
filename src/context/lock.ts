import { join } from 'node:path';
import { BusyError, fromFsError } from '../errors.js';

/** The lock of a context: a directory beside the memories, made and checked by proper-lockfile. */
export const LOCK_FILE = '.whitemagic.lock';

/**
 * A lock whose holder has not touched it for this long is stale (its holder was killed) and is
 * taken over. The holder touches it every LOCK_UPDATE_MS, so only a holder frozen for 4 s loses it;
 * the wait (lockTimeoutMs, default 10 s) is longer than this, so the next command after a crash
 * always recovers the lock instead of failing "busy".
 */
export const LOCK_STALE_MS = 5_000;
const LOCK_UPDATE_MS = 1_000;

/** How long a command waits for another process's lock before failing "context is busy". */
export function lockTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.WHITEMAGIC_LOCK_TIMEOUT;
  const seconds = raw ? Number(raw) : 10;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 10_000;
}

/**
 * Runs `fn` holding the context's lock. A lock left by a killed process is stale after LOCK_STALE_MS
 * and taken over; a live one is waited for up to `timeoutMs`, then BusyError (exit 1).
 */
export async function withContextLock<T>(dir: string, fn: () => T | Promise<T>, timeoutMs = lockTimeoutMs()): Promise<T> {
  const lockfile = (await import('proper-lockfile')).default;
  const interval = 50;
  const deadline = Date.now() + timeoutMs;
  let release: () => Promise<void>;
  // Our own wait rather than proper-lockfile's retries: those retry every error, so a read-only or
  // missing folder would wait the whole timeout before saying so; here only "held by another" waits.
  for (;;) {
    try {
      release = await lockfile.lock(dir, {
        lockfilePath: join(dir, LOCK_FILE),
        realpath: false,
        stale: LOCK_STALE_MS,
        update: LOCK_UPDATE_MS,
        retries: 0,
        onCompromised: () => {
          // Another process took the lock as stale while we held it (we were frozen past LOCK_STALE_MS):
          // the operations under it are each atomic, so keep going rather than crash mid-way.
        },
      });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw fromFsError(err, join(dir, LOCK_FILE));
      if (Date.now() >= deadline) {
        throw new BusyError(`context is busy: another process holds the lock of ${dir}`, 'try again, or raise --lock-timeout');
      }
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => undefined);
  }
}
