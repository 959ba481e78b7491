import { basename } from 'node:path';
import { backup as backupContext, listBackups, verifyBackup as verifyArchive } from '../../commands/backup.js';
import { cloneContext } from '../../commands/clone.js';
import { consolidate as consolidateContext, consolidationLog } from '../../commands/consolidate.js';
import { restoreBackup as restoreArchive, type OnConflict } from '../../commands/restore-backup.js';
import { Context } from '../../context/context.js';
import { expandPath } from '../../context/resolve.js';
import { WhitemagicError } from '../../errors.js';
import {
  renderBackup,
  renderBackups,
  renderClone,
  consolidationLines,
  renderConsolidationLog,
  renderRestore,
  renderVerify,
} from '../../output/lifecycle.js';
import { makeStyle } from '../../output/style.js';
import { checkBackendName } from '../../storage/registry.js';
import { parseDateArg } from '../../util/dates.js';
import { makeOutput, runInContext, type GlobalOptions } from '../run.js';
import { writeTo } from '../stdio.js';

/** CLI glue for consolidation, backups, restore and clone. */

export async function consolidate(opts: { dryRun?: boolean; olderThan?: string; log?: boolean }, globals: GlobalOptions): Promise<void> {
  const olderThan = opts.olderThan !== undefined ? parseDateArg(opts.olderThan, '--older-than') : undefined;
  await runInContext(globals, async (ctx, output) => {
    const style = await makeStyle(output.color);
    if (opts.log) {
      const runs = await consolidationLog(ctx);
      if (output.json) output.printJson({ runs });
      else output.out(renderConsolidationLog(runs, style));
      return;
    }
    const result = await consolidateContext(ctx, { dryRun: opts.dryRun ?? true, olderThan });
    if (output.json) output.printJson(result);
    else if (!output.quiet || result.dryRun) {
      // A thousand lines at a time: the lines of a large run are never one string.
      let chunk: string[] = [];
      for (const line of consolidationLines(result, style)) {
        chunk.push(line);
        if (chunk.length === 1000) {
          output.out(chunk.join('\n'));
          chunk = [];
        }
      }
      if (chunk.length) output.out(chunk.join('\n'));
    }
  });
}

export async function backup(opts: { output?: string; keep?: number }, globals: GlobalOptions): Promise<void> {
  await runInContext(globals, async (ctx, output) => {
    const result = await backupContext(ctx, { output: opts.output, keep: opts.keep });
    if (output.json) output.printJson(result);
    else if (!output.quiet) output.out(renderBackup(result));
    if (result.problems.length) {
      // The backup is written, but it lacks these files: a cron job must hear about it.
      for (const p of result.problems) writeTo(2, `whitemagic: warning: ${p.path}: ${p.message}\n`);
      throw new WhitemagicError('io', `backup ${basename(result.path)} is missing ${result.problems.length} memory files that could not be read`, {
        hint: "fix them (see 'whitemagic doctor') and back up again",
      });
    }
  });
}

export async function backups(globals: GlobalOptions): Promise<void> {
  await runInContext(globals, async (ctx, output) => {
    const list = await listBackups(ctx);
    if (output.json) output.printJson({ backups: list });
    else output.out(renderBackups(list, await makeStyle(output.color)));
  });
}

export async function verifyBackup(file: string, globals: GlobalOptions): Promise<void> {
  const output = makeOutput(globals);
  const result = await verifyArchive(file);
  if (output.json) output.printJson(result);
  else if (!result.ok || !output.quiet) output.out(renderVerify(result, await makeStyle(output.color)));
  if (!result.ok) {
    throw new WhitemagicError('corrupt', `backup ${basename(result.path)} failed verification: ${result.problems.length} ${result.problems.length === 1 ? 'problem' : 'problems'}`, {
      hint: 'do not restore it; use another backup',
    });
  }
}

export async function restoreBackup(
  file: string,
  opts: { targetDir?: string; onConflict?: OnConflict; dryRun?: boolean },
  globals: GlobalOptions,
): Promise<void> {
  await runInContext(globals, async (active, output) => {
    const target = opts.targetDir !== undefined ? targetContext(active, opts.targetDir) : active;
    try {
      const result = await restoreArchive(target, { file, onConflict: opts.onConflict, dryRun: opts.dryRun });
      if (output.json) output.printJson(result);
      else if (!output.quiet || result.dryRun) output.out(renderRestore(result));
    } finally {
      if (target !== active) target.close();
    }
  });
}

/** The context at --target-dir: created on the first write, with --backend if new. */
function targetContext(active: Context, dir: string): Context {
  const path = expandPath(dir);
  return new Context(
    { path, name: basename(path), source: '--base-dir', explicit: true, home: active.location.home },
    active.options,
  );
}

export async function clone(dest: string, opts: { description?: string }, globals: GlobalOptions): Promise<void> {
  const backend = globals.backend ? checkBackendName(globals.backend) : undefined;
  await runInContext(globals, async (ctx, output) => {
    const result = await cloneContext(ctx, { dest, backend, description: opts.description });
    if (output.json) output.printJson(result);
    else if (!output.quiet) output.out(renderClone(result));
  });
}
