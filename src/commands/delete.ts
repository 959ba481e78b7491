import type { Context } from '../context/context.js';
import { NotFoundError } from '../errors.js';
import type { Memory } from '../memory/types.js';
import { applyUpdate } from './update.js';
import { resolveRef } from './ref.js';

export interface DeleteResult {
  id: string;
  title: string;
  /** true: removed for good; false: moved to archive. */
  permanent: boolean;
  /** It was in the archive already (and not --permanent): nothing changed. */
  alreadyArchived: boolean;
}

/** Archives a memory (recording where it was), or with `permanent` removes it for good. */
export async function deleteMemory(ctx: Context, ref: string, options: { permanent?: boolean } = {}): Promise<DeleteResult> {
  return ctx.withLock(async () => {
    const storage = await ctx.openForWrite();
    const header = resolveRef(storage, ref);
    const base = { id: header.id, title: header.title };
    if (options.permanent) {
      storage.remove(header.id);
      return { ...base, permanent: true, alreadyArchived: false };
    }
    if (header.type === 'archive') return { ...base, permanent: false, alreadyArchived: true };
    const current = storage.read(header.id);
    if (!current) throw new NotFoundError(`memory not found: ${ref}`);
    const archived: Memory = applyUpdate(current, { type: 'archive', meta: { archived_from: current.type } });
    storage.update(archived);
    return { ...base, permanent: false, alreadyArchived: false };
  }, { create: false });
}
