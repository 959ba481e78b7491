import { readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { Context, type ContextOptions } from '../context/context.js';
import { capacity, type Capacity } from '../context/capacity.js';
import { describeContextDir, discoverContexts, isContextDir, type ContextDir, type ContextInfo } from '../context/discovery.js';
import { lockTimeoutMs } from '../context/lock.js';
import { checkContextName } from '../context/names.js';
import { describeSource, resolveContext, type ContextLocation, type ResolveInput } from '../context/resolve.js';
import { ConflictError, NotFoundError, UsageError, fromFsError } from '../errors.js';
import { MEMORY_TYPES, type MemoryType } from '../memory/types.js';

/**
 * The many-contexts commands of SPEC section 8. They work on $WHITEMAGIC_HOME rather than on one
 * active context, so they take a ContextsScope: the home, and how the active context is chosen.
 */
export interface ContextsScope {
  /** $WHITEMAGIC_HOME, absolute. */
  home: string;
  env: NodeJS.ProcessEnv;
  /** The active-context choice of this call (global options), to mark and protect the active one. */
  resolve: ResolveInput;
  /** For contexts these commands create or lock: backend, lock timeout. */
  contextOptions: ContextOptions;
}

/** The scope for these resolve inputs and context options (env defaults to process.env). */
export function contextsScope(resolve: ResolveInput = {}, contextOptions: ContextOptions = {}): ContextsScope {
  const env = resolve.env ?? contextOptions.env ?? process.env;
  const home = resolveContext({ env }).home;
  return { home, env, resolve: { ...resolve, env }, contextOptions: { ...contextOptions, env } };
}

export interface ContextsList {
  home: string;
  /** The name of the active context if it lives in the home. */
  active: string | null;
  contexts: ContextInfo[];
}

/** Every context under $WHITEMAGIC_HOME (SPEC section 8), the active one marked. */
export async function listContexts(scope: ContextsScope): Promise<ContextsList> {
  const active = activeLocation(scope);
  const contexts = await discoverContexts(scope.home, { activePath: active?.path });
  return { home: scope.home, active: active && active.path === join(scope.home, active.name) ? active.name : null, contexts };
}

export interface ContextDetails extends ContextInfo {
  /** For the active context: the rule of SPEC section 2 that chose it, in words. */
  chosenBy?: string;
}

/** One context by name, as `contexts` describes it. */
export async function showContext(scope: ContextsScope, name: string): Promise<ContextDetails> {
  const dir = requireContext(scope, name);
  const active = activeLocation(scope);
  const info: ContextDetails = await describeContextDir(dir, { activePath: active?.path });
  if (info.active && active) info.chosenBy = describeSource(active.source);
  return info;
}

export interface Overview {
  home: string;
  active: string | null;
  totals: {
    contexts: number;
    memories: number;
    counts: Record<MemoryType, number>;
    /** Bytes on disk of all contexts together. */
    size: number;
    /** Contexts that could not be read (their counts are left out). */
    unreadable: number;
  };
  capacity: Capacity;
  contexts: ContextInfo[];
}

/** Totals over every context, and how many more $WHITEMAGIC_HOME may hold (WHITEMAGIC_MAX_CONTEXTS). */
export async function overview(scope: ContextsScope): Promise<Overview> {
  const { home, active, contexts } = await listContexts(scope);
  const counts = Object.fromEntries(MEMORY_TYPES.map((t) => [t, 0])) as Record<MemoryType, number>;
  let size = 0;
  let unreadable = 0;
  for (const c of contexts) {
    size += c.size;
    if (!c.counts) unreadable++;
    else for (const t of MEMORY_TYPES) counts[t] += c.counts[t];
  }
  const memories = MEMORY_TYPES.reduce((sum, t) => sum + counts[t], 0);
  const cap = capacity(home, scope.env);
  return { home, active, totals: { contexts: contexts.length, memories, counts, size, unreadable }, capacity: cap, contexts };
}

/** The context directory NAME in the home, or a not-found error pointing at `contexts`. */
export function requireContext(scope: ContextsScope, name: string): ContextDir {
  const path = join(scope.home, checkContextName(name));
  if (!isContextDir(path)) {
    throw new NotFoundError(`context not found: ${name}`, "see 'whitemagic contexts' for the contexts there are", 'context_not_found');
  }
  return { name, path };
}

/** A Context for NAME in the home, chosen explicitly. */
export function contextNamed(scope: ContextsScope, name: string, extra: ContextOptions = {}): Context {
  const location: ContextLocation = { path: join(scope.home, name), name, source: '--context', explicit: true, home: scope.home };
  return new Context(location, { ...scope.contextOptions, ...extra });
}

/** The active context, or undefined when the options or environment name an invalid one. */
export function activeLocation(scope: ContextsScope): ContextLocation | undefined {
  try {
    return resolveContext(scope.resolve);
  } catch {
    return undefined;
  }
}

/** How long these commands wait for a busy context. */
export function scopeLockTimeout(scope: ContextsScope): number {
  return scope.contextOptions.lockTimeoutMs ?? lockTimeoutMs(scope.env);
}

/** The conflict of a name that is taken. */
export function contextExists(name: string): ConflictError {
  return new ConflictError(`context '${name}' exists already`, `use it with --context ${name}, or pick another name`);
}

/** A description is one line of text; empty clears it. */
export function checkDescription(text: string): string {
  const trimmed = text.trim();
  if (/[\r\n]/.test(trimmed)) throw new UsageError('a description must be one line');
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(trimmed)) throw new UsageError('a description cannot contain control characters');
  if (trimmed.length > 500) throw new UsageError('a description can have at most 500 characters');
  return trimmed;
}

/** True if `path` is a directory with nothing in it. */
export function isEmptyDir(path: string): boolean {
  try {
    return readdirSync(path).length === 0;
  } catch {
    return false;
  }
}

/** renameSync with a one-line error naming the path. */
export function renameOrThrow(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (err) {
    throw fromFsError(err, from);
  }
}
