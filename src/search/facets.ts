import { MEMORY_TYPES, type MemoryType } from '../memory/types.js';

/**
 * Facets: a memory's type and tags written as tokens in a hidden FTS column (bm25 weight 0), so
 * the filters --type and --tag are part of the MATCH and FTS5 applies them by merging its lists,
 * without looking up each matching row elsewhere. The tokens are digits only, which the porter
 * and unicode61 tokenizers keep whole and unchanged.
 */

const TYPE_MARK = '7777';
const TAG_MARK = '8888';

function typeToken(type: MemoryType): string {
  return TYPE_MARK + MEMORY_TYPES.indexOf(type);
}

function tagToken(tag: string): string {
  let out = TAG_MARK;
  for (let i = 0; i < tag.length; i++) out += String(tag.charCodeAt(i)).padStart(5, '0');
  return out;
}

/** The facets column of a memory. */
export function facetsText(type: MemoryType, tags: string[]): string {
  return [typeToken(type), ...tags.map(tagToken)].join(' ');
}

/** The MATCH clause that keeps memories of one of `types` carrying every tag of `tags`; undefined if it keeps all. */
export function facetFilter(column: string, types: readonly MemoryType[], tags: readonly string[]): string | undefined {
  const parts: string[] = [];
  if (types.length < MEMORY_TYPES.length) {
    // No type at all matches nothing: a token no memory has.
    const alternatives = types.length ? types.map(typeToken) : [`${TYPE_MARK}9`];
    parts.push(`{${column}} : (${alternatives.map((t) => `"${t}"`).join(' OR ')})`);
  }
  for (const tag of tags) parts.push(`{${column}} : "${tagToken(tag)}"`);
  return parts.length ? parts.join(' AND ') : undefined;
}
