import type { Context } from '../context/context.js';
import { checkTitle, normaliseContent, normaliseTags } from '../memory/fields.js';
import { newId } from '../memory/ids.js';
import type { Memory, MemoryType } from '../memory/types.js';
import { UsageError } from '../errors.js';

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
  const storage = await ctx.openForWrite();
  storage.insert(memory, { freshId: true });
  return memory;
}
