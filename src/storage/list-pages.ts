import { itemDone } from '../util/heap.js';
import type { ListQuery, ListResult, StorageBackend } from './types.js';

/**
 * A list by creation date (`query.sort` created or unset) read a page of `page` memories at a time,
 * so that a listing of every memory never holds every header (at 100,000 memories, some 85,000 of
 * them: 40 MiB and more). Each page starts at the creation time the one before ended on, past the
 * memories of that time it already gave: the order within one time (by id) is the same from page
 * to page. The first page's `total` and `problems` are the whole list's; `query.limit` still caps
 * the memories given in all.
 *
 * Pages read at different moments: a memory created or removed between two pages (without the
 * context's lock, which a list does not take) may be missed or given twice at their border, as
 * when a list is run twice.
 */
export function* listPages(storage: StorageBackend, query: ListQuery, page: number): Generator<ListResult> {
  const newestFirst = !query.reverse;
  let left = query.limit ?? Infinity;
  let bound: Pick<ListQuery, 'since' | 'until'> = {};
  let given = 0;
  for (;;) {
    const limit = given + Math.min(page, left);
    const result = storage.list({ ...query, ...bound, limit });
    const { memories } = result;
    // Past the first page, each memory given is an item for the heap's pacer (a page's headers are
    // garbage once written); a list of one page, the everyday one, never loads what pacing needs.
    if (bound.since !== undefined || bound.until !== undefined) for (let i = given; i < memories.length; i++) itemDone();
    yield { ...result, memories: memories.slice(given) };
    left -= memories.length - given;
    if (memories.length < limit || left <= 0) return;
    const at = memories[memories.length - 1].created;
    bound = newestFirst ? { until: at } : { since: at };
    given = 0;
    for (let i = memories.length - 1; i >= 0 && memories[i].created === at; i--) given++;
  }
}
