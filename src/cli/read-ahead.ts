import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isContextName } from '../context/names.js';
import { resolveContext } from '../context/resolve.js';
import { MEMORY_TYPES } from '../memory/types.js';
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
 */

/**
 * The memory folders a run with these arguments will read first, as the storage code names them
 * (`<context>/memory/<type>`); empty when the command is not one of READERS or the arguments do not
 * say. Resolves the context by the same rules as the command (resolveContext), so the paths match.
 */
export function foldersToReadAhead(args: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const { command, values, flags } = scanArgs(args);
  if (!readsFirst(command)) return [];
  // Only a context with a memory folder: a SQLite context has none, and then nothing is read ahead.
  const folders = (dir: string) => (existsSync(join(dir, 'memory')) ? MEMORY_TYPES.map((type) => join(dir, 'memory', type)) : []);
  if (command === 'search' && (flags.has('--all-contexts') || values.has('--contexts'))) {
    const home = resolveContext({ env }).home;
    const names = flags.has('--all-contexts')
      ? readdirSync(home, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()
      : values.get('--contexts')!.split(',').map((n) => n.trim());
    return names.filter(isContextName).flatMap((name) => folders(join(home, name)));
  }
  return folders(resolveContext({ baseDir: values.get('--base-dir'), context: values.get('--context'), env }).path);
}

/** Starts reading ahead the folders this run will read, where the native addon is built. Never throws: it is only a guess. */
export function readAhead(args: readonly string[]): void {
  try {
    const folders = foldersToReadAhead(args, process.env);
    if (folders.length) nativeAddon()?.prefetch(folders);
  } catch {
    // A context that cannot be resolved, a home that cannot be read: the command says so itself.
  }
}
