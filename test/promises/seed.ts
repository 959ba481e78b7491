import { normaliseContent } from '../../src/memory/fields.js';
import { newId } from '../../src/memory/ids.js';
import type { Memory, MemoryType } from '../../src/memory/types.js';
import { loadBackend } from '../../src/storage/registry.js';
import type { BackendName } from '../../src/storage/types.js';
import type { Home } from '../helpers/cli.js';
import { expectOk } from './helpers.js';

/** Tags that make consolidation promote a memory instead of archiving it (SPEC section 6). */
export const PROMOTING_TAG = 'decision';

/**
 * Makes a context with `backend` at `dir` through the CLI, then adds `count` memories through the
 * real storage backend in this process (fast, and able to set `created` in the past, which the CLI
 * rightly cannot). Every third memory carries a promoting tag. Returns the memories.
 */
export async function seedContext(
  h: Home,
  dir: string,
  backend: string,
  count: number,
  options: { daysOld?: number; type?: MemoryType; word?: string } = {},
): Promise<Memory[]> {
  expectOk(h.run(['--base-dir', dir, '--backend', backend, 'init']), `init ${backend}`);
  return addMemories(dir, backend, count, options);
}

/** Adds `count` memories to an existing context through its storage backend. */
export async function addMemories(
  dir: string,
  backend: string,
  count: number,
  options: { daysOld?: number; type?: MemoryType; word?: string; label?: string } = {},
): Promise<Memory[]> {
  const at = Date.now() - (options.daysOld ?? 30) * 86_400_000;
  const memories: Memory[] = Array.from({ length: count }, (_, i) => {
    const iso = new Date(at + i).toISOString();
    return {
      id: newId(at + i),
      title: `${options.label ?? 'seeded'} ${i}`,
      // As the commands store it (normalised): the backends take content as given.
      content: normaliseContent(`${options.word ?? 'crashword'} body ${i}\n\n${'Some text to give the file weight. '.repeat(20)}`),
      type: options.type ?? 'short_term',
      tags: i % 3 === 0 ? ['seeded', PROMOTING_TAG] : ['seeded'],
      created: iso,
      updated: iso,
      meta: { n: i },
    };
  });
  const factory = await loadBackend(backend as BackendName);
  const storage = factory.open(dir, {});
  try {
    storage.insertMany(memories);
  } finally {
    storage.close();
  }
  return memories;
}
