import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { WhitemagicError } from '../errors.js';
import { loadBackend } from '../storage/registry.js';
import type { BackendName } from '../storage/types.js';
import { isoFromValue } from '../util/dates.js';
import { FORMAT_VERSION, readManifest, writeManifest, type Manifest } from './manifest.js';

/**
 * When: a context whose manifest names an older format is upgraded when a command opens it; a
 * directory without a manifest (format 0) reads as it is and is upgraded by its first write, so
 * reading a folder of hand-made notes never writes to it (SPEC section 2). Either way under the
 * context's lock (Context.open, Context.ensureCreated).
 *
 * Upgrades of the context format, one step per version: `UPGRADE_STEPS[n]` turns a context of
 * format n into format n + 1, in place. A future format change adds one step here and bumps
 * FORMAT_VERSION in manifest.ts; nothing else needs to know.
 *
 * A step must keep every memory and every file it does not own, and must be safe to run again on
 * a context it already upgraded half-way (a killed upgrade is finished by the next command). The
 * manifest is written last, after the step's other changes, so it never claims a format the files
 * do not have yet.
 */
export type UpgradeStep = (dir: string, manifest: Manifest | undefined) => Promise<Manifest>;

/** The file whitemagic 2.x (Python) kept beside its memories; kept as it is by the upgrade. */
export const LEGACY_METADATA_FILE = 'memory/metadata.json';

export const UPGRADE_STEPS: Record<number, UpgradeStep> = {
  0: fromUnversioned,
};

/**
 * Format 0 to 1: a directory without a manifest (hand-made, copied, or whitemagic 2.x with its
 * `memory/metadata.json`), or a manifest without `format`. Its memory files already read as they
 * are (types from folders, comma-string tags, zone-less dates, ids derived from file names), so
 * they are left untouched; the step adds the missing type folders and the manifest. The 2.x
 * metadata file is kept, and the time it records is taken as the context's creation.
 */
async function fromUnversioned(dir: string, manifest: Manifest | undefined): Promise<Manifest> {
  const backend: BackendName = manifest?.backend ?? 'markdown';
  (await loadBackend(backend)).create(dir);
  const upgraded: Manifest = {
    ...manifest,
    format: 1,
    backend,
    created: manifest?.created || legacyCreated(dir) || new Date().toISOString(),
    upgraded_from: manifest?.upgraded_from ?? 0,
  };
  return upgraded;
}

/** The creation time whitemagic 2.x recorded, or the oldest sign of one: its memory folder. */
function legacyCreated(dir: string): string | undefined {
  try {
    const data = JSON.parse(readFileSync(join(dir, LEGACY_METADATA_FILE), 'utf8')) as Record<string, unknown>;
    const created = isoFromValue(data.created ?? data.created_at);
    if (created) return created;
  } catch {
    // No metadata file, or not JSON: it stays as it is either way.
  }
  try {
    return statSync(join(dir, 'memory')).mtime.toISOString();
  } catch {
    return undefined;
  }
}

/** True if the context's manifest (undefined: none) is of an older format than this version writes. */
export function needsUpgrade(manifest: Manifest | undefined): boolean {
  return !manifest || manifest.format < FORMAT_VERSION;
}

export interface UpgradeResult {
  from: number;
  to: number;
}

/**
 * Brings the context at `dir` to FORMAT_VERSION, step by step, writing the manifest after each.
 * The caller holds the context's lock. Running it on an up-to-date context changes nothing.
 */
export async function upgradeContext(dir: string): Promise<UpgradeResult> {
  let manifest = readManifest(dir);
  const from = manifest?.format ?? 0;
  for (let format = from; format < FORMAT_VERSION; format++) {
    const step = UPGRADE_STEPS[format];
    if (!step) {
      throw new WhitemagicError('unsupported', `${dir}: no upgrade from context format ${format} to ${format + 1}`, {
        hint: 'this is a bug in whitemagic; please report it',
      });
    }
    manifest = await step(dir, manifest);
    writeManifest(dir, manifest);
  }
  return { from, to: manifest?.format ?? from };
}
