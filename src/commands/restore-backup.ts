import { join } from 'node:path';
import type { Context } from '../context/context.js';
import { ConflictError } from '../errors.js';
import type { Memory } from '../memory/types.js';
import { serialiseMemory } from '../storage/markdown/file-format.js';
import type { StorageBackend } from '../storage/types.js';
import { memoriesOf, readArchive, verifyContents } from '../backup/archive.js';
import { archivePath, BACKUPS_DIR, verificationError, writeSnapshot } from './backup.js';
import { counted } from './progress.js';

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
 * Restores a backup into `target` (SPEC section 7). The archive is verified first and read into
 * memory, never extracted, so a bad archive is refused with nothing written. Memories are matched
 * on id; one already there with the same content counts as unchanged, so a restore killed half way
 * is finished by a rerun in every conflict mode. Before anything is replaced, the target's current
 * memories are written to a pre-restore backup in its backups/ folder.
 */
export async function restoreBackup(target: Context, input: RestoreBackupInput): Promise<RestoreBackupResult> {
  const file = archivePath(input.file);
  const contents = await readArchive(file);
  const problems = verifyContents(contents);
  if (problems.length) throw verificationError(file, problems);
  const memories = memoriesOf(contents);
  const onConflict = input.onConflict ?? DEFAULT_ON_CONFLICT;
  const base = { file, target: target.path, dryRun: Boolean(input.dryRun), onConflict };

  if (input.dryRun) {
    const state = target.state();
    const storage = state === 'context' || state === 'legacy' ? await target.open() : undefined;
    const plan = classify(storage, memories);
    if (onConflict === 'fail' && plan.conflicts.length) throw conflictError(plan.conflicts);
    return { ...base, backend: storage?.name ?? target.backendName(), ...outcome(plan, onConflict) };
  }

  return target.withLock(async () => {
    const storage = await target.openForWrite();
    const plan = classify(storage, memories);
    if (onConflict === 'fail' && plan.conflicts.length) throw conflictError(plan.conflicts);
    let preRestoreBackup: string | undefined;
    if (onConflict === 'replace' && plan.conflicts.length) {
      const snapshot = await writeSnapshot(target, storage, { dir: join(target.path, BACKUPS_DIR) }, 'pre-restore', new Date());
      preRestoreBackup = snapshot.path;
      storage.insertMany(counted(target, 'restore (replacing)', plan.conflicts, plan.conflicts.length), 'replace');
    }
    storage.insertMany(counted(target, 'restore', plan.fresh, plan.fresh.length), 'skip');
    return { ...base, backend: storage.name, ...outcome(plan, onConflict), preRestoreBackup };
  });
}

interface Plan {
  fresh: Memory[];
  conflicts: Memory[];
  unchanged: Memory[];
}

/** Splits the backup's memories by what the target holds under the same id. */
function classify(storage: StorageBackend | undefined, memories: Memory[]): Plan {
  const plan: Plan = { fresh: [], conflicts: [], unchanged: [] };
  for (const memory of memories) {
    const existing = storage?.read(memory.id);
    if (!existing) plan.fresh.push(memory);
    else if (sameMemory(existing, memory)) plan.unchanged.push(memory);
    else plan.conflicts.push(memory);
  }
  return plan;
}

/** Equal as stored: same type and the same file text (fields, extra keys and body). */
function sameMemory(a: Memory, b: Memory): boolean {
  return a.type === b.type && serialiseMemory(a) === serialiseMemory(b);
}

function outcome(plan: Plan, onConflict: OnConflict) {
  const ids = (ms: Memory[]) => ms.map((m) => m.id);
  return {
    inserted: ids(plan.fresh),
    skipped: onConflict === 'skip' ? ids(plan.conflicts) : [],
    replaced: onConflict === 'replace' ? ids(plan.conflicts) : [],
    unchanged: ids(plan.unchanged),
  };
}

function conflictError(conflicts: Memory[]): ConflictError {
  const shown = conflicts.slice(0, 3).map((m) => m.id).join(', ');
  const more = conflicts.length > 3 ? ` and ${conflicts.length - 3} more` : '';
  return new ConflictError(
    `${conflicts.length} ${conflicts.length === 1 ? 'memory' : 'memories'} of the backup differ from the target's with the same id: ${shown}${more}`,
    'nothing was written; use --on-conflict skip to keep the target\'s, or replace to overwrite them (a pre-restore backup is made first)',
  );
}
