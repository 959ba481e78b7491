/**
 * What the benchmark needs from the sources, bundled by bench/run.mjs into bench/.cache/: the
 * on-disk format (so generated contexts are exactly what whitemagic writes) and the lazy backend
 * registry (so SQLite contexts are filled through the backend itself).
 */
export { serialiseMemory } from '../src/storage/markdown/file-format.js';
export { memoryName } from '../src/memory/fields.js';
export { newId } from '../src/memory/ids.js';
export { loadBackend } from '../src/storage/registry.js';
export { writeManifest, FORMAT_VERSION } from '../src/context/manifest.js';
