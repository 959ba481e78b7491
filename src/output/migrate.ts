import type { MigrateResult } from '../commands/migrate.js';

/** What `migrate` did, in a few lines: the conversion, or why nothing changed, and where the old data is. */
export function renderMigrate(r: MigrateResult): string {
  const lines: string[] = [];
  if (r.recovered?.action === 'finished') {
    lines.push(`finished an interrupted migration from ${r.recovered.from} to ${r.recovered.to}`);
  } else if (r.recovered?.action === 'rolled-back') {
    lines.push(`cleaned up an interrupted migration from ${r.recovered.from} to ${r.recovered.to} (the context was left as it was)`);
  }
  if (!r.changed) {
    lines.push(`${r.path} already uses the ${r.to} backend; nothing to do`);
    if (r.recovered?.backup) lines.push(`the old ${r.recovered.from} data is kept in ${r.recovered.backup}/ (remove it when you no longer need it)`);
  } else {
    const n = `${r.memories} ${r.memories === 1 ? 'memory' : 'memories'}`;
    lines.push(`migrated ${r.path} from ${r.from} to ${r.to} (${n})`);
    lines.push(`the old ${r.from} data is kept in ${r.backup}/ (remove it when you no longer need it)`);
  }
  return lines.join('\n');
}
