import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, wrap } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { COMMANDS } from '../cli/args.js';

/**
 * Runs a CommonJS bundle with V8's code cache, as Node 22's `module.enableCompileCache` does (Node
 * 20, which we support, lacks it). Compiling the command line's bundle is the largest part of a
 * command's start-up; with the cache, V8 reuses the compiled code of the functions earlier runs used.
 *
 * The cache lives in the temporary folder, in a folder of this user's own (`0700`, checked to be
 * owned by this user and not a link, since compiled code is trusted as it is), one file per bundle,
 * Node.js version and command. It is written at the exit of a run that found it missing or refused
 * by V8 (another V8, other flags, another bundle of the same size), atomically; any failure only
 * means compiling as usual.
 *
 * One file per command and kind of context: a cache holds the functions of the run that wrote it
 * (functions it lacks are compiled every time), and V8 deserialises all of it before the bundle
 * runs, so a `list` given a cache that had learnt every command of a day's work spent about 2 ms
 * more than with its own (533 against 243 KB), and a SQLite `create` given a markdown `create`'s
 * about 3 ms more processor time than with its own. `command` is the word the launcher read
 * (args.ts); a word that is not a command shares one file with the runs that name none, so typos
 * do not fill the folder.
 * `variant` is the kind of context the launcher found (read-ahead.ts: `markdown`, `sqlite`,
 * `federated-markdown`...; none for a context not made yet).
 */
export function runWithCodeCache(file: string, command?: string, variant?: string): void {
  // The bundle is ASCII (built with esbuild's `charset: 'ascii'`; the build refuses anything else),
  // so Latin-1 gives the same string as UTF-8 without decoding it: about 0.5 ms of every command.
  const source = readFileSync(file, 'latin1');
  const known = command !== undefined && COMMANDS.has(command);
  const cacheFile = cachePathFor(file, source.length, known ? command : '', known && variant && /^[a-z-]+$/.test(variant) ? variant : undefined);
  let data: Buffer | undefined;
  if (cacheFile) {
    try {
      data = readFileSync(cacheFile);
    } catch {
      data = undefined;
    }
  }
  const script = new Script(wrap(source), { filename: file, cachedData: data });
  if (cacheFile && (!data || script.cachedDataRejected)) {
    // At exit, so the cache holds the functions this command compiled, not only the top level.
    process.once('exit', () => saveCache(cacheFile, () => script.createCachedData()));
  }
  const run = script.runInThisContext() as (exports: object, require: NodeRequire, module: object, filename: string, dirname: string) => void;
  const module = { exports: {} };
  run.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
}

/**
 * The cache file of a bundle for a command, or undefined when the user's cache folder cannot be
 * trusted or made. Named `<node>-<arch>-<bundle's length>-<mtime>-<bundle's path>.<command>`, and
 * `.<variant>` after it when the kind of context is known; runs that name no known command use `.none`.
 */
function cachePathFor(file: string, length: number, command: string, variant: string | undefined): string | undefined {
  try {
    const uid = process.getuid?.() ?? 0;
    const folder = join(tmpdir(), `whitemagic-code-cache-${uid}`);
    let st = lstatSync(folder, { throwIfNoEntry: false });
    if (!st) {
      mkdirSync(folder, { recursive: true, mode: 0o700 });
      st = lstatSync(folder);
    }
    // Another user's folder, or one others can write to, could hold code we would run as ours.
    if (!st.isDirectory() || (process.getuid && st.uid !== uid) || (st.mode & 0o022) !== 0) return undefined;
    const mtime = Math.trunc(statSync(file).mtimeMs);
    return join(folder, `${process.version}-${process.arch}-${length}-${mtime}-${bundleKey(file)}.${command || 'none'}${variant ? `.${variant}` : ''}`);
  } catch {
    return undefined;
  }
}

/** The part of a cache file's name that says which bundle (by path) it is for. */
function bundleKey(file: string): string {
  return file.replace(/[^A-Za-z0-9]+/g, '_').slice(-80);
}

function saveCache(cacheFile: string, produce: () => Buffer): void {
  try {
    const temp = `${cacheFile}.${process.pid}`;
    writeFileSync(temp, produce(), { mode: 0o600 });
    renameSync(temp, cacheFile);
    removeOlderCaches(cacheFile);
  } catch {
    // A cache only: the next command compiles as usual and tries again.
  }
}

/**
 * Removes this Node.js's caches of earlier builds of the same bundle (another size or time of the
 * file), for every command: each upgrade of whitemagic would otherwise leave them behind. Another
 * Node.js version's caches stay, so two versions used in turn do not undo each other's.
 */
function removeOlderCaches(cacheFile: string): void {
  const folder = dirname(cacheFile);
  const prefix = `${process.version}-${process.arch}-`;
  const ours = buildAndBundle(cacheFile.slice(folder.length + 1 + prefix.length));
  for (const other of readdirSync(folder)) {
    if (!other.startsWith(prefix)) continue;
    const theirs = buildAndBundle(other.slice(prefix.length));
    if (theirs.bundle === ours.bundle && theirs.build !== ours.build) rmSync(join(folder, other), { force: true });
  }
}

/** `<length>-<mtime>` and the bundle's key of a cache file's name without its Node.js prefix. */
function buildAndBundle(rest: string): { build: string; bundle: string } {
  const second = rest.indexOf('-', rest.indexOf('-') + 1);
  // The key has no '.' or '-' (bundleKey); a '.' after it starts the command (earlier caches had none).
  return { build: rest.slice(0, second), bundle: rest.slice(second + 1).split('.')[0] };
}
