import { isAlive } from '../util/process.js';
import { mkdirSync, readFileSync, rmdirSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { BusyError, fromFsError } from '../errors.js';

/** The lock of a context: a directory beside the memories, made and checked by proper-lockfile. */
export const LOCK_FILE = '.whitemagic.lock';
/** Inside the lock directory: the holder's pid and host, so a dead holder is seen at once. */
const OWNER_FILE = 'owner';
/** Taken while a dead holder's lock is removed, so two waiters never remove a lock just retaken. */
const BREAKER = '.whitemagic.lock.break';

/**
 * proper-lockfile's own staleness (the lock directory's mtime, refreshed every UPDATE_MS while the
 * holder's event loop runs): the fallback for a lock whose owner is unknown (another host, or a
 * process killed between making the directory and writing its owner file). Shorter than the default
 * wait (10 s), so that even such a lock is recovered by the next command instead of failing "busy";
 * a live holder on this host is never judged by mtime, so a long synchronous operation is safe.
 */
export const STALE_MS = 5_000;
const UPDATE_MS = 1_000;
const RETRY_MS = 50;

/** How long a command waits for another process's lock before failing "context is busy". */
export function lockTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.WHITEMAGIC_LOCK_TIMEOUT;
  const seconds = raw ? Number(raw) : 10;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 10_000;
}

interface Owner {
  pid: number;
  host: string;
}

function readOwner(dir: string): Owner | undefined {
  try {
    const [pid, ...host] = readFileSync(join(dir, LOCK_FILE, OWNER_FILE), 'utf8').trim().split(' ');
    const n = Number(pid);
    return Number.isInteger(n) && n > 0 ? { pid: n, host: host.join(' ') } : undefined;
  } catch {
    return undefined;
  }
}


/**
 * What to do about the lock as it is now: `held` by a live process on this host (wait, and never
 * let a long synchronous operation of that holder look stale), `dead` (its holder is gone: remove
 * it at once), or `unknown` (no lock, or no owner: proper-lockfile decides by mtime).
 */
function holderState(dir: string): { state: 'held' | 'dead' | 'unknown'; owner?: Owner } {
  const owner = readOwner(dir);
  if (!owner || owner.host !== hostname()) return { state: 'unknown' };
  return { state: isAlive(owner.pid) ? 'held' : 'dead', owner };
}

/** Removes a lock whose holder died, if it is still that holder's; true if removed. */
function breakDeadLock(dir: string, dead: Owner): boolean {
  const breaker = join(dir, BREAKER);
  try {
    mkdirSync(breaker);
  } catch {
    // Another waiter is breaking it; a breaker left by a killed waiter is cleared after a while.
    try {
      if (statSync(breaker).mtimeMs < Date.now() - STALE_MS) rmdirSync(breaker);
    } catch {
      // gone already
    }
    return false;
  }
  try {
    // Re-read under the breaker: a lock retaken since carries a new owner (or none yet).
    const now = readOwner(dir);
    if (!now || now.pid !== dead.pid || now.host !== dead.host) return false;
    unlinkSync(join(dir, LOCK_FILE, OWNER_FILE));
    rmdirSync(join(dir, LOCK_FILE));
    return true;
  } catch {
    return false;
  } finally {
    try {
      rmdirSync(breaker);
    } catch {
      // nothing to clean
    }
  }
}

/**
 * Runs `fn` holding the context's lock. A lock whose holder died on this machine is taken over at
 * once; one of unknown owner after STALE_MS without refresh; a live one is waited for up to
 * `timeoutMs`, then BusyError (exit 1).
 */
export async function withContextLock<T>(dir: string, fn: () => T | Promise<T>, timeoutMs = lockTimeoutMs()): Promise<T> {
  const lockfile = (await import('proper-lockfile')).default;
  const deadline = Date.now() + timeoutMs;
  let release: (() => Promise<void>) | undefined;
  for (;;) {
    const holder = holderState(dir);
    if (holder.state === 'dead' && breakDeadLock(dir, holder.owner!)) continue;
    if (holder.state === 'unknown') {
      try {
        release = await lockfile.lock(dir, {
          lockfilePath: join(dir, LOCK_FILE),
          realpath: false,
          stale: STALE_MS,
          update: UPDATE_MS,
          retries: 0,
          onCompromised: () => {
            // Another process took the lock as stale while we held it: the operations under it are
            // each atomic, so keep going rather than crash mid-way.
          },
        });
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOTEMPTY') {
          // proper-lockfile found the lock stale by mtime but could not remove it: it still holds an
          // owner file nobody can act on (empty, from a holder killed while writing it, or from
          // another host). The lock is stale either way: clear the file and try again.
          try {
            unlinkSync(join(dir, LOCK_FILE, OWNER_FILE));
          } catch {
            // Another waiter cleared it first.
          }
          continue;
        }
        if (code !== 'ELOCKED') throw fromFsError(err, join(dir, LOCK_FILE));
      }
    }
    if (Date.now() >= deadline) {
      throw new BusyError(`context is busy: another process holds the lock of ${dir}`, 'try again, or raise --lock-timeout');
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
  const lockDir = join(dir, LOCK_FILE);
  const ownerPath = join(lockDir, OWNER_FILE);
  try {
    // Each time proper-lockfile refreshes the lock it checks that the directory's mtime is still the
    // one it set, and gives the lock up as compromised if not; a file made inside changes it. Put
    // back, or any command holding the lock for over UPDATE_MS lost it at the first refresh, and its
    // release left the directory behind for the next command to wait out as stale (STALE_MS).
    const { atime, mtime } = statSync(lockDir);
    writeFileSync(ownerPath, `${process.pid} ${hostname()}\n`, { mode: 0o600 });
    utimesSync(lockDir, atime, mtime);
  } catch {
    // Without an owner file the lock still works; only dead-holder detection falls back to mtime.
  }
  try {
    return await fn();
  } finally {
    try {
      unlinkSync(ownerPath);
    } catch {
      // already gone
    }
    await release().catch(() => undefined);
  }
}
