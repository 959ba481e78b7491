import type { Context } from '../context/context.js';
import type { StorageBackend } from '../storage/types.js';
import { itemDone } from '../util/heap.js';

/**
 * The items of `items`, passed through unchanged, telling the context's progress reporter (if
 * any) how many have gone by: how a command shows progress of a bulk write without the storage
 * knowing about it. Each item taken is also reported to the heap's pacer (`itemDone`, heap.ts),
 * which keeps a bulk command's garbage from piling up.
 */
export function* counted<T>(ctx: Context, label: string, items: Iterable<T>, count: number | (() => number)): Iterable<T> {
  const report = ctx.options.progress;
  if (!report) {
    yield* paced(items);
    return;
  }
  // Counted only when someone is watching: for a backend, counting may cost a query.
  const total = typeof count === 'function' ? count() : count;
  let done = 0;
  for (const item of items) {
    yield item;
    itemDone();
    report(label, ++done, Math.max(total, done));
  }
  report(label, Math.max(total, done), Math.max(total, done));
}

/** The items of `items`, each reported to the heap's pacer once taken (as `counted` does, with no progress to show). */
export function* paced<T>(items: Iterable<T>): Iterable<T> {
  for (const item of items) {
    yield item;
    itemDone();
  }
}

/** How many memories a storage holds: the total of a bulk read of all of them. */
export function memoryCount(storage: StorageBackend): () => number {
  return () => Object.values(storage.summary().counts).reduce((a, b) => a + b, 0);
}
