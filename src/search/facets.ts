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

/**
 * `match` narrowed to memories of one of `types` carrying every tag of `tags`. Types left out are
 * excluded with NOT when that names fewer lists than keeping the others with OR: the default
 * search (every type but archive) then walks one type's list instead of merging two, about a
 * third less work for a common word at 100,000 memories.
 */
export function withFacets(match: string, column: string, types: readonly MemoryType[], tags: readonly string[]): string {
  let out = `(${match})`;
  for (const tag of tags) out += ` AND {${column}} : "${tagToken(tag)}"`;
  if (types.length < MEMORY_TYPES.length) {
    const excluded = MEMORY_TYPES.filter((t) => !types.includes(t));
    const quoted = (list: readonly MemoryType[]) => list.map((t) => `"${typeToken(t)}"`).join(' OR ');
    // No type at all matches nothing: a token no memory has.
    if (!types.length) out += ` AND {${column}} : "${TYPE_MARK}9"`;
    else if (excluded.length < types.length) out += ` NOT {${column}} : (${quoted(excluded)})`;
    else out += ` AND {${column}} : (${quoted(types)})`;
  }
  return out;
}
