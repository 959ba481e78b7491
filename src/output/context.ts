import type { StatusResult } from '../commands/status.js';
import type { StatsResult, TagCount } from '../commands/stats.js';
import type { Style } from './style.js';

/** Bytes for people: 1.2 KiB, 3.4 MiB. */
export function humanBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

export function renderStatus(s: StatusResult, style: Style): string {
  const state =
    s.state === 'missing'
      ? ' (not created yet; the first write creates it)'
      : s.state === 'not-a-context'
        ? ' (not a context yet; the first write makes it one)'
        : s.state === 'legacy'
          ? ' (no manifest yet; added at the first write)'
          : '';
  const lines = [
    `context:  ${style.bold(s.name)}${state}`,
    `path:     ${s.path}`,
    `chosen by: ${s.chosenBy}`,
    `backend:  ${s.backend}`,
    `memories: ${s.total} (short_term ${s.counts.short_term}, long_term ${s.counts.long_term}, archive ${s.counts.archive})`,
  ];
  if (s.description) lines.push(`description: ${s.description}`);
  if (s.switched && s.source !== 'switch') lines.push(`switched to: ${s.switched} (${s.chosenBy} wins over it)`);
  return lines.join('\n');
}

export function renderTags(tags: TagCount[]): string {
  return tags.map((t) => `${t.tag}\t${t.count}`).join('\n');
}

export function renderStats(s: StatsResult, style: Style): string {
  const lines = [
    `${style.bold(s.context)} (${s.backend}) ${s.path}`,
    `memories:   ${s.total}`,
    `short_term: ${s.counts.short_term}`,
    `long_term:  ${s.counts.long_term}`,
    `archive:    ${s.counts.archive}`,
    `tags:       ${Object.keys(s.tags).length}`,
    `size:       ${humanBytes(s.bytes)}`,
  ];
  if (s.problems.length) lines.push(`unreadable: ${s.problems.length}`);
  return lines.join('\n');
}
