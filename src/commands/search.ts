import type { Context } from '../context/context.js';
import type { MemoryType } from '../memory/types.js';
import { DEFAULT_SEARCH_LIMIT } from '../search/fts.js';
import { parseQuery, type ParsedQuery } from '../search/query.js';
import type { SearchQuery, SearchResult } from '../search/types.js';
import { toListQuery } from './list.js';

export interface SearchInput {
  /** The query text (SPEC section 5 syntax; see src/search/query.ts). */
  query: string;
  type?: MemoryType;
  /** All required, already normalised. */
  tags?: string[];
  includeArchived?: boolean;
  /** ISO time. */
  since?: string;
  /** ISO time. */
  until?: string;
  titlesOnly?: boolean;
  /** Default 20. */
  limit?: number;
}

export interface SearchOutput extends SearchResult {
  /** Parts of the query dropped for holding no letters or digits. */
  ignored: string[];
}

/** The storage query for a search input: same filter rules as `list`. */
export function toSearchQuery(query: ParsedQuery, input: Omit<SearchInput, 'query'>): SearchQuery {
  const { types, tags, since, until } = toListQuery(input);
  return { query, types, tags, since, until, titlesOnly: input.titlesOnly, limit: input.limit ?? DEFAULT_SEARCH_LIMIT };
}

/** Ranked full-text search in one context (SPEC section 5). A bad query fails before the context opens. */
export async function searchMemories(ctx: Context, input: SearchInput): Promise<SearchOutput> {
  const parsed = parseQuery(input.query);
  const storage = await ctx.open();
  const result = storage.search(toSearchQuery(parsed, input));
  return { ...result, ignored: parsed.ignored };
}
