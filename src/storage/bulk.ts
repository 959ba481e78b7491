import { ConflictError } from '../errors.js';
import { MEMORY_TYPES } from '../memory/types.js';
import type { BulkResult, StorageBackend, StoredMemory } from './types.js';

/**
 * Every memory of a storage with the name it is stored under (on markdown, its file name), for a
 * copy that keeps names (clone, backup, migrate): a memory referred to by its file name, or a file
 * named by hand, keeps that name in the copy.
 */
export function* readAllNamed(storage: StorageBackend): Iterable<StoredMemory> {
  const names = new Map(storage.list({ types: [...MEMORY_TYPES] }).memories.map((h) => [h.id, h.name]));
  for (const memory of storage.readAll()) yield { ...memory, name: names.get(memory.id) };
}

/** How a backend stores one memory, for `insertEach`. */
export interface BulkTarget {
  has(id: string): boolean;
  insert(memory: StoredMemory): unknown;
  update(memory: StoredMemory): unknown;
}

/**
 * The rule of `insertMany` for every backend: each memory is inserted, or, if its id exists,
 * skipped, replaced, or refused with a ConflictError, as `onConflict` says.
 */
export function insertEach(memories: Iterable<StoredMemory>, onConflict: 'fail' | 'skip' | 'replace', target: BulkTarget): BulkResult {
  const result: BulkResult = { inserted: 0, skipped: 0, replaced: 0 };
  for (const memory of memories) {
    if (!target.has(memory.id)) {
      target.insert(memory);
      result.inserted++;
    } else if (onConflict === 'skip') {
      result.skipped++;
    } else if (onConflict === 'replace') {
      target.update(memory);
      result.replaced++;
    } else {
      throw new ConflictError(`a memory with id ${memory.id} exists already`);
    }
  }
  return result;
}
