import type { Context } from '../context/context.js';
import type { ReindexResult } from '../search/types.js';
import { expectBulkWork } from '../util/heap.js';

export interface ReindexOutput extends ReindexResult {
  context: string;
  backend: string;
}

/** Rebuilds the context's derived search index from its memories, holding the context's lock. */
export async function reindex(ctx: Context): Promise<ReindexOutput> {
  expectBulkWork();
  const storage = await ctx.open();
  const state = ctx.state();
  // The implicit default context before its first write: nothing to index, and nothing to create.
  if (state === 'missing' || state === 'not-a-context') return { context: ctx.name, backend: storage.name, indexed: 0 };
  const report = ctx.options.progress;
  // Each memory indexed is reported to the heap's pacer by the backend (itemDone), progress here.
  const result = await ctx.withLock(() => storage.reindex(report && ((done, total) => report('reindex', done, total))));
  return { context: ctx.name, backend: storage.name, ...result };
}
