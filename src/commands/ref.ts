import { AmbiguousRefError, NotFoundError, UsageError } from '../errors.js';
import { printable } from '../context/names.js';
import type { MemoryHeader } from '../memory/types.js';
import type { StorageBackend } from '../storage/types.js';

/** The shortest id prefix a REF may use (SPEC section 3). */
export const MIN_PREFIX = 4;

/**
 * The one memory a REF names: its id, a unique id prefix of 4 or more characters, or its file name.
 * A REF that could name a path (`/`, `\`, `..`, control characters) is refused before any lookup.
 */
export function resolveRef(storage: StorageBackend, ref: string): MemoryHeader {
  const clean = ref.trim();
  if (!clean) throw new UsageError('a REF cannot be empty', 'give an id, an id prefix or a file name');
  if (/[/\\\u0000-\u001f\u007f]/.test(clean) || clean.includes('..')) {
    throw new UsageError(`invalid REF '${printable(clean)}'`, 'a REF is an id, an id prefix or a file name, never a path');
  }
  const found = storage.lookup(clean);
  if (found.length === 1) {
    const [only] = found;
    if (only.id !== clean && only.name !== clean.replace(/\.md$/, '') && clean.length < MIN_PREFIX) {
      throw new UsageError(`'${clean}' is too short`, `give at least ${MIN_PREFIX} characters of the id`);
    }
    return only;
  }
  if (found.length === 0) {
    throw new NotFoundError(`memory not found: ${printable(clean)}`, "see 'whitemagic list' (add --include-archived for archived ones)");
  }
  if (clean.length < MIN_PREFIX) {
    throw new UsageError(`'${clean}' is too short`, `give at least ${MIN_PREFIX} characters of the id`);
  }
  throw new AmbiguousRefError(clean, found.map((h) => `${h.id} (${h.title})`).slice(0, 10));
}
