import { existsSync, mkdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describeContextDir, isContextDir, type ContextInfo } from '../context/discovery.js';
import { withContextLock, LOCK_FILE } from '../context/lock.js';
import { readManifest, writeManifest } from '../context/manifest.js';
import { checkContextName } from '../context/names.js';
import { DEFAULT_CONTEXT, describeSource, resolveContext, switchedContext, type ContextSource } from '../context/resolve.js';
import { clearSwitchedContext, writeSwitchedContext } from '../context/switch.js';
import { ConflictError, NotFoundError, UsageError, fromFsError } from '../errors.js';
import {
  activeLocation,
  checkDescription,
  contextExists,
  contextNamed,
  isEmptyDir,
  renameOrThrow,
  requireContext,
  scopeLockTimeout,
  type ContextsScope,
} from './contexts.js';

/** The contexts commands that change things: create, describe, switch, delete, rename (SPEC section 8). */

/** Makes a new context NAME in $WHITEMAGIC_HOME, within the capacity; an existing one is a conflict. */
export async function createContext(scope: ContextsScope, name: string, input: { description?: string } = {}): Promise<ContextInfo> {
  const path = join(scope.home, checkContextName(name));
  if (isContextDir(path)) throw contextExists(name);
  if (existsSync(path) && !isEmptyDir(path)) {
    throw new ConflictError(`${path} exists and is not a context`, 'move it away, or pick another name');
  }
  const description = input.description !== undefined ? checkDescription(input.description) : undefined;
  const ctx = contextNamed(scope, name, { description: description || undefined });
  // Another process may have made it between the check and the home's lock: then it is not ours.
  if (!(await ctx.ensureCreated())) throw contextExists(name);
  return describeContextDir({ name, path }, { activePath: activeLocation(scope)?.path });
}

export interface DescribeResult {
  name: string;
  path: string;
  description: string | null;
}

/** Sets (or, with empty text, clears) a context's description in its manifest. */
export async function describeContext(scope: ContextsScope, name: string, text: string): Promise<DescribeResult> {
  const dir = requireContext(scope, name);
  const description = checkDescription(text);
  const ctx = contextNamed(scope, name);
  await ctx.withLock(() => {
    const manifest = readManifest(dir.path);
    if (!manifest) throw new NotFoundError(`context not found: ${name}`, undefined, 'context_not_found');
    if (description) manifest.description = description;
    else delete manifest.description;
    writeManifest(dir.path, manifest);
  });
  return { name, path: dir.path, description: description || null };
}

export interface SwitchResult {
  name: string;
  path: string;
  /** The context remembered before, if any. */
  previous: string | null;
  /** The context did not exist and `--create` made it. */
  created: boolean;
  /** A rule above `switch` (an environment variable) that still wins, so the switch has no effect yet. */
  overriddenBy: ContextSource | null;
}

/**
 * Remembers NAME as the active context (rule 5 of SPEC section 2). Like `git switch`, an unknown
 * context is refused unless `create` is given; `default` is always allowed, as it is implicit.
 */
export async function switchContext(scope: ContextsScope, name: string, input: { create?: boolean } = {}): Promise<SwitchResult> {
  const path = join(scope.home, checkContextName(name));
  let created = false;
  if (!isContextDir(path)) {
    if (input.create) created = await contextNamed(scope, name).ensureCreated();
    else if (name !== DEFAULT_CONTEXT) {
      throw new NotFoundError(
        `context not found: ${name}`,
        `create it with 'whitemagic switch --create ${name}', or see 'whitemagic contexts'`,
        'context_not_found',
      );
    }
  }
  const previous = switchedContext(scope.home) ?? null;
  writeSwitchedContext(scope.home, name);
  // Command-line options last for one call; only environment variables keep winning over a switch.
  let overriddenBy: ContextSource | null = null;
  try {
    const source = resolveContext({ env: scope.env, mcp: scope.resolve.mcp }).source;
    if (source !== 'switch') overriddenBy = source;
  } catch {
    overriddenBy = null;
  }
  return { name, path, previous, created, overriddenBy };
}

export interface DeleteContextResult {
  name: string;
  path: string;
  total: number | null;
  size: number;
  /** The context was the one remembered by `switch`; the switch was forgotten. */
  switchCleared: boolean;
}

/**
 * Deletes a context and everything in it. Refuses the active context unless `force`, and does
 * nothing without `yes` (a usage error that says what would go, so scripts never prompt).
 */
export async function deleteContext(
  scope: ContextsScope,
  name: string,
  input: { yes?: boolean; force?: boolean } = {},
): Promise<DeleteContextResult> {
  const dir = requireContext(scope, name);
  const active = resolveContext(scope.resolve);
  if (active.path === dir.path && !input.force) {
    throw new ConflictError(
      `context '${name}' is the active context (chosen by ${describeSource(active.source)}); nothing was deleted`,
      `switch to another context first, or pass --force`,
    );
  }
  const info = await describeContextDir(dir);
  if (!input.yes) {
    const what = info.total === null ? 'everything in it' : `its ${info.total} ${info.total === 1 ? 'memory' : 'memories'}`;
    throw new UsageError(
      `'contexts delete ${name}' removes ${dir.path} and ${what} for good; nothing was deleted`,
      `run it again with --yes to confirm`,
    );
  }
  // Move the context out of sight under its lock (one atomic rename, so no other process sees it
  // half-deleted), then remove it; a delete killed after the rename leaves only a hidden folder.
  const trash = join(scope.home, `.deleting-${name}-${randomBytes(4).toString('hex')}`);
  await withContextLock(dir.path, () => renameOrThrow(dir.path, trash), scopeLockTimeout(scope));
  rmSync(trash, { recursive: true, force: true });
  const switchCleared = switchedContext(scope.home) === name;
  if (switchCleared) clearSwitchedContext(scope.home);
  return { name, path: dir.path, total: info.total, size: info.size, switchCleared };
}

export interface RenameResult {
  from: string;
  to: string;
  path: string;
  /** The renamed context was the one remembered by `switch`, which now names the new name. */
  switchUpdated: boolean;
}

/** Renames a context (its directory, atomically); an existing NEW is refused, a switch follows. */
export async function renameContext(scope: ContextsScope, from: string, to: string): Promise<RenameResult> {
  const dir = requireContext(scope, from);
  checkContextName(to);
  if (from === to) throw new UsageError(`context '${from}' is already named '${to}'`);
  const target = join(scope.home, to);
  // Claim the new name with an empty directory first: mkdir fails if anything holds it, even a
  // process racing us, and a rename onto an empty directory replaces it in one step.
  try {
    mkdirSync(target, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw isContextDir(target) ? contextExists(to) : new ConflictError(`${target} exists`, 'move it away, or pick another name');
    }
    throw fromFsError(err, target);
  }
  try {
    await withContextLock(
      dir.path,
      () => {
        renameOrThrow(dir.path, target);
        // The lock moved with the directory; it is ours, and would otherwise look held for a while.
        rmSync(join(target, LOCK_FILE), { recursive: true, force: true });
      },
      scopeLockTimeout(scope),
    );
  } catch (err) {
    if (isEmptyDir(target)) rmdirSync(target);
    throw err;
  }
  const switchUpdated = switchedContext(scope.home) === from;
  if (switchUpdated) writeSwitchedContext(scope.home, to);
  return { from, to, path: target, switchUpdated };
}
