import type { Context } from '../context/context.js';
import { checkTitle, normaliseContent, normaliseTags } from '../memory/fields.js';
import { newId } from '../memory/ids.js';
import type { Memory, MemoryType } from '../memory/types.js';
import { UsageError } from '../errors.js';
import { readManifest } from '../context/manifest.js';
import { loadBackend } from '../storage/registry.js';

export interface CreateInput {
  title: string;
  content?: string;
  /** short_term (default) or long_term. */
  type?: MemoryType;
  tags?: string[];
  /** Extra front-matter keys. */
  meta?: Record<string, unknown>;
}

/** Makes a new memory in the context (creating the context if missing) and returns it. */
export async function createMemory(ctx: Context, input: CreateInput): Promise<Memory> {
  const type = input.type ?? 'short_term';
  if (type !== 'short_term' && type !== 'long_term') {
    throw new UsageError(`a new memory cannot be of type '${type}'`, 'use short_term or long_term');
  }
  const now = new Date();
  const memory: Memory = {
    id: newId(now.getTime()),
    title: checkTitle(input.title),
    content: normaliseContent(input.content ?? ''),
    type,
    tags: normaliseTags(input.tags ?? []),
    created: now.toISOString(),
    updated: now.toISOString(),
    meta: { ...(input.meta ?? {}) },
  };
  for (let attempt = 1; ; attempt++) {
    const backend = ctx.backendName();
    try {
      const storage = await ctx.openForWrite();
      storage.insert(memory, { freshId: true });
      await followMigration(ctx, memory);
      return memory;
    } catch (err) {
      // A migration switched the backend and moved the old files away mid-write: open afresh, retry.
      if (attempt >= 5 || readManifest(ctx.path)?.backend === backend) throw err;
      ctx.close();
    }
  }
}

/**
 * A create takes no lock, so `migrate` may switch the context's backend while it writes. The
 * migration copies every memory written to the old backend up to its switch; one written after it
 * would land only in the old data. So, after writing, check the manifest: if it changed at all,
 * write the memory again into the backend now in use (a copy the migration already made is
 * skipped). Not only when the backend's name changed: two migrations (SQLite → markdown → SQLite)
 * during one slow create leave the same name, while the database the create wrote to has been
 * moved into the first migration's backup (a stress run lost a memory that way).
 */
export async function followMigration(ctx: Context, memory: Memory): Promise<void> {
  if (ctx.sameManifest()) return;
  const now = readManifest(ctx.path)?.backend;
  if (!now) return;
  const current = (await loadBackend(now)).open(ctx.path, {});
  try {
    current.insertMany([memory], 'skip');
  } finally {
    current.close();
  }
}
