/**
 * A CommonJS dependency loaded on first use rather than at import: js-yaml and
 * write-file-atomic cost milliseconds each to load, and most commands need few of them (a `list`
 * served from the catalog parses and writes nothing). Synchronous, unlike import(), so the
 * synchronous storage code can use it.
 *
 * Callers pass `() => require('name')` with a literal name: the build bundles such a dependency
 * into the chunk that uses it, where it still runs only when first called (scripts/build.mjs).
 */
export function lazyModule<T>(load: () => unknown): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= load() as T);
}
