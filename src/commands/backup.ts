import { linkSync, mkdirSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import type { Context } from '../context/context.js';
import { expandPath } from '../context/resolve.js';
import { InvalidInputError, NotFoundError, WhitemagicError, fromFsError } from '../errors.js';
import {
  ArchiveReader,
  checkArchive,
  readArchiveManifest,
  writeArchive,
  type ArchiveManifest,
  type ArchiveProblem,
} from '../backup/archive.js';
import type { StorageBackend, StorageProblem } from '../storage/types.js';
import { readAllNamed } from '../storage/bulk.js';
import { isAlive } from '../util/process.js';
import { counted, memoryCount } from './progress.js';
import { expectBulkWork } from '../util/heap.js';

/** Where `backup` writes by default, inside the context (SPEC section 2). */
export const BACKUPS_DIR = 'backups';

export interface BackupInput {
  /** A file, or a directory (existing, or written with a trailing `/`); default the context's backups/. */
  output?: string;
  /** Then delete all but the newest N backups of this context in that directory. */
  keep?: number;
  now?: Date;
}

export interface BackupResult {
  path: string;
  bytes: number;
  created: string;
  backend: string;
  counts: ArchiveManifest['counts'];
  /** Older backups `--keep` deleted. */
  deleted: string[];
  /** Memory files that could not be read, so are not in the backup. */
  problems: StorageProblem[];
}

export interface BackupInfo {
  path: string;
  file: string;
  bytes: number;
  /** From the archive's manifest; absent when it cannot be read. */
  created?: string;
  kind?: string;
  backend?: string;
  counts?: ArchiveManifest['counts'];
  error?: string;
}

export interface VerifyResult {
  path: string;
  ok: boolean;
  /** Files the manifest lists. */
  files: number;
  counts?: ArchiveManifest['counts'];
  created?: string;
  problems: ArchiveProblem[];
}

/**
 * Writes a backup of the context (SPEC section 7): a snapshot taken under the context's lock (so no
 * memory is caught half-moved), through the storage interface (never a copy of a live database
 * file), written to a temporary file and renamed into place.
 */
export async function backup(ctx: Context, input: BackupInput = {}): Promise<BackupResult> {
  expectBulkWork();
  const state = ctx.state();
  if (state !== 'context' && state !== 'legacy') {
    throw new NotFoundError(`context not found: ${ctx.path}`, 'nothing to back up; check --base-dir / --context', 'context_not_found');
  }
  const now = input.now ?? new Date();
  const target = outputTarget(ctx, input.output);
  const written = await ctx.withLock(async () => {
    const storage = await ctx.open();
    return writeSnapshot(ctx, storage, target, 'backup', now);
  }, { create: false });
  const deleted = input.keep !== undefined ? await pruneBackups(ctx, target.dir, input.keep) : [];
  return { ...written, deleted };
}

/** The directory, and the file if one was named, a backup goes to. */
function outputTarget(ctx: Context, output: string | undefined): { dir: string; file?: string } {
  if (output === undefined) return { dir: join(ctx.path, BACKUPS_DIR) };
  const path = expandPath(output);
  let isDir = /[\\/]$/.test(output);
  try {
    isDir ||= statSync(path).isDirectory();
  } catch {
    // Missing: a file to create, unless written with a trailing slash.
  }
  return isDir ? { dir: path } : { dir: dirname(path), file: path };
}

/**
 * Writes an archive of `storage` into `target` (the caller holds the lock). A default name that a
 * backup of the same second took already gets a suffix: backups never overwrite each other. The
 * archive is streamed to a temporary file (memories are read once, one at a time), flushed to disk,
 * and only then given its name.
 */
export async function writeSnapshot(
  ctx: Context,
  storage: StorageBackend,
  target: { dir: string; file?: string },
  kind: ArchiveManifest['kind'],
  now: Date,
): Promise<Omit<BackupResult, 'deleted'>> {
  try {
    mkdirSync(target.dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw fromFsError(err, target.dir);
  }
  removeAbandoned(target.dir);
  const temp = join(target.dir, `.${kind}-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  let path: string;
  let written: Awaited<ReturnType<typeof writeArchive>>;
  try {
    written = await writeArchive(counted(ctx, kind, readAllNamed(storage), memoryCount(storage)), {
      context: { name: ctx.name, path: ctx.path },
      backend: storage.name,
      kind,
      now,
    }, temp);
    path = target.file ? placeAt(temp, target.file) : placeUnique(temp, target.dir, `${kind}-${stamp(now)}`);
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // never written, or already renamed
    }
    if (err instanceof WhitemagicError) throw err;
    throw fromFsError(err, target.file ?? target.dir);
  }
  const problems = storage.problems();
  const { manifest } = written;
  return { path, bytes: statSync(path).size, created: manifest.created, backend: manifest.source_backend, counts: manifest.counts, problems };
}

/** Temporary archives of backups, and their spool files (archive.ts), named with the writer's pid. */
const ABANDONED = /^\.(?:backup|pre-restore)-(\d+)-[0-9a-f]{8}\.tmp(?:\.entries|\.files)?$/;

/** Removes what a killed backup left in `dir`: its temporary archive and spool files. */
function removeAbandoned(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(ABANDONED.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || isAlive(pid)) continue;
    try {
      unlinkSync(join(dir, name));
    } catch {
      // gone already, or not ours to remove
    }
  }
}

function placeAt(temp: string, file: string): string {
  renameSync(temp, file);
  return file;
}

/** Links the temporary file to the first free `<base>[-N].tar.gz`, so nothing is overwritten. */
function placeUnique(temp: string, dir: string, base: string): string {
  for (let n = 1; ; n++) {
    const path = join(dir, `${base}${n === 1 ? '' : `-${n}`}.tar.gz`);
    try {
      linkSync(temp, path);
      unlinkSync(temp);
      return path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/** `YYYYMMDD-HHMMSS` in UTC. */
function stamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** Backups of this context in `dir` (read from their manifests), newest first. */
async function backupsIn(dir: string, contextPath?: string): Promise<BackupInfo[]> {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.tar.gz') && !n.startsWith('.'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw fromFsError(err, dir);
  }
  const infos: BackupInfo[] = [];
  for (const file of names) {
    const path = join(dir, file);
    let bytes: number;
    try {
      const st = statSync(path);
      if (!st.isFile()) continue;
      bytes = st.size;
    } catch {
      continue;
    }
    const manifest = await readArchiveManifest(path);
    if (contextPath !== undefined && manifest?.context?.path !== contextPath) continue;
    infos.push(
      manifest
        ? { path, file, bytes, created: manifest.created, kind: manifest.kind, backend: manifest.source_backend, counts: manifest.counts }
        : { path, file, bytes, error: 'not a readable whitemagic backup' },
    );
  }
  return infos.sort((a, b) => cmpDesc(a.created ?? '', b.created ?? '') || cmpDesc(a.file, b.file));
}

function cmpDesc(a: string, b: string): number {
  return a < b ? 1 : a > b ? -1 : 0;
}

/** Deletes all but the newest `keep` regular backups of this context in `dir`; returns the deleted paths. */
async function pruneBackups(ctx: Context, dir: string, keep: number): Promise<string[]> {
  const mine = (await backupsIn(dir, ctx.path)).filter((b) => b.kind !== 'pre-restore');
  const deleted: string[] = [];
  for (const old of mine.slice(keep)) {
    try {
      unlinkSync(old.path);
      deleted.push(old.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fromFsError(err, old.path);
    }
  }
  return deleted;
}

/** The backups in the context's backups/ folder, newest first. */
export async function listBackups(ctx: Context): Promise<BackupInfo[]> {
  return backupsIn(join(ctx.path, BACKUPS_DIR));
}

/** Re-hashes every file of a backup against its manifest; `ok` false with each mismatch. */
export async function verifyBackup(file: string): Promise<VerifyResult> {
  const path = archivePath(file);
  const reader = await ArchiveReader.open(path);
  try {
    const { manifest, listed, problems } = checkArchive(reader);
    return {
      path,
      ok: problems.length === 0,
      files: listed,
      counts: manifest?.counts,
      created: manifest?.created,
      problems,
    };
  } finally {
    reader.close();
  }
}

/** A backup file given by the user, checked to be a regular file. */
export function archivePath(file: string): string {
  const path = expandPath(file);
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw fromFsError(err, path);
  }
  if (!st.isFile()) throw new InvalidInputError(`not a backup file: ${path}`, 'give the path of a .tar.gz made by whitemagic backup');
  return path;
}

/** The error for an archive that failed verification: the first problem, and how many there are. */
export function verificationError(path: string, problems: ArchiveProblem[]): WhitemagicError {
  const first = problems[0];
  const where = first.path ? `${first.path}: ` : '';
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  return new WhitemagicError('corrupt', `backup ${basename(path)} failed verification: ${where}${first.message}${more}`, {
    hint: `nothing was written; see every problem with 'whitemagic verify-backup ${path}'`,
  });
}
