import { MEMORY_TYPES, type MemoryHeader, type MemoryType } from '../memory/types.js';
import type { ListQuery, StorageSummary } from './types.js';

/** The types a list shows when none are named: archived memories only on request. */
export const DEFAULT_LIST_TYPES: MemoryType[] = ['short_term', 'long_term'];

/**
 * Filters, sorts and limits headers as ListQuery says: the reference semantics for every backend.
 * A backend that can push the query down (SQL) must give the same result; the conformance suite checks.
 */
export function applyListQuery(headers: Iterable<MemoryHeader>, query: ListQuery): { memories: MemoryHeader[]; total: number } {
  const types = new Set(query.types ?? DEFAULT_LIST_TYPES);
  const tags = query.tags ?? [];
  const order = comparator(query.sort ?? 'created', query.reverse ?? false);
  const limit = query.limit;
  // With a limit, only the best `limit` so far are kept, in order: a page of 20 out of 10,000 costs
  // about one comparison per memory instead of a full sort.
  const kept: MemoryHeader[] = [];
  let total = 0;
  for (const h of headers) {
    if (!types.has(h.type)) continue;
    if (query.since && h.created < query.since) continue;
    if (query.until && h.created > query.until) continue;
    if (tags.length && !tags.every((t) => h.tags.includes(t))) continue;
    total++;
    if (limit === undefined) kept.push(h);
    else if (kept.length < limit || (limit > 0 && order(h, kept[kept.length - 1]) < 0)) insertSorted(kept, h, order, limit);
  }
  if (limit === undefined) kept.sort(order);
  return { memories: kept, total };
}

/** Puts `h` in its place in the sorted `list`, which keeps at most `max` entries. */
function insertSorted(list: MemoryHeader[], h: MemoryHeader, order: (a: MemoryHeader, b: MemoryHeader) => number, max: number): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (order(list[mid], h) <= 0) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, h);
  if (list.length > max) list.pop();
}

/**
 * Order of a list: dates newest first, titles A to Z (by code point, so every backend agrees);
 * ties broken by id, newest first, so the order is total and the same on every backend.
 */
export function comparator(sort: 'created' | 'updated' | 'title', reverse: boolean) {
  const sign = reverse ? -1 : 1;
  return (a: MemoryHeader, b: MemoryHeader): number => {
    let c: number;
    if (sort === 'title') c = cmp(a.title, b.title);
    else c = -cmp(a[sort], b[sort]);
    if (c === 0) c = -cmp(a.id, b.id);
    return sign * c;
  };
}

function cmp(a: string, b: string): number {
  return compareCodePoints(a, b);
}

/**
 * Compares two strings by Unicode code point, as SQLite's BINARY collation does on UTF-8. JS `<`
 * compares UTF-16 code units, which puts an astral character (a surrogate pair, such as an emoji)
 * before U+E000..U+FFFF; shifting those two ranges past each other restores code point order.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

/** Counts by type, tag counts and bytes of a set of headers. */
export function summarise(headers: Iterable<MemoryHeader>): StorageSummary {
  const count = new SummaryCount();
  for (const h of headers) count.add(h);
  return count.summary();
}

/** A summary counted one header at a time (summarise; a scan that keeps no header). */
export class SummaryCount {
  private readonly counts = Object.fromEntries(MEMORY_TYPES.map((t) => [t, 0])) as Record<MemoryType, number>;
  private readonly tags = new Map<string, number>();
  private bytes = 0;

  add(h: Pick<MemoryHeader, 'type' | 'bytes' | 'tags'>): void {
    this.counts[h.type]++;
    this.bytes += h.bytes;
    for (const t of h.tags) this.tags.set(t, (this.tags.get(t) ?? 0) + 1);
  }

  summary(): StorageSummary {
    // Keys in code point order, so `--json` prints the same bytes whichever backend counted them.
    const tags: Record<string, number> = {};
    for (const t of [...this.tags.keys()].sort(compareCodePoints)) tags[t] = this.tags.get(t)!;
    return { counts: { ...this.counts }, tags, bytes: this.bytes };
  }
}

/** SQL conditions (and their parameters) for `--since` / `--until` on a `created` column (both ends inclusive). */
export function createdBetween(column: string, since?: string, until?: string): { where: string[]; params: string[] } {
  const where: string[] = [];
  const params: string[] = [];
  if (since) {
    where.push(`${column} >= ?`);
    params.push(since);
  }
  if (until) {
    where.push(`${column} <= ?`);
    params.push(until);
  }
  return { where, params };
}
