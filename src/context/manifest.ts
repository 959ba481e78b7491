import { join } from 'node:path';
import { lazyModule } from '../util/lazy.js';
import { InvalidInputError, WhitemagicError, fromFsError, readTextIfPresent } from '../errors.js';
import { printable } from './names.js';
import { BACKEND_NAMES } from '../storage/registry.js';
import type { BackendName } from '../storage/types.js';

/** Loaded on first write: reading commands never pay for it. */
const writeFileAtomic = lazyModule<typeof import('write-file-atomic')>(() => require('write-file-atomic'));

/** The manifest of a context: `whitemagic.json` at its root (SPEC section 2). */
export const MANIFEST_FILE = 'whitemagic.json';

/**
 * The context format this version writes. 0 is a directory without a manifest (hand-made or
 * whitemagic 2.x); opening an older format upgrades it, a newer one is refused.
 */
export const FORMAT_VERSION = 1;

export interface Manifest {
  format: number;
  backend: BackendName;
  description?: string;
  created: string;
  /** Days a short-term memory stays before consolidation (SPEC section 6). */
  retention_days?: number;
  /** Keys written by other versions are kept. */
  [key: string]: unknown;
}

/** The manifest of the context at `dir`, or undefined if it has none. */
export function readManifest(dir: string): Manifest | undefined {
  const path = join(dir, MANIFEST_FILE);
  const text = readTextIfPresent(path);
  if (text === undefined) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new InvalidInputError(`${path}: the manifest is not valid JSON`, 'fix or remove it; memories are not in it');
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    throw new InvalidInputError(`${path}: the manifest is not a JSON object`);
  }
  const m = data as Record<string, unknown>;
  const format = typeof m.format === 'number' ? m.format : 0;
  if (format > FORMAT_VERSION) {
    throw new WhitemagicError(
      'unsupported',
      `${dir} was written by a newer whitemagic (context format ${format}; this version reads up to ${FORMAT_VERSION})`,
      { hint: 'upgrade whitemagic to use this context' },
    );
  }
  const backend = typeof m.backend === 'string' ? m.backend : 'markdown';
  if (!(BACKEND_NAMES as string[]).includes(backend)) {
    throw new InvalidInputError(`${path}: unknown backend '${printable(backend)}'`, `a context's backend is one of: ${BACKEND_NAMES.join(', ')}`);
  }
  return { ...m, format, backend: backend as BackendName, created: typeof m.created === 'string' ? m.created : '' };
}

/** Writes the manifest atomically, readable by its owner only. */
export function writeManifest(dir: string, manifest: Manifest): void {
  const path = join(dir, MANIFEST_FILE);
  try {
    writeFileAtomic().sync(path, JSON.stringify(manifest, null, 2) + '\n', { mode: 0o600, fsync: true });
  } catch (err) {
    throw fromFsError(err, path);
  }
}
