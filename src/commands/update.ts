import type { Context } from '../context/context.js';
import { NotFoundError, UsageError } from '../errors.js';
import { checkTitle, normaliseContent, normaliseTags } from '../memory/fields.js';
import type { Memory, MemoryType } from '../memory/types.js';
import { resolveRef } from './ref.js';

export interface UpdateInput {
  title?: string;
  content?: string;
  addTags?: string[];
  removeTags?: string[];
  /** Replaces all tags (applied before add and remove). */
  replaceTags?: string[];
  type?: MemoryType;
  /** Extra front-matter keys to set. */
  meta?: Record<string, unknown>;
  /** Replaces all extra front-matter keys (applied before `meta`): what `edit` saves, so a key removed in the editor goes. */
  replaceMeta?: Record<string, unknown>;
}

/** Changes a memory in place: `updated` changes, `created` and the id never do. */
export async function updateMemory(ctx: Context, ref: string, input: UpdateInput): Promise<Memory> {
  const nothing =
    input.title === undefined &&
    input.content === undefined &&
    !input.addTags?.length &&
    !input.removeTags?.length &&
    input.replaceTags === undefined &&
    input.type === undefined &&
    input.replaceMeta === undefined &&
    !Object.keys(input.meta ?? {}).length;
  if (nothing) {
    throw new UsageError('nothing to update', 'pass --title, --content, --add-tag, --remove-tag, --replace-tags, --type or --meta');
  }
  return ctx.withLock(async () => {
    const storage = await ctx.openForWrite();
    const header = resolveRef(storage, ref);
    const current = storage.read(header.id);
    if (!current) throw new NotFoundError(`memory not found: ${ref}`);
    const next = applyUpdate(current, input);
    storage.update(next);
    return next;
  }, { create: false });
}

/** The memory after the changes, as a new object; `updated` is now. */
export function applyUpdate(current: Memory, input: UpdateInput, now = new Date()): Memory {
  let tags = input.replaceTags !== undefined ? normaliseTags(input.replaceTags) : [...current.tags];
  tags = normaliseTags([...tags, ...(input.addTags ?? [])]);
  const remove = new Set(normaliseTags(input.removeTags ?? []));
  tags = tags.filter((t) => !remove.has(t));
  return {
    ...current,
    title: input.title !== undefined ? checkTitle(input.title) : current.title,
    content: input.content !== undefined ? normaliseContent(input.content) : current.content,
    type: input.type ?? current.type,
    tags,
    updated: now.toISOString(),
    meta: { ...(input.replaceMeta ?? current.meta), ...(input.meta ?? {}) },
  };
}
