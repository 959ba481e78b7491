import type { Context } from '../context/context.js';
import type { IndexCheck } from '../search/types.js';
import type { StorageProblem } from '../storage/types.js';

export interface DoctorResult {
  context: string;
  path: string;
  backend: string;
  /** Memories that could not be read, duplicate ids. */
  problems: StorageProblem[];
  index: IndexCheck;
  /** No problems, no corrupt index, no drift (pending changes are normal and do not count). */
  ok: boolean;
}

/** Checks a context without changing it: unreadable memories, and the search index against the memories. */
export async function doctor(ctx: Context): Promise<DoctorResult> {
  const storage = await ctx.open();
  const problems = storage.problems();
  const index = storage.checkIndex();
  return {
    context: ctx.name,
    path: ctx.path,
    backend: storage.name,
    problems,
    index,
    ok: problems.length === 0 && !index.corrupt && index.drift.length === 0,
  };
}
