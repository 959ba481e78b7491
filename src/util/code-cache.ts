import { closeSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, wrap } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

/**
 * Runs a CommonJS bundle with V8's code cache, as Node 22's `module.enableCompileCache` does (Node
 * 20, which we support, lacks it). Compiling the command line's bundle is the largest part of a
 * command's start-up; with the cache, V8 reuses the compiled code of the functions earlier runs used.
 *
 * The cache lives in the temporary folder, in a folder of this user's own (`0700`, checked to be
 * owned by this user and not a link, since compiled code is trusted as it is), one file per bundle
 * and Node.js version. It is written at exit when missing or refused by V8 (another V8, other
 * flags, another bundle of the same size), atomically; any failure only means compiling as usual.
 *
 * It learns: the cache holds what the runs that wrote it compiled, and a command first run after
 * another had written it compiles its own functions anew each time (a `search` after a cache
 * written by `create`: about 6 ms more). So the file starts with the commands it has learnt
 * (`wmcc1 create list\n`, then V8's data), and a run of a command not among them writes it again
 * at exit, with everything it holds (what it was given and what this run compiled). Each command
 * is learnt once; at most MAX_LEARNT are.
 */
export function runWithCodeCache(file: string, command?: string): void {
  const source = readFileSync(file, 'utf8');
  const cacheFile = cachePathFor(file, source.length);
  let cache: { learnt: string[]; data: Buffer } | undefined;
  if (cacheFile) {
    try {
      cache = splitCache(readFileSync(cacheFile));
    } catch {
      cache = undefined;
    }
  }
  const script = new Script(wrap(source), { filename: file, cachedData: cache?.data });
  const learnt = cache && !script.cachedDataRejected ? cache.learnt : [];
  const key = command !== undefined && /^[a-z][a-z-]{0,31}$/.test(command) ? command : '';
  const learn = !learnt.includes(key) && learnt.length < MAX_LEARNT;
  if (cacheFile && (!cache || script.cachedDataRejected || learn)) {
    // At exit, so the cache holds the functions this command compiled, not only the top level.
    const header = Buffer.from(`${CACHE_MAGIC}${[...learnt, ...(learn ? [key] : [])].join(' ')}\n`, 'latin1');
    process.once('exit', () => saveCache(cacheFile, () => Buffer.concat([header, script.createCachedData()])));
  }
  const run = script.runInThisContext() as (exports: object, require: NodeRequire, module: object, filename: string, dirname: string) => void;
  const module = { exports: {} };
  run.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
}

/** What a cache file starts with, before the commands it has learnt. */
const CACHE_MAGIC = 'wmcc1 ';
/** Commands a cache learns at most (a typo is a command too, until the command line refuses it). */
const MAX_LEARNT = 48;

/** The commands a cache file has learnt and V8's data after them; undefined for a file of another kind. */
function splitCache(bytes: Buffer): { learnt: string[]; data: Buffer } | undefined {
  if (bytes.toString('latin1', 0, CACHE_MAGIC.length) !== CACHE_MAGIC) return undefined;
  const eol = bytes.indexOf(10);
  if (eol === -1) return undefined;
  // '' is the run that named no command (help, errors before one): learnt like any other.
  const learnt = bytes.toString('latin1', CACHE_MAGIC.length, eol).split(' ');
  return { learnt, data: bytes.subarray(eol + 1) };
}

/** The cache file of a bundle, or undefined when the user's cache folder cannot be trusted or made. */
function cachePathFor(file: string, length: number): string | undefined {
  try {
    const uid = process.getuid?.() ?? 0;
    const folder = join(tmpdir(), `whitemagic-code-cache-${uid}`);
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const st = lstatSync(folder);
    // Another user's folder, or one others can write to, could hold code we would run as ours.
    if (!st.isDirectory() || (process.getuid && st.uid !== uid) || (st.mode & 0o022) !== 0) return undefined;
    const fd = openSync(file, 'r');
    const mtime = Math.trunc(fstatSync(fd).mtimeMs);
    closeSync(fd);
    const name = `${process.version}-${process.arch}-${length}-${mtime}-${bundleKey(file)}`;
    return join(folder, name);
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
 * file): each upgrade of whitemagic would otherwise leave one behind. Another Node.js version's
 * cache stays, so two versions used in turn do not undo each other's.
 */
function removeOlderCaches(cacheFile: string): void {
  const folder = dirname(cacheFile);
  const name = cacheFile.slice(folder.length + 1);
  const prefix = `${process.version}-${process.arch}-`;
  const suffix = name.slice(name.lastIndexOf('-'));
  for (const other of readdirSync(folder)) {
    if (other !== name && other.startsWith(prefix) && other.endsWith(suffix)) rmSync(join(folder, other), { force: true });
  }
}
