import { ConflictError } from '../errors.js';
import type { BulkResult, StorageBackend, StoredMemory } from './types.js';

/**
 * Every memory of a storage with the name it is stored under (on markdown, its file name), for a
 * copy that keeps names (clone, backup, migrate): a memory referred to by its file name, or a file
 * named by hand, keeps that name in the copy.
 *
 * It streams: a backend that knows each name as it reads (markdown) gives it with the memory;
 * otherwise each name is looked up by its exact id as the memory goes by (an indexed query on
 * SQLite), so nothing is held for all memories at once. (On markdown a lookup by id would fill in
 * each header's title and extra keys, about 45 MiB at 100,000 memories.)
 */
export function* readAllNamed(storage: StorageBackend): Iterable<StoredMemory> {
  if (storage.readAllStored) {
    for (const memory of storage.readAllStored()) yield detached(memory);
    return;
  }
  for (const memory of storage.readAll()) {
    const name = storage.lookup(memory.id).find((h) => h.id === memory.id)?.name;
    yield detached({ ...memory, name });
  }
}

/** Longer strings are detached the cheap way (see detach). */
const SHORT_TEXT = 64;

/**
 * A string equal to `text` that does not keep a larger string alive. V8 makes a slice of 13
 * characters or more (`substring`, a regular expression's match: how a parser takes an id or a
 * title out of a file) a view into the whole text, so keeping the slice keeps the text: an id kept
 * for each of 100,000 memories would keep every file. This copies it into a string of its own.
 */
export function detach(text: string): string {
  // `(' ' + text).slice(1)` makes a copy, but keeps it behind a slice of its own: 32 bytes more a
  // string, which for the short strings kept by the hundred thousand (ids, dates, names: some 6 MB
  // of a restore of 100,000) is most of their size. A JSON round trip makes one flat string (lone
  // surrogates included) at three times the cost, paid only where those bytes count: a catalog
  // line (about 300 characters, made for every file a scan reads) keeps the cheaper copy.
  return text.length > SHORT_TEXT ? (' ' + text).slice(1) : (JSON.parse(JSON.stringify(text)) as string);
}

/** A copy of a parsed value whose strings are `detach`ed (numbers, NaN and -0 included, kept exactly). */
function detachValue(value: unknown): unknown {
  if (typeof value === 'string') return detach(value);
  if (Array.isArray(value)) return value.map(detachValue);
  const proto: unknown = value && typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  if (proto === Object.prototype || proto === null) {
    const copy = Object.create(proto as object | null) as Record<string, unknown>;
    for (const [key, v] of Object.entries(value as object)) copy[key] = detachValue(v);
    return copy;
  }
  return value;
}

/**
 * `memory` with its header fields `detach`ed from the text it was parsed from. A bulk write keeps
 * each written memory's header (the markdown backend, for the rest of the command), and a stream
 * of memories must not keep every file it read through them. The body is left as it is: nothing
 * keeps it once written.
 */
export function detached<T extends StoredMemory>(memory: T): T {
  const { name } = memory;
  return { ...memory, ...detachedHeader(memory), ...(name !== undefined ? { name: detach(name) } : {}) };
}

/** The header fields of a parsed memory, `detach`ed (see detached): what a scan keeps of a file it read. */
export function detachedHeader<T extends Pick<StoredMemory, 'id' | 'title' | 'created' | 'updated' | 'tags' | 'meta'>>(header: T): T {
  const { id, title, created, updated, tags, meta } = header;
  return {
    ...header,
    id: detach(id),
    title: detach(title),
    created: detach(created),
    updated: detach(updated),
    tags: tags.map(detach),
    meta: detachValue(meta) as Record<string, unknown>,
  };
}

/**
 * `items` as an iterable that can be gone through once. A bulk write fed by a stream (a generator
 * reading memories one at a time) cannot be replayed: if a backend retried its batch after taking
 * some of the items (a transaction retried on a busy database), a replay would silently miss
 * them. This makes a second pass fail loudly instead, with nothing of the batch kept.
 */
export function once<T>(items: Iterable<T>): Iterable<T> {
  let taken = false;
  return {
    [Symbol.iterator]() {
      if (taken) throw new Error('a streamed batch of memories was started twice; nothing of it was kept, run the command again');
      taken = true;
      return items[Symbol.iterator]();
    },
  };
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
