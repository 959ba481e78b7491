import { isAlive } from '../util/process.js';
import { assertCapacity, withHomeLock } from '../context/capacity.js';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Context } from '../context/context.js';
import { FORMAT_VERSION, writeManifest, type Manifest } from '../context/manifest.js';
import { CONTEXT_NAME_RULE, isContextName, printable } from '../context/names.js';
import { expandPath, whitemagicHome } from '../context/resolve.js';
import { ConflictError, NotFoundError, UsageError, fromFsError } from '../errors.js';
import { loadBackend } from '../storage/registry.js';
import type { BackendName } from '../storage/types.js';
import { once, readAllNamed } from '../storage/bulk.js';
import { counted, memoryCount } from './progress.js';
import { expectBulkWork } from '../util/heap.js';

export interface CloneInput {
  /** A context name (then $WHITEMAGIC_HOME/NAME) or a path (has a `/`, or starts with `.` or `~`). */
  dest: string;
  /** The copy's backend; default the source's. */
  backend?: BackendName;
  /** The copy's description; default the source's. */
  description?: string;
  env?: NodeJS.ProcessEnv;
}

export interface CloneResult {
  source: string;
  dest: string;
  name: string;
  backend: BackendName;
  memories: number;
}

/** Where DEST points: a path when it looks like one, else a context name under $WHITEMAGIC_HOME. */
export function cloneDestination(dest: string, env: NodeJS.ProcessEnv = process.env): string {
  if (!dest.trim()) throw new UsageError('clone needs a destination', 'give a context name or a path');
  if (dest.includes('/') || dest.startsWith('.') || dest.startsWith('~')) return expandPath(dest, env);
  if (!isContextName(dest)) {
    throw new UsageError(`invalid context name '${printable(dest)}'`, `${CONTEXT_NAME_RULE}; or give a path such as ./${printable(dest)}`);
  }
  return join(whitemagicHome(env), dest);
}

/**
 * Deep-copies the active context to DEST (SPEC section 7): every memory with its id, timestamps and
 * extra keys, through the storage interface (so across backends, and never a copy of a live
 * database file), read under the source's lock (a consistent snapshot). The copy is built in a
 * hidden folder beside DEST and renamed into place only when complete: a failure or a kill leaves
 * no half-made context at DEST, and the next clone clears what a killed one left.
 */
export async function cloneContext(ctx: Context, input: CloneInput): Promise<CloneResult> {
  expectBulkWork();
  const dest = cloneDestination(input.dest, input.env ?? ctx.options.env);
  const state = ctx.state();
  if (state !== 'context' && state !== 'legacy') {
    throw new NotFoundError(`context not found: ${ctx.path}`, 'nothing to clone; check --base-dir / --context', 'context_not_found');
  }
  if (dest === ctx.path) throw new ConflictError(`cannot clone ${ctx.path} onto itself`);
  refuseNonEmpty(dest);
  // Capacity (SPEC section 8): a clone into $WHITEMAGIC_HOME is a new context there. Checked now to
  // fail before any copying, and again under the home's lock when the copy is moved into place.
  const env = input.env ?? ctx.options.env ?? process.env;
  const home = whitemagicHome(env);
  const underHome = dirname(dest) === home;
  if (underHome) assertCapacity(home, { env, name: basename(dest) });

  const backend = input.backend ?? ctx.backendName();
  const parent = dirname(dest);
  try {
    mkdirSync(parent, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw fromFsError(err, parent);
  }
  const prefix = `.${basename(dest)}.clone-`;
  clearAbandoned(parent, prefix);
  const staging = mkdtempSync(join(parent, `${prefix}${process.pid}-`));
  try {
    const factory = await loadBackend(backend);
    factory.create(staging);
    const copy = factory.open(staging, {});
    let memories = 0;
    try {
      await ctx.withLock(async () => {
        const source = await ctx.open();
        memories = copy.insertMany(once(counted(ctx, 'clone', readAllNamed(source), memoryCount(source))), 'fail').inserted;
        // Done with: its catalog and folder listing (some 25 MiB at 100,000) need not be held
        // while the copy's catalog is written on close.
        ctx.close();
      }, { create: false });
    } finally {
      copy.close();
    }
    const sourceManifest = ctx.manifest();
    const manifest: Manifest = {
      ...(sourceManifest ?? {}),
      format: FORMAT_VERSION,
      backend,
      created: new Date().toISOString(),
      cloned_from: ctx.path,
    };
    const description = input.description ?? sourceManifest?.description;
    if (description !== undefined) manifest.description = description;
    else delete manifest.description;
    // The manifest last: until it is there the staging folder is not a context.
    writeManifest(staging, manifest);
    const place = () => {
      if (underHome) assertCapacity(home, { env, name: basename(dest) });
      refuseNonEmpty(dest);
      renameSync(staging, dest);
    };
    if (underHome) await withHomeLock(home, place);
    else place();
    return { source: ctx.path, dest, name: basename(dest), backend, memories };
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new ConflictError(`${dest} is not empty`, 'clone into a new or empty directory');
    throw fromFsError(err, dest);
  }
}

function refuseNonEmpty(dest: string): void {
  let st;
  try {
    st = statSync(dest);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw fromFsError(err, dest);
  }
  if (!st.isDirectory() || readdirSync(dest).length > 0) {
    throw new ConflictError(`${dest} is not empty`, 'clone into a new or empty directory');
  }
}

/** Removes staging folders of earlier clones to the same DEST whose process is gone (killed). */
function clearAbandoned(parent: string, prefix: string): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) continue;
    rmSync(join(parent, name), { recursive: true, force: true });
  }
}

