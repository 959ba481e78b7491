import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isContextName } from '../context/names.js';
import { resolveContext } from '../context/resolve.js';
import { MEMORY_TYPES } from '../memory/types.js';
import { CATALOG_FILE } from '../storage/markdown/catalog-file.js';
import { nativeAddon } from '../util/native.js';
import { readsFirst, scanArgs } from './args.js';

/**
 * Reading a markdown context's folders ahead, while the command line loads its code.
 *
 * Every markdown command starts by listing its three memory folders and stating every file in them
 * (SPEC section 3: a file edited in place changes nothing but itself): at 10,000 files about 15 ms
 * of system calls, which the command line used to make only after loading its bundle (about 10 ms
 * of compiling and running its top level). The launcher (launch.ts) guesses from the arguments
 * which folders the command will read and asks the native addon to read them on threads of its
 * own; the first read of each such folder then takes that result (native/folder.c) instead of
 * reading again. A guess that is wrong costs a thread's work and nothing else: a folder no read
 * asks for is never used, and one that is asked for gets a true listing either way.
 *
 * Why an earlier listing is safe: it is taken after the process started, so the command sees the
 * folder as it was at a moment of its own run, which is all a command can promise when files
 * change while it runs. The change checks stay sound because every file the listing shows changed
 * is read after it: the catalog and the search index record a file's content as at least as new
 * as its stat, and the racily-clean rule (file-times.ts) compares stats against a scan time taken
 * before any content is read. Only commands that read before they write are read ahead, and
 * only once per folder: a command's own writes are never hidden by a listing from before them.
 *
 * Each folder goes with its record in the context's catalog: while the folder's own inode and
 * times are the recorded ones, no entry was added, removed or renamed since, and the addon takes
 * the recorded names instead of reading the folder (each name is still stated; docs/storage.md).
 */

/**
 * What the launcher guesses of a run from its arguments, before loading the command line:
 * - `folders`: the memory folders it will read first, as the storage code names them
 *   (`<context>/memory/<type>`); empty unless the command is one of READERS (it reads before it
 *   writes) and works on a markdown context.
 * - `variant`: the kind of context it works on, `markdown` or `sqlite` (for a federated search,
 *   `federated` and the kinds of its contexts, such as `federated-markdown-sqlite`); undefined for
 *   a context not made yet. The code cache keeps a file per command and variant (code-cache.ts): a
 *   `create` on SQLite given the cache a markdown `create` wrote compiled the SQLite backend's
 *   functions every time.
 * The context is resolved by the same rules as the command (resolveContext), so the paths match.
 */
export function guessRun(args: readonly string[], env: NodeJS.ProcessEnv): { folders: string[]; records: Array<[string, number]>; variant?: string } {
  const { command, values, flags } = scanArgs(args);
  const reads = readsFirst(command);
  if (command === 'search' && (flags.has('--all-contexts') || values.has('--contexts'))) {
    const home = resolveContext({ env }).home;
    const names = flags.has('--all-contexts')
      ? readdirSync(home, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()
      : values.get('--contexts')!.split(',').map((n) => n.trim());
    const contexts = names.filter(isContextName).map((name) => contextAt(join(home, name)));
    const kinds = new Set(contexts.map((c) => c.backend).filter(Boolean));
    return { folders: contexts.flatMap((c) => c.folders), records: contexts.flatMap((c) => c.records), variant: ['federated', ...[...kinds].sort()].join('-') };
  }
  if (command === undefined) return { folders: [], records: [] };
  const { backend, folders, records } = contextAt(resolveContext({ baseDir: values.get('--base-dir'), context: values.get('--context'), env }).path);
  return reads ? { folders, records, variant: backend } : { folders: [], records: [], variant: backend };
}

/**
 * The backend of the context at `dir` and its memory folders, as cheaply as they can be told: a
 * markdown context has its memory folder (none: nothing to read ahead); otherwise the manifest
 * (`whitemagic.json`, context/manifest.ts, not imported: it would bring the storage registry into
 * the launcher) names the backend. Undefined for a context not made yet. Beside each folder, its
 * record in the context's catalog: the catalog's path and the folder's index in MEMORY_TYPES.
 */
function contextAt(dir: string): { backend?: string; folders: string[]; records: Array<[string, number]> } {
  if (existsSync(join(dir, 'memory'))) {
    const catalog = join(dir, CATALOG_FILE);
    return { backend: 'markdown', folders: MEMORY_TYPES.map((type) => join(dir, 'memory', type)), records: MEMORY_TYPES.map((_, i) => [catalog, i]) };
  }
  try {
    const backend = (JSON.parse(readFileSync(join(dir, 'whitemagic.json'), 'utf8')) as { backend?: unknown }).backend;
    return { backend: backend === 'sqlite' || backend === 'markdown' ? backend : undefined, folders: [], records: [] };
  } catch {
    return { folders: [], records: [] };
  }
}

/**
 * Starts reading ahead the folders this run will read, where the native addon is built; returns the
 * run's variant (guessRun). Never throws: it is only a guess.
 */
export function readAhead(args: readonly string[]): string | undefined {
  try {
    const { folders, records, variant } = guessRun(args, process.env);
    if (folders.length) nativeAddon()?.prefetch(folders, records);
    return variant;
  } catch {
    // A context that cannot be resolved, a home that cannot be read: the command says so itself.
    return undefined;
  }
}
