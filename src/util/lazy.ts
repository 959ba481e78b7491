import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A CommonJS dependency loaded on first use rather than at import: js-yaml, gray-matter and
 * write-file-atomic cost milliseconds each to load, and most commands need few of them (a `list`
 * served from the catalog parses and writes nothing). Synchronous, unlike import(), so the
 * synchronous storage code can use it.
 */
export function lazyModule<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(id) as T);
}
