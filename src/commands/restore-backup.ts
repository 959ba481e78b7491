import { join } from 'node:path';
import type { Context } from '../context/context.js';
import { ConflictError, InvalidInputError } from '../errors.js';
import { MEMORY_TYPES, type Memory } from '../memory/types.js';
import { serialiseMemory } from '../storage/markdown/file-format.js';
import type { StorageBackend, StoredMemory } from '../storage/types.js';
import {
  archiveEntries,
  archiveMemories,
  ArchiveReader,
  archiveTime,
  checkArchive,
  isMemoryEntry,
  parseArchiveMemory,
  type ArchiveCheck,
} from '../backup/archive.js';
import { archivePath, BACKUPS_DIR, verificationError, writeSnapshot } from './backup.js';
import { once } from '../storage/bulk.js';
import { counted } from './progress.js';
import { expectBulkWork } from '../util/heap.js';

/** What to do with a memory of the backup whose id the target has, with other content. */
export type OnConflict = 'skip' | 'replace' | 'fail';
/** Skip: a restore never destroys anything unless asked, and a rerun converges. */
export const DEFAULT_ON_CONFLICT: OnConflict = 'skip';

export interface RestoreBackupInput {
  file: string;
  onConflict?: OnConflict;
  dryRun?: boolean;
}

export interface RestoreBackupResult {
  file: string;
  target: string;
  backend: string;
  dryRun: boolean;
  onConflict: OnConflict;
  /** Ids added (or that would be). */
  inserted: string[];
  /** Ids whose target memory differs and was kept (skip) or overwritten (replace). */
  skipped: string[];
  replaced: string[];
  /** Ids the target has with the same content already: nothing to do (e.g. a rerun). */
  unchanged: string[];
  /** The backup of the target written before anything was replaced. */
  preRestoreBackup?: string;
}

/**
 * Restores a backup into `target` (SPEC section 7). The archive is verified first, never extracted,
 * so a bad archive is refused with nothing written. Memories are matched on id; one already there
 * with the same content counts as unchanged, so a restore killed half way is finished by a rerun in
 * every conflict mode. Before anything is replaced, the target's current memories are written to a
 * pre-restore backup in its backups/ folder.
 *
 * The archive is read in passes, one memory at a time (verify; classify against the target; write),
 * so a restore holds the ids of the backup's memories, never the memories themselves.
 */
export async function restoreBackup(target: Context, input: RestoreBackupInput): Promise<RestoreBackupResult> {
  expectBulkWork();
  const file = archivePath(input.file);
  const reader = await ArchiveReader.open(file);
  try {
    // One pass checks every file against the manifest, and that every memory parses and no id
    // appears twice: all before anything is written. A small backup's memories are kept from it.
    const ids = new Set<string>();
    // Decided at the first memory, from the manifest's count (the manifest comes first).
    let kept: Map<string, KeptEntry> | undefined;
    let keeping: boolean | undefined;
    let invalid: { error?: InvalidInputError; twice?: { id: string; path: string } } = {};
    const check = checkArchive(reader, (path, data, manifest) => {
      if (invalid.error || invalid.twice || !isMemoryEntry(path)) return;
      if (keeping === undefined) {
        keeping = (manifest?.counts?.total ?? Infinity) <= restoreLimits.keepParsedUpTo;
        if (keeping) kept = new Map();
      }
      try {
        // Dated as the later passes date them (a memory without dates takes the snapshot's time).
        const memory = parseArchiveMemory(path, data, archiveTime(manifest));
        if (ids.has(memory.id)) invalid = { twice: { id: memory.id, path } };
        ids.add(memory.id);
        // A manifest's count is only a claim: past the limit, nothing more is kept.
        if (kept && kept.size >= restoreLimits.keepParsedUpTo) kept = undefined;
        kept?.set(memory.id, { memory, path });
      } catch (err) {
        if (!(err instanceof InvalidInputError)) throw err;
        invalid = { error: err };
      }
    });
    if (check.problems.length) throw verificationError(file, check.problems);
    const entries = (): Iterable<KeptEntry> => kept?.values() ?? archiveEntries(reader, check);
    const memories = (only: Set<string>): Iterable<StoredMemory> => (kept ? keptMemories(kept, only) : archiveMemories(reader, check, only));
    if (invalid.error) throw invalid.error;
    if (invalid.twice) throw duplicateError(reader, check, invalid.twice.id, invalid.twice.path);
    const onConflict = input.onConflict ?? DEFAULT_ON_CONFLICT;
    const base = { file, target: target.path, dryRun: Boolean(input.dryRun), onConflict };

    if (input.dryRun) {
      const state = target.state();
      const storage = state === 'context' || state === 'legacy' ? await target.open() : undefined;
      const plan = storage && holdsMemories(storage) ? classify(entries(), storage, (id, path) => duplicateError(reader, check, id, path)) : allNew(ids);
      if (onConflict === 'fail' && plan.conflicts.size) throw conflictError(plan.conflicts);
      return { ...base, backend: storage?.name ?? target.backendName(), ...outcome(plan, onConflict) };
    }

    return await target.withLock(async () => {
      const state = target.state();
      const storage = await target.openForWrite();
      // A target that held no context, or an empty one (made by this command's --backend, say),
      // holds no memory: every one is new, and no pass over the archive classifies them.
      const plan =
        (state === 'context' || state === 'legacy') && holdsMemories(storage) ? classify(entries(), storage, (id, path) => duplicateError(reader, check, id, path)) : allNew(ids);
      if (onConflict === 'fail' && plan.conflicts.size) throw conflictError(plan.conflicts);
      let preRestoreBackup: string | undefined;
      if (onConflict === 'replace' && plan.conflicts.size) {
        const snapshot = await writeSnapshot(target, storage, { dir: join(target.path, BACKUPS_DIR) }, 'pre-restore', new Date());
        preRestoreBackup = snapshot.path;
        storage.insertMany(once(counted(target, 'restore (replacing)', memories(plan.conflicts), plan.conflicts.size)), 'replace');
      }
      if (plan.fresh.size) storage.insertMany(once(counted(target, 'restore', memories(plan.fresh), plan.fresh.size)), 'skip');
      return { ...base, backend: storage.name, ...outcome(plan, onConflict), preRestoreBackup };
    });
  } finally {
    reader.close();
  }
}

/** Whether the target holds any memory (of any type). */
function holdsMemories(storage: StorageBackend): boolean {
  const { counts } = storage.summary();
  return MEMORY_TYPES.some((type) => counts[type] > 0);
}

/** The ids of the backup's memories, by what the target holds under the same id. */
interface Plan {
  fresh: Set<string>;
  conflicts: Set<string>;
  unchanged: Set<string>;
}

/** The plan of a restore into a target without memories. */
function allNew(ids: Set<string>): Plan {
  return { fresh: ids, conflicts: new Set(), unchanged: new Set() };
}

/** A memory of the backup and its entry's path. */
interface KeptEntry {
  memory: StoredMemory;
  path: string;
}

/**
 * Up to this many memories, the verifying pass keeps them parsed for the writing one: reading the
 * archive again (gunzip, hash, parse) doubled the CPU of a restore (about 1.5 s more at 10,000),
 * while 20,000 memories of about 1 KB held are some 60 MB. A larger backup is read again, so its
 * restore holds ids only (peak memory at 100,000). Changed by tests only.
 */
export const restoreLimits = { keepParsedUpTo: 20_000 };

/** The kept memories whose id `only` holds, in the archive's order. */
function* keptMemories(kept: Map<string, KeptEntry>, only: Set<string>): Generator<StoredMemory> {
  for (const { memory } of kept.values()) if (only.has(memory.id)) yield memory;
}

/**
 * Splits the backup's memories by what the target holds under the same id. Throws if an entry
 * does not parse or two entries carry one id.
 */
function classify(entries: Iterable<KeptEntry>, storage: StorageBackend, twice: (id: string, path: string) => Error): Plan {
  const plan: Plan = { fresh: new Set(), conflicts: new Set(), unchanged: new Set() };
  const seen = (id: string) => plan.fresh.has(id) || plan.conflicts.has(id) || plan.unchanged.has(id);
  for (const { memory, path } of entries) {
    if (seen(memory.id)) throw twice(memory.id, path);
    const existing = storage.read(memory.id);
    if (!existing) plan.fresh.add(memory.id);
    else if (sameMemory(existing, memory)) plan.unchanged.add(memory.id);
    else plan.conflicts.add(memory.id);
  }
  return plan;
}

/** Two entries carry the same id: the error names both (the first found with another pass). */
function duplicateError(reader: ArchiveReader, check: ArchiveCheck, id: string, path: string): InvalidInputError {
  let first = '?';
  for (const entry of archiveEntries(reader, check)) {
    if (entry.memory.id !== id) continue;
    first = entry.path;
    break;
  }
  return new InvalidInputError(`backup entries ${first} and ${path} carry the same id ${id}`, 'the archive is damaged; restore another backup');
}

/** Equal as stored: same type and the same file text (fields, extra keys and body). */
function sameMemory(a: Memory, b: StoredMemory): boolean {
  return a.type === b.type && serialiseMemory(a) === serialiseMemory(b);
}

/** The result's id lists, each in id order. */
function outcome(plan: Plan, onConflict: OnConflict) {
  const ids = (set: Set<string>) => [...set].sort(compareIds);
  return {
    inserted: ids(plan.fresh),
    skipped: onConflict === 'skip' ? ids(plan.conflicts) : [],
    replaced: onConflict === 'replace' ? ids(plan.conflicts) : [],
    unchanged: ids(plan.unchanged),
  };
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function conflictError(conflicts: Set<string>): ConflictError {
  const sorted = [...conflicts].sort(compareIds);
  const shown = sorted.slice(0, 3).join(', ');
  const more = sorted.length > 3 ? ` and ${sorted.length - 3} more` : '';
  return new ConflictError(
    `${sorted.length} ${sorted.length === 1 ? 'memory' : 'memories'} of the backup differ from the target's with the same id: ${shown}${more}`,
    'nothing was written; use --on-conflict skip to keep the target\'s, or replace to overwrite them (a pre-restore backup is made first)',
  );
}
