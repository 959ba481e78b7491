import type { Context } from '../context/context.js';
import type { MemoryType } from '../memory/types.js';
import { MEMORY_TYPES } from '../memory/types.js';
import { DEFAULT_LIST_TYPES } from '../storage/query.js';
import type { ListQuery, ListResult } from '../storage/types.js';

export interface ListInput {
  type?: MemoryType;
  tags?: string[];
  includeArchived?: boolean;
  /** ISO time. */
  since?: string;
  /** ISO time. */
  until?: string;
  sort?: 'created' | 'updated' | 'title';
  reverse?: boolean;
  limit?: number;
}

/** Memories of the context, newest first unless told otherwise, with any unreadable entries. */
export async function listMemories(ctx: Context, input: ListInput = {}): Promise<ListResult> {
  const storage = await ctx.open();
  return storage.list(toListQuery(input));
}

/** The storage query for list-like commands: `--type` wins; archive only with --include-archived. */
export function toListQuery(input: ListInput): ListQuery {
  const types: MemoryType[] = input.type
    ? [input.type]
    : input.includeArchived
      ? [...MEMORY_TYPES]
      : DEFAULT_LIST_TYPES;
  return {
    types,
    tags: input.tags,
    since: input.since,
    until: input.until,
    sort: input.sort,
    reverse: input.reverse,
    limit: input.limit,
  };
}
