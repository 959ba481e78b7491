import type { MemoryType } from '../memory/types.js';
import type { StorageProblem } from '../storage/types.js';
import type { ParsedQuery } from './query.js';

/** What a backend's `search` is asked (SPEC section 5); filters mean what they mean for `list`. */
export interface SearchQuery {
  /** The parsed query (src/search/query.ts). */
  query: ParsedQuery;
  /** Types to search. Default: short_term and long_term. */
  types?: MemoryType[];
  /** Tags that must all be present (already normalised). */
  tags?: string[];
  /** Only memories created at or after this time (ISO). */
  since?: string;
  /** Only memories created at or before this time (ISO). */
  until?: string;
  /** Match titles only (exclusions still apply to the whole memory). */
  titlesOnly?: boolean;
  /** At most this many hits; default 20. */
  limit?: number;
  /**
   * Fetch the hits' marked title and snippet only when asked (`fetchMarks` in src/search/fts.ts)
   * or first read, not with the ranking: a federated search keeps a few hits of each context. The
   * storage must still be open then.
   */
  deferMarks?: boolean;
}

/** A stretch of text with the matched words located in it. */
export interface MarkedText {
  /** Plain text, no markers. */
  text: string;
  /** Where the matched words are: [start, end) in UTF-16 code units of `text`, in order. */
  matches: Array<[number, number]>;
}

/** One memory a search found. */
export interface SearchHit {
  id: string;
  title: string;
  type: MemoryType;
  tags: string[];
  created: string;
  updated: string;
  /** Relevance: higher is better. BM25 within one context; normalised to [0, 1] across contexts. */
  score: number;
  /** The title with its matched words located. */
  titleMarks: MarkedText;
  /** A short piece of the body around the matched words (its start when only the title matched). */
  snippet: MarkedText;
}

export interface SearchResult {
  /** Best first; equal scores newest (greatest id) first. */
  hits: SearchHit[];
  /** How many memories matched before `limit` cut the list. */
  total: number;
  /** Entries that could not be read (they are not searched). */
  problems: StorageProblem[];
}

/** What `reindex` did. */
export interface ReindexResult {
  /** Memories in the rebuilt index. */
  indexed: number;
}

/** A disagreement between the memories and the derived search index. */
export interface IndexDrift {
  id: string;
  /** missing: not in the index; stale: indexed differently; orphan: indexed but gone. */
  kind: 'missing' | 'stale' | 'orphan';
  /** Where the memory is (a file), when known. */
  path?: string;
}

/** What `doctor` learns about a context's search index. */
export interface IndexCheck {
  /** Whether an index exists at all (a markdown context builds it at its first search). */
  present: boolean;
  /** The index's own consistency check failed: why. */
  corrupt?: string;
  /** Changes on disk not yet seen by the index (normal: the next search takes them in). */
  pending: number;
  /** Disagreements the change check cannot see; `reindex` repairs them. */
  drift: IndexDrift[];
}
