import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { checkContextName, isContextName } from './names.js';

/** Which rule of SPEC section 2 chose the active context. */
export type ContextSource =
  | '--base-dir'
  | '--context'
  | 'WM_BASE_PATH'
  | 'WHITEMAGIC_BASE_DIR'
  | 'WHITEMAGIC_CONTEXT'
  | 'switch'
  | 'default';

export interface ContextLocation {
  /** Absolute path of the context directory. */
  path: string;
  /** The context's name: its directory's base name. */
  name: string;
  source: ContextSource;
  /** Chosen on purpose (every rule but the last): a read of a missing context is an error. */
  explicit: boolean;
  /** $WHITEMAGIC_HOME, absolute. */
  home: string;
}

export interface ResolveInput {
  baseDir?: string;
  context?: string;
  env?: NodeJS.ProcessEnv;
  /** The MCP server reads WM_BASE_PATH before every other rule. */
  mcp?: boolean;
}

/** The file in $WHITEMAGIC_HOME that remembers `whitemagic switch NAME`. */
export const ACTIVE_CONTEXT_FILE = 'active-context';
export const DEFAULT_CONTEXT = 'default';

/** Expands a leading `~` and makes the path absolute. */
export function expandPath(path: string, env: NodeJS.ProcessEnv = process.env): string {
  if (path.includes('\u0000')) throw new UsageError('a path cannot contain a NUL character');
  let p = path;
  if (p === '~' || p.startsWith('~/')) p = join(env.HOME || homedir(), p.slice(1));
  return resolve(p);
}

/** $WHITEMAGIC_HOME, default ~/.whitemagic. */
export function whitemagicHome(env: NodeJS.ProcessEnv = process.env): string {
  return expandPath(env.WHITEMAGIC_HOME || '~/.whitemagic', env);
}

/** The context name last chosen with `switch`, if any and still a valid name. */
export function switchedContext(home: string): string | undefined {
  try {
    const name = readFileSync(join(home, ACTIVE_CONTEXT_FILE), 'utf8').trim();
    return isContextName(name) ? name : undefined;
  } catch {
    return undefined;
  }
}

/** The active context by the six rules of SPEC section 2, first match wins. */
export function resolveContext(input: ResolveInput = {}): ContextLocation {
  const env = input.env ?? process.env;
  const home = whitemagicHome(env);
  if (input.baseDir !== undefined && input.context !== undefined) {
    throw new UsageError('--base-dir and --context cannot be used together', 'pick one of them');
  }
  const byPath = (raw: string, source: ContextSource): ContextLocation => {
    if (!raw.trim()) throw new UsageError(`${source}: the path is empty`);
    const path = expandPath(raw, env);
    return { path, name: basename(path), source, explicit: true, home };
  };
  const byName = (name: string, source: ContextSource, explicit = true): ContextLocation => {
    checkContextName(name, source);
    return { path: join(home, name), name, source, explicit, home };
  };

  if (input.mcp && env.WM_BASE_PATH) return byPath(env.WM_BASE_PATH, 'WM_BASE_PATH');
  if (input.baseDir !== undefined) return byPath(input.baseDir, '--base-dir');
  if (input.context !== undefined) return byName(input.context, '--context');
  if (env.WHITEMAGIC_BASE_DIR) return byPath(env.WHITEMAGIC_BASE_DIR, 'WHITEMAGIC_BASE_DIR');
  if (env.WHITEMAGIC_CONTEXT) return byName(env.WHITEMAGIC_CONTEXT, 'WHITEMAGIC_CONTEXT');
  const switched = switchedContext(home);
  if (switched) return byName(switched, 'switch');
  return byName(DEFAULT_CONTEXT, 'default', false);
}

/** Human words for a source, as `status` prints them. */
export function describeSource(source: ContextSource): string {
  switch (source) {
    case '--base-dir':
      return 'the --base-dir option';
    case '--context':
      return 'the --context option';
    case 'WM_BASE_PATH':
      return 'the WM_BASE_PATH environment variable';
    case 'WHITEMAGIC_BASE_DIR':
      return 'the WHITEMAGIC_BASE_DIR environment variable';
    case 'WHITEMAGIC_CONTEXT':
      return 'the WHITEMAGIC_CONTEXT environment variable';
    case 'switch':
      return "'whitemagic switch'";
    case 'default':
      return 'the default';
  }
}
