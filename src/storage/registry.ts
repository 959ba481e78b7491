import { UsageError } from '../errors.js';
import type { BackendFactory, BackendName } from './types.js';

/**
 * Backend name to a lazy import of its module. Adding a backend: a folder under src/storage/ whose
 * index.ts default-exports a BackendFactory, one line here, and the conformance suite in test/.
 * Lazy, so that a command on a markdown context never loads the SQLite driver and the reverse.
 */
const BACKENDS: Record<BackendName, () => Promise<{ default: BackendFactory }>> = {
  markdown: () => import('./markdown/index.js'),
  sqlite: () => import('./sqlite/index.js'),
};

/** Every backend name, in the order shown to users. */
export const BACKEND_NAMES = Object.keys(BACKENDS) as BackendName[];

/** The default backend for a new context: env WHITEMAGIC_BACKEND, else markdown. */
export function defaultBackendName(env: NodeJS.ProcessEnv = process.env): BackendName {
  const fromEnv = env.WHITEMAGIC_BACKEND;
  return fromEnv ? checkBackendName(fromEnv, 'WHITEMAGIC_BACKEND') : 'markdown';
}

/** A backend name given by the user, or a usage error listing the valid ones. */
export function checkBackendName(name: string, where = '--backend'): BackendName {
  if (!(BACKEND_NAMES as string[]).includes(name)) {
    throw new UsageError(`${where}: unknown backend '${name}'`, `use one of: ${BACKEND_NAMES.join(', ')}`);
  }
  return name as BackendName;
}

/** The factory of a backend, loading its module on first use. */
export async function loadBackend(name: BackendName): Promise<BackendFactory> {
  const mod = await BACKENDS[checkBackendName(name)]();
  return mod.default;
}
