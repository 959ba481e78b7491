import type { BackupInfo, BackupResult, VerifyResult } from '../commands/backup.js';
import type { CloneResult } from '../commands/clone.js';
import type { ConsolidateResult } from '../commands/consolidate.js';
import type { RunSummary } from '../commands/consolidation-log.js';
import type { RestoreBackupResult } from '../commands/restore-backup.js';
import { humanBytes } from './context.js';
import type { Style } from './style.js';

/** Renderers for consolidation, backups, restore and clone: pure functions from results to text. */

/**
 * `consolidate`: every promotion and archive, one line each, then the totals. Line by line, so that
 * a run over 50,000 memories is written as it is rendered, never made one string (23 MiB of a dry
 * run's peak at 100,000).
 */
export function* consolidationLines(r: ConsolidateResult, style: Style): Generator<string> {
  const would = r.dryRun;
  if (would) yield style.yellow('dry run: nothing changed (apply with --no-dry-run)');
  yield `short-term memories created before ${r.cutoff} (${r.retention})`;
  for (const run of r.runs) {
    if (run.resumed) yield `${would ? 'would finish' : 'finished'} interrupted run ${run.run}`;
    for (const m of run.promoted) yield `${style.green(would ? 'would promote' : 'promoted')}  ${m.id}  ${m.title}`;
    for (const m of run.archived) yield `${style.cyan(would ? 'would archive' : 'archived')}  ${m.id}  ${m.title}`;
    if (run.insights) {
      const id = run.insights.id ? `  ${run.insights.id}` : '';
      yield `${would ? 'would create' : 'created'}  "${run.insights.title}"${id}`;
    }
  }
  const total = `${r.promoted.length} promoted to long_term, ${r.archived.length} archived`;
  yield r.promoted.length + r.archived.length === 0 ? 'nothing to consolidate' : would ? `would be: ${total}` : total;
}

/** `consolidate --log`: one line per run, newest first. */
export function renderConsolidationLog(runs: RunSummary[], style: Style): string {
  if (!runs.length) return style.dim('no consolidation runs yet');
  return runs
    .map((r) => {
      const status = r.status === 'done' ? style.green('done') : style.yellow('incomplete (the next run finishes it)');
      const insights = r.insights ? `  insights ${r.insights}` : '';
      return `${r.at}  ${r.run}  promoted ${r.promoted}, archived ${r.archived}  ${status}${insights}`;
    })
    .join('\n');
}

/** `backup`: where it went and what is in it. */
export function renderBackup(r: BackupResult): string {
  const lines = [`${r.path}  (${humanBytes(r.bytes)}, ${r.counts.total} memories from ${r.backend})`];
  for (const path of r.deleted) lines.push(`deleted old backup ${path}`);
  return lines.join('\n');
}

/** `backups`: one line per backup, newest first: file, date, size, memories, source backend. */
export function renderBackups(list: BackupInfo[], style: Style): string {
  if (!list.length) return style.dim('no backups yet');
  return list
    .map((b) =>
      b.error
        ? `${b.file}\t${style.red(b.error)}\t${humanBytes(b.bytes)}`
        : [b.file, b.created, humanBytes(b.bytes), `${b.counts?.total ?? '?'} memories`, b.backend, b.kind === 'pre-restore' ? 'pre-restore' : '']
            .filter(Boolean)
            .join('\t'),
    )
    .join('\n');
}

/** `verify-backup`: ok, or each mismatch on its own line. */
export function renderVerify(r: VerifyResult, style: Style): string {
  if (r.ok) return `${style.green('ok')}  ${r.path}: ${r.files} files match the manifest (${r.counts?.total ?? 0} memories, taken ${r.created})`;
  return r.problems.map((p) => `${style.red('mismatch')}  ${p.path || '(archive)'}: ${p.message}`).join('\n');
}

/** `restore-backup`: the counts, and the pre-restore backup if one was made. */
export function renderRestore(r: RestoreBackupResult): string {
  const verb = r.dryRun ? 'would restore' : 'restored';
  const lines = [
    `${verb} ${r.file} into ${r.target} (${r.backend}): ${r.inserted.length} added, ${r.replaced.length} replaced, ${r.skipped.length} skipped (differ; --on-conflict ${r.onConflict}), ${r.unchanged.length} already there`,
  ];
  if (r.preRestoreBackup) lines.push(`pre-restore backup: ${r.preRestoreBackup}`);
  return lines.join('\n');
}

/** `clone`: source, destination, backend and count. */
export function renderClone(r: CloneResult): string {
  return `cloned ${r.source} to ${r.dest} (${r.backend}, ${r.memories} memories)`;
}
