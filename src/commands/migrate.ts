import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import writeFileAtomic from 'write-file-atomic';
import type { Context } from '../context/context.js';
import { FORMAT_VERSION, readManifest, writeManifest, MANIFEST_FILE, type Manifest } from '../context/manifest.js';
import { InvalidInputError, NotFoundError, WhitemagicError, fromFsError } from '../errors.js';
import type { Memory } from '../memory/types.js';
import { loadBackend } from '../storage/registry.js';
import { once, readAllNamed } from '../storage/bulk.js';
import type { BackendFactory, BackendName, BackendOpenOptions, StorageBackend } from '../storage/types.js';
import { faultPoint } from '../util/fault.js';
import { counted, memoryCount, paced } from './progress.js';
import { expectBulkWork, itemDone, loopDone } from '../util/heap.js';

/**
 * `migrate --backend B` (SPEC sections 4 and 7): converts a context to another backend in place.
 *
 * The steps, each leaving a context that works if the process dies right after it:
 *  1. a journal names the migration (from, to, backup folder);
 *  2. the new copy is built in a work folder inside the context and checked against the old (both
 *     streamed: one memory at a time is held, never the whole context);
 *  3. its files are moved beside the old ones (the two backends use different paths);
 *  4. the manifest, written atomically with the new backend, is the commit point;
 *  5. the old files move into `backups/pre-migrate-<time>/` (a context of their own), memories
 *     created meanwhile without the lock are copied over, and the journal is removed.
 * A rerun reads the journal: before the commit it removes what the attempt made, after it finishes
 * step 5.
 */

/** Marks a migration under way; its presence after a crash says what to undo or finish. */
const JOURNAL_FILE = '.whitemagic-migrate.json';
/** Where the new copy is built before it moves into place. */
const WORK_DIR = '.whitemagic-migrate.tmp';

interface Journal {
  from: BackendName;
  to: BackendName;
  /** The backup folder, relative to the context. */
  backup: string;
  started: string;
}

export interface MigrateResult {
  path: string;
  from: BackendName;
  to: BackendName;
  /** false: the context already used that backend; nothing changed. */
  changed: boolean;
  /** Memories in the converted context. */
  memories: number;
  /** Where the old data is kept until the user removes it, relative to the context. */
  backup?: string;
  /** What was found of an earlier, interrupted migration: undone, or finished. */
  recovered?: { action: 'rolled-back' | 'finished'; from: BackendName; to: BackendName; backup?: string };
}

/** Converts the active context to `backend`, holding its lock; see the steps above. */
export async function migrateContext(ctx: Context, input: { backend: BackendName }): Promise<MigrateResult> {
  expectBulkWork();
  const to = input.backend;
  const state = ctx.state();
  if (state === 'missing' || state === 'not-a-context') {
    throw new NotFoundError(`context not found: ${ctx.path}`, `make one with 'whitemagic init --backend ${to}'`, 'context_not_found');
  }
  return ctx.withLock(async () => {
    const dir = ctx.path;
    const recovered = await recoverInterrupted(dir);
    // Read now, under the lock: another migration may have run while we waited for it.
    const manifest = readManifest(dir);
    if (!manifest) throw new NotFoundError(`context not found: ${dir}`, undefined, 'context_not_found');
    const from = manifest.backend;
    if (from === to) {
      const memories = await countMemories(dir, to);
      return { path: dir, from, to, changed: false, memories, ...(recovered ? { recovered } : {}) };
    }
    const { memories, backup } = await convert(ctx, manifest, to);
    return { path: dir, from, to, changed: true, memories, backup, ...(recovered ? { recovered } : {}) };
  });
}

async function convert(ctx: Context, manifest: Manifest, to: BackendName): Promise<{ memories: number; backup: string }> {
  const dir = ctx.path;
  const from = manifest.backend;
  const [fromFactory, toFactory] = await Promise.all([loadBackend(from), loadBackend(to)]);
  const journal: Journal = { from, to, backup: freshBackupName(dir), started: new Date().toISOString() };

  // Files of the new backend already in the context are not ours: keep them in the backup, never delete.
  const strays = toFactory.dataPaths(dir).filter((p) => existsSync(p));
  if (strays.length) moveInto(strays, join(dir, journal.backup, 'stray'));

  writeJournal(dir, journal);
  faultPoint('migrate:after-journal');
  let copied = 0;
  try {
    const work = join(dir, WORK_DIR);
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { mode: 0o700 });
    // The check reads every memory of the source once, by id.
    const source = openChecked(fromFactory, dir, { onePass: true });
    try {
      toFactory.create(work);
      const copy = toFactory.open(work, {});
      try {
        copied = copy.insertMany(once(counted(ctx, 'migrate', readAllNamed(source), memoryCount(source))), 'fail').inserted;
        checkCopy(source, copy, copied, to);
      } finally {
        copy.close();
      }
    } finally {
      source.close();
    }
    // What the source held (on markdown, its catalog's index: 14 MB at 100,000) goes before the
    // switch reads the old data again, which reads that index anew.
    loopDone();
    faultPoint('migrate:after-copy');
    for (const p of toFactory.dataPaths(work)) {
      if (existsSync(p)) renameSync(p, join(dir, basename(p)));
    }
    faultPoint('migrate:after-place');
  } catch (err) {
    rollBack(dir, toFactory);
    throw fromFsError(err);
  }

  writeManifest(dir, { ...manifest, backend: to });
  faultPoint('migrate:after-commit');
  const memories = await finishSwap(dir, journal, copied);
  return { memories, backup: journal.backup };
}

/**
 * The storage of the backend at `dir`, refused if any of its entries cannot be read: a migration
 * must carry every memory.
 */
function openChecked(factory: BackendFactory, dir: string, options: BackendOpenOptions): StorageBackend {
  const storage = factory.open(dir, options);
  const problems = storage.problems();
  if (problems.length) {
    storage.close();
    const [first] = problems;
    throw new InvalidInputError(
      `cannot migrate: ${problems.length} entr${problems.length === 1 ? 'y' : 'ies'} cannot be read (${first.path}: ${first.message})`,
      "fix them or move them out of the context, then run 'whitemagic migrate' again",
    );
  }
  return storage;
}

/**
 * The new copy must read back exactly as the old one: ids, titles, bodies, tags, types, times, keys.
 * Checked one memory at a time, holding none: every memory the copy reads back is the source's
 * memory with that id, field for field, and the copy holds as many as were read from the source
 * and written (ids are unique in both, so the two sets are the same). Memories created in the
 * source since it was read are not in the copy: they are carried over after the switch.
 */
function checkCopy(source: StorageBackend, copy: StorageBackend, copied: number, to: BackendName): void {
  const fail = (why: string): never => {
    throw new WhitemagicError('io', `migration to ${to} stopped, nothing changed: ${why}`, {
      hint: 'the context is as it was; report this with the memory named',
    });
  };
  let readBack = 0;
  for (const got of copy.readAll()) {
    itemDone();
    readBack++;
    const want = source.read(got.id);
    if (!want) return fail(`memory ${got.id} of the copy is not in the context`);
    for (const key of Object.keys(want) as Array<keyof Memory>) {
      if (!isDeepStrictEqual(got[key], want[key])) fail(`memory ${want.id} would not keep its ${key} exactly`);
    }
  }
  if (readBack !== copied) fail(`${copied} memories read, ${readBack} written`);
}

/**
 * Copies into `dest` the memories of the old backend's data at `dir` that it lacks. `copied`: how
 * many the copy was made of, when this is the data it was made from, and only that.
 */
function copyMissing(factory: BackendFactory, dir: string, dest: StorageBackend, copied?: number): void {
  const old = factory.open(dir, {});
  try {
    // Only `create` writes without the lock (held here), and it only adds: old data no hand can
    // edit that holds as many memories as the copy was made of holds none the copy lacks. (Checked
    // by id, a markdown copy of 100,000 would be scanned for it, a header kept for each memory.)
    if (copied !== undefined && !old.capabilities.handEditable && memoryCount(old)() === copied) return;
    dest.insertMany(once(paced(readAllNamed(old))), 'skip');
  } finally {
    old.close();
  }
}

/**
 * After the commit: the old data moves into the backup folder, memories written meanwhile by
 * processes that do not take the lock (create) are copied over, and the journal goes.
 * Idempotent, so a rerun after a crash anywhere in here finishes the job. `copied`: how many
 * memories the copy was made of (not known to a rerun).
 */
async function finishSwap(dir: string, journal: Journal, copied?: number): Promise<number> {
  const [fromFactory, toFactory] = await Promise.all([loadBackend(journal.from), loadBackend(journal.to)]);
  const backupDir = join(dir, journal.backup);
  mkdirSync(backupDir, { recursive: true, mode: 0o700 });
  if (!existsSync(join(backupDir, MANIFEST_FILE))) {
    // The backup folder is itself a context of the old backend: `--base-dir` opens it as it was.
    writeManifest(backupDir, { ...readManifest(dir)!, backend: journal.from });
  }
  const dest = toFactory.open(dir, {});
  try {
    // A second round only if the old files came back: a process that opened the old data before
    // the switch and wrote it since.
    for (let round = 0; round < 2; round++) {
      const present = fromFactory.dataPaths(dir).filter((p) => existsSync(p));
      if (round > 0 && !present.length) break;
      if (present.length) {
        const into = existsSync(fromFactory.dataPaths(backupDir)[0]) ? lateDir(backupDir, journal.from) : backupDir;
        moveInto(present, into);
        faultPoint('migrate:after-move');
      }
      const olds = [backupDir, ...lateDirs(backupDir)];
      for (const old of olds) {
        if (!existsSync(fromFactory.dataPaths(old)[0])) continue;
        copyMissing(fromFactory, old, dest, round === 0 && olds.length === 1 ? copied : undefined);
      }
    }
    const total = Object.values(dest.summary().counts).reduce((a, b) => a + b, 0);
    // What the old backend derived from its data (markdown's search index) describes nothing now.
    for (const p of fromFactory.derivedPaths?.(dir) ?? []) removeQuiet(p);
    removeQuiet(join(dir, JOURNAL_FILE));
    removeQuiet(join(dir, WORK_DIR));
    return total;
  } finally {
    dest.close();
  }
}

/**
 * Deals with a migration a crash interrupted: before its commit, removes what it made (the old data
 * was never touched); after it, finishes it.
 */
async function recoverInterrupted(dir: string): Promise<MigrateResult['recovered']> {
  const journal = readJournal(dir);
  if (!journal) {
    removeQuiet(join(dir, WORK_DIR));
    return undefined;
  }
  const manifest = readManifest(dir);
  if (manifest?.backend === journal.to) {
    await finishSwap(dir, journal);
    return { action: 'finished', from: journal.from, to: journal.to, backup: journal.backup };
  }
  rollBack(dir, await loadBackend(journal.to));
  return { action: 'rolled-back', from: journal.from, to: journal.to };
}

/** Before the commit: removes the new backend's files, the work folder and the journal. */
function rollBack(dir: string, toFactory: BackendFactory): void {
  for (const p of toFactory.dataPaths(dir)) removeQuiet(p);
  removeQuiet(join(dir, WORK_DIR));
  removeQuiet(join(dir, JOURNAL_FILE));
}

async function countMemories(dir: string, backend: BackendName): Promise<number> {
  const storage = (await loadBackend(backend)).open(dir, {});
  try {
    return Object.values(storage.summary().counts).reduce((a, b) => a + b, 0);
  } finally {
    storage.close();
  }
}

function writeJournal(dir: string, journal: Journal): void {
  const path = join(dir, JOURNAL_FILE);
  try {
    writeFileAtomic.sync(path, JSON.stringify(journal, null, 2) + '\n', { mode: 0o600, fsync: true });
  } catch (err) {
    throw fromFsError(err, path);
  }
}

function readJournal(dir: string): Journal | undefined {
  const path = join(dir, JOURNAL_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fromFsError(err, path);
  }
  try {
    const j = JSON.parse(text) as Journal;
    if (typeof j.from === 'string' && typeof j.to === 'string' && typeof j.backup === 'string' && /^backups\/[\w.-]+$/.test(j.backup)) {
      return j;
    }
  } catch {
    // Written atomically, so unreadable means changed by hand: refused below.
  }
  throw new InvalidInputError(`${path} cannot be read`, 'it records an interrupted migration; see docs/storage.md');
}

/** `backups/pre-migrate-YYYYMMDD-HHMMSS`, with a counter if that second is taken. */
function freshBackupName(dir: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  let name = `backups/pre-migrate-${stamp}`;
  for (let n = 2; existsSync(join(dir, name)); n++) name = `backups/pre-migrate-${stamp}-${n}`;
  return name;
}

/** A new folder in the backup for old data written after the switch; a context of its own. */
function lateDir(backupDir: string, backend: BackendName): string {
  let n = 1;
  while (existsSync(join(backupDir, `late-${n}`))) n++;
  const dir = join(backupDir, `late-${n}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeManifest(dir, { format: FORMAT_VERSION, backend, created: new Date().toISOString() });
  return dir;
}

function lateDirs(backupDir: string): string[] {
  try {
    return readdirSync(backupDir)
      .filter((n) => /^late-\d+$/.test(n))
      .map((n) => join(backupDir, n));
  } catch {
    return [];
  }
}

function moveInto(paths: string[], dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const p of paths) {
    try {
      renameSync(p, join(dir, basename(p)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fromFsError(err, p);
    }
  }
}

function removeQuiet(path: string): void {
  rmSync(path, { recursive: true, force: true });
}
