import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../context/context.js';
import { MANIFEST_FILE } from '../context/manifest.js';
import { isContextName } from '../context/names.js';
import { MEMORY_TYPES } from '../memory/types.js';

/** One value a completion script may offer, with a description where it helps (a memory's title). */
export interface CompletionValue {
  value: string;
  description?: string;
}

/**
 * Context names, tags or memory ids for the shell completion scripts. Cheap on purpose: a
 * directory listing, a tag summary or one list of headers; never a body.
 */
export async function completionValues(ctx: Context, topic: 'contexts' | 'tags' | 'ids'): Promise<CompletionValue[]> {
  if (topic === 'contexts') return contextNames(ctx.location.home).map((value) => ({ value }));
  const storage = await ctx.open();
  if (topic === 'tags') return Object.keys(storage.summary().tags).sort().map((value) => ({ value }));
  return storage.list({ types: [...MEMORY_TYPES] }).memories.map((h) => ({ value: h.id, description: h.title }));
}

/** Names of the contexts under $WHITEMAGIC_HOME: directories with a manifest or a memory/ folder. */
export function contextNames(home: string): string[] {
  let entries;
  try {
    entries = readdirSync(home, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isDirectory() && isContextName(e.name))
    .filter((e) => existsSync(join(home, e.name, MANIFEST_FILE)) || existsSync(join(home, e.name, 'memory')))
    .map((e) => e.name)
    .sort();
}
