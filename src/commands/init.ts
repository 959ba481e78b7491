import type { Context } from '../context/context.js';
import { ConflictError } from '../errors.js';
import type { BackendName } from '../storage/types.js';

export interface InitResult {
  path: string;
  backend: BackendName;
  /** false: the context existed already (nothing changed). */
  created: boolean;
}

/** Makes the active context explicitly, like `git init`: again on an existing one is a no-op. */
export async function initContext(ctx: Context, options: { backend?: BackendName } = {}): Promise<InitResult> {
  const state = ctx.state();
  if (state === 'context' || state === 'legacy') {
    const current = ctx.backendName();
    if (options.backend && options.backend !== current) {
      throw new ConflictError(
        `${ctx.path} is already a ${current} context`,
        `convert it with 'whitemagic migrate --backend ${options.backend}'`,
      );
    }
    const upgraded = await ctx.ensureCreated();
    return { path: ctx.path, backend: current, created: upgraded };
  }
  await ctx.ensureCreated();
  return { path: ctx.path, backend: ctx.backendName(), created: true };
}
