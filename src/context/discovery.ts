import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { WhitemagicError } from '../errors.js';
import type { MemoryType } from '../memory/types.js';
import { loadBackend } from '../storage/registry.js';
import type { BackendName } from '../storage/types.js';
import { directorySize } from '../util/disk.js';
import { lastUsed } from './last-used.js';
import { MANIFEST_FILE, readManifest } from './manifest.js';
import { isContextName } from './names.js';

/**
 * Discovery of the contexts under $WHITEMAGIC_HOME (SPEC section 8): every directory with a valid
 * context name that holds a manifest or a `memory/` folder. Anything else there (the switch file,
 * locks, stray folders, names a user could not type with --context) is not a context.
 */

/** A context directory found under $WHITEMAGIC_HOME, before anything in it is read. */
export interface ContextDir {
  name: string;
  path: string;
}

/** The context directories under `home`, sorted by name. Cheap: a readdir and two stats each. */
export function listContextDirs(home: string): ContextDir[] {
  let names: string[];
  try {
    names = readdirSync(home);
  } catch {
    return [];
  }
  const found: ContextDir[] = [];
  for (const name of names.sort()) {
    if (!isContextName(name)) continue;
    const path = join(home, name);
    if (isContextDir(path)) found.push({ name, path });
  }
  return found;
}

/** True if `path` is a directory holding a manifest or a `memory/` folder. */
export function isContextDir(path: string): boolean {
  try {
    if (!statSync(path).isDirectory()) return false;
  } catch {
    return false;
  }
  return existsSync(join(path, MANIFEST_FILE)) || existsSync(join(path, 'memory'));
}

/** What `contexts` shows of one context. */
export interface ContextInfo {
  name: string;
  path: string;
  /** The context the active-context rules (SPEC section 2) pick now. */
  active: boolean;
  /** `legacy`: no manifest yet (hand-made, copied, or whitemagic 2.x); its first write upgrades it. */
  state: 'context' | 'legacy';
  backend: BackendName;
  /** The context format it was written in (0: no manifest). */
  format: number;
  description?: string;
  /** When the context was made (from its manifest), if known. */
  created?: string;
  /** Memories by type; null when the context could not be read (see `error`). */
  counts: Record<MemoryType, number> | null;
  total: number | null;
  /** Distinct tags; null when unreadable. */
  tags: number | null;
  /** Bytes of every file in the context directory: memories, manifest, backups, derived files. */
  size: number;
  /** When a command last opened it (ISO); else when its files last changed. */
  lastUsed: string | null;
  /** Why it could not be read: a newer format, a broken manifest, an unavailable backend. */
  error?: string;
}

export interface DiscoverOptions {
  /** The active context's path, to mark it. */
  activePath?: string;
}

/**
 * Every context under `home` with its backend, counts, size, last use and description, sorted by
 * name. A context that cannot be read is still listed, with `error` set, so one broken context
 * never hides the others. No memory or manifest is written: no upgrade, no lock, no last-use mark
 * (a backend may refresh its derived cache).
 */
export async function discoverContexts(home: string, options: DiscoverOptions = {}): Promise<ContextInfo[]> {
  const infos: ContextInfo[] = [];
  for (const dir of listContextDirs(home)) infos.push(await describeContextDir(dir, options));
  return infos;
}

/** One context directory, described as `contexts` and `contexts show` print it. */
export async function describeContextDir(dir: ContextDir, options: DiscoverOptions = {}): Promise<ContextInfo> {
  const info: ContextInfo = {
    name: dir.name,
    path: dir.path,
    active: options.activePath === dir.path,
    state: 'legacy',
    backend: 'markdown',
    format: 0,
    counts: null,
    total: null,
    tags: null,
    size: directorySize(dir.path),
    lastUsed: lastUsed(dir.path) ?? changedAt(dir.path) ?? null,
  };
  try {
    const manifest = readManifest(dir.path);
    if (manifest) {
      Object.assign(info, { state: 'context', backend: manifest.backend, format: manifest.format });
      if (typeof manifest.description === 'string' && manifest.description) info.description = manifest.description;
      if (manifest.created) info.created = manifest.created;
    }
    // Not read-only: a backend may refresh its derived cache (the markdown catalog), so the next
    // listing is cheaper. Memories and manifests are never written here.
    const storage = (await loadBackend(info.backend)).open(dir.path, {});
    try {
      const summary = storage.summary();
      info.counts = summary.counts;
      info.total = Object.values(summary.counts).reduce((a, b) => a + b, 0);
      info.tags = Object.keys(summary.tags).length;
    } finally {
      storage.close();
    }
  } catch (err) {
    if (!(err instanceof WhitemagicError)) throw err;
    info.error = err.message;
    const format = rawFormat(dir.path);
    if (format !== undefined) Object.assign(info, { state: 'context', format });
  }
  return info;
}

/** The `format` a manifest claims, read without judging it (for a context this version refuses). */
function rawFormat(dir: string): number | undefined {
  try {
    const data = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as { format?: unknown };
    return typeof data.format === 'number' ? data.format : 0;
  } catch {
    return undefined;
  }
}

/** Before any command has marked a context: when its memory folder or manifest last changed. */
function changedAt(dir: string): string | undefined {
  let newest = 0;
  for (const p of [join(dir, 'memory'), join(dir, MANIFEST_FILE), dir]) {
    try {
      newest = Math.max(newest, statSync(p).mtimeMs);
    } catch {
      // Not there: try the next.
    }
  }
  return newest ? new Date(newest).toISOString() : undefined;
}
