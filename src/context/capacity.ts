import { mkdirSync } from 'node:fs';
import { UsageError, WhitemagicError, fromFsError } from '../errors.js';
import { listContextDirs } from './discovery.js';
import { withContextLock } from './lock.js';

/** The default of WHITEMAGIC_MAX_CONTEXTS (SPEC section 8). */
export const DEFAULT_MAX_CONTEXTS = 100;

/** How many contexts $WHITEMAGIC_HOME may hold: env WHITEMAGIC_MAX_CONTEXTS, default 100. */
export function maxContexts(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.WHITEMAGIC_MAX_CONTEXTS;
  if (raw === undefined || raw.trim() === '') return DEFAULT_MAX_CONTEXTS;
  if (!/^\d+$/.test(raw.trim())) {
    throw new UsageError(`WHITEMAGIC_MAX_CONTEXTS: '${raw}' is not a whole number`, 'set it to 0 or more, or unset it for 100');
  }
  return Number(raw.trim());
}

export interface Capacity {
  /** Contexts in $WHITEMAGIC_HOME now. */
  used: number;
  maximum: number;
  /** How many more may be created (never below 0). */
  available: number;
}

/** How full $WHITEMAGIC_HOME is. */
export function capacity(home: string, env: NodeJS.ProcessEnv = process.env): Capacity {
  const maximum = maxContexts(env);
  const used = listContextDirs(home).length;
  return { used, maximum, available: Math.max(0, maximum - used) };
}

/**
 * Throws unless `adding` more contexts fit in $WHITEMAGIC_HOME. Every way of making a new context
 * under the home (first write, `contexts create`, clone, restore) calls this before creating
 * anything, ideally inside `withHomeLock` so two processes cannot both take the last place.
 * `name` is only for the message.
 */
export function assertCapacity(home: string, options: { env?: NodeJS.ProcessEnv; adding?: number; name?: string } = {}): Capacity {
  const cap = capacity(home, options.env);
  const adding = options.adding ?? 1;
  if (cap.used + adding > cap.maximum) {
    const what = options.name ? `cannot create context '${options.name}'` : 'cannot create another context';
    throw new WhitemagicError(
      'capacity',
      `${what}: ${home} holds ${cap.used} contexts and the maximum is ${cap.maximum} (WHITEMAGIC_MAX_CONTEXTS)`,
      { hint: "delete one with 'whitemagic contexts delete NAME --yes', or raise WHITEMAGIC_MAX_CONTEXTS" },
    );
  }
  return cap;
}

/**
 * Runs `fn` holding the lock of $WHITEMAGIC_HOME itself (made if missing), so that counting the
 * contexts and creating one is a single step across processes.
 */
export async function withHomeLock<T>(home: string, fn: () => T | Promise<T>, timeoutMs?: number): Promise<T> {
  try {
    mkdirSync(home, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw fromFsError(err, home);
  }
  return withContextLock(home, fn, timeoutMs);
}
