import type { Context } from '../context/context.js';
import { NotFoundError } from '../errors.js';
import type { Memory } from '../memory/types.js';
import { resolveRef } from './ref.js';

/** One whole memory by REF (id, unique id prefix, or file name). */
export async function showMemory(ctx: Context, ref: string): Promise<Memory> {
  const storage = await ctx.open();
  const header = resolveRef(storage, ref);
  const memory = storage.read(header.id);
  if (!memory) throw new NotFoundError(`memory not found: ${ref}`, 'it was removed while being read');
  return memory;
}
