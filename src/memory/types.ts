/** The three places a memory can live; in the markdown backend, also its folder name. */
export const MEMORY_TYPES = ['short_term', 'long_term', 'archive'] as const;
export type MemoryType = (typeof MEMORY_TYPES)[number];

/** A titled markdown note with tags: the unit whitemagic stores (SPEC section 3). */
export interface Memory {
  /** Unique, sortable by creation time (see ids.ts). */
  id: string;
  /** One line. */
  title: string;
  /** Markdown body. */
  content: string;
  type: MemoryType;
  /** Lowercase, trimmed, de-duplicated, in first-seen order. */
  tags: string[];
  /** ISO 8601 UTC. Never changes after creation. */
  created: string;
  /** ISO 8601 UTC. */
  updated: string;
  /** Every other front-matter key, kept untouched through updates. */
  meta: Record<string, unknown>;
}

/** A memory without its body: what listing and resolving need, cheap to produce. */
export interface MemoryHeader extends Omit<Memory, 'content'> {
  /** The memory's name: in the markdown backend its file name without `.md`; a REF may use it. */
  name: string;
  /** Size of the stored memory in bytes (file size, or body plus front matter for SQLite). */
  bytes: number;
}

/** Front-matter keys whitemagic owns; everything else is `meta`. */
export const RESERVED_KEYS = new Set(['id', 'title', 'tags', 'created', 'updated', 'type']);

export function isMemoryType(value: string): value is MemoryType {
  return (MEMORY_TYPES as readonly string[]).includes(value);
}
