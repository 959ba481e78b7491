import type { Context, ContextState } from '../context/context.js';
import { FORMAT_VERSION } from '../context/manifest.js';
import { describeSource, switchedContext, type ContextSource } from '../context/resolve.js';
import type { MemoryType } from '../memory/types.js';

export interface StatusResult {
  name: string;
  path: string;
  /** The rule of SPEC section 2 that chose it. */
  source: ContextSource;
  /** That rule in words. */
  chosenBy: string;
  state: ContextState;
  backend: string;
  format: number;
  description?: string;
  /** The context remembered by `whitemagic switch`, if any (another rule may have won over it). */
  switched?: string;
  counts: Record<MemoryType, number>;
  total: number;
}

/** The answer to "am I in the right context?": where, why, which backend, how many memories. */
export async function status(ctx: Context): Promise<StatusResult> {
  let state = ctx.state();
  let counts: Record<MemoryType, number> = { short_term: 0, long_term: 0, archive: 0 };
  if (state === 'context' || state === 'legacy') {
    counts = (await ctx.open()).summary().counts;
    state = ctx.state(); // opening upgrades an older context
  }
  const manifest = state === 'context' ? ctx.manifest() : undefined;
  return {
    name: ctx.name,
    path: ctx.path,
    source: ctx.location.source,
    chosenBy: describeSource(ctx.location.source),
    state,
    backend: ctx.backendName(),
    format: manifest?.format ?? (state === 'legacy' ? 0 : FORMAT_VERSION),
    description: manifest?.description,
    switched: switchedContext(ctx.location.home),
    counts,
    total: counts.short_term + counts.long_term + counts.archive,
  };
}
