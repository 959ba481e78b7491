import type { Context } from '../context/context.js';
import { tagsFromList } from '../memory/fields.js';
import { parseDateArg } from '../util/dates.js';
import type { MemoryType } from '../memory/types.js';
import { MEMORY_TYPES } from '../memory/types.js';
import { DEFAULT_LIST_TYPES } from '../storage/query.js';
import type { ListQuery, ListResult } from '../storage/types.js';
import { listPages } from '../storage/list-pages.js';

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

/** Memories a page of a listing holds at most (listMemoryPages). Changed by tests only. */
export const listLimits = { page: 5000 };

/**
 * listMemories a page at a time, for output written as it is read: a list by creation date (the
 * default) without a tag filter is read in pages (listPages); any other is one page. The first
 * page's `total` and `problems` are the whole list's.
 */
export async function listMemoryPages(ctx: Context, input: ListInput = {}): Promise<Iterable<ListResult>> {
  const storage = await ctx.open();
  const query = toListQuery(input);
  // A tag filter reads every line of the date range on markdown: once, not once a page.
  if ((query.sort ?? 'created') !== 'created' || query.tags?.length) return [storage.list(query)];
  return listPages(storage, query, listLimits.page);
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

/** Filters as people and tools type them: tags as given (comma lists allowed), dates as text. */
export interface FilterOptions {
  type?: MemoryType;
  tags?: string[];
  includeArchived?: boolean;
  since?: string;
  until?: string;
}

/**
 * The filters of list and search, checked and normalised the same way for the CLI and the MCP
 * server: tags lowercased, dates (ISO or `7d`) as ISO times; `option` names a bad date's option.
 */
export function readFilters(o: FilterOptions, option: (name: string) => string = (name) => `--${name}`) {
  return {
    type: o.type,
    tags: o.tags ? tagsFromList(o.tags.join(',')) : undefined,
    includeArchived: o.includeArchived,
    since: o.since ? parseDateArg(o.since, option('since')).toISOString() : undefined,
    until: o.until ? parseDateArg(o.until, option('until')).toISOString() : undefined,
  };
}
