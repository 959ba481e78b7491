import type { Context } from '../context/context.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { isMemoryType, type Memory, type MemoryType } from '../memory/types.js';
import { applyUpdate } from './update.js';
import { resolveRef } from './ref.js';

/**
 * Brings an archived memory back: to `type` if given, else where `delete` took it from, else
 * short_term.
 */
export async function restoreMemory(ctx: Context, ref: string, options: { type?: MemoryType } = {}): Promise<Memory> {
  return ctx.withLock(async () => {
    const storage = await ctx.openForWrite();
    const header = resolveRef(storage, ref);
    if (header.type !== 'archive') {
      throw new ConflictError(`memory ${header.id} is not archived (it is ${header.type})`);
    }
    const current = storage.read(header.id);
    if (!current) throw new NotFoundError(`memory not found: ${ref}`);
    const from = current.meta.archived_from;
    const type: MemoryType =
      options.type ?? (typeof from === 'string' && isMemoryType(from) && from !== 'archive' ? from : 'short_term');
    const restored = applyUpdate(current, { type });
    delete restored.meta.archived_from;
    storage.update(restored);
    return restored;
  }, { create: false });
}
