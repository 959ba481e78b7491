import type { Overview } from '../commands/contexts.js';
import type { ContextDetails } from '../commands/contexts.js';
import type { ContextInfo } from '../context/discovery.js';
import { humanBytes } from './context.js';
import type { Style } from './style.js';

/** Renderers of the many-contexts commands (SPEC section 8): pure functions of data, style and now. */

/** `contexts`: one aligned row per context, the active one marked with `*` as `git branch` does. */
export function renderContexts(contexts: ContextInfo[], home: string, style: Style, now: number = Date.now()): string {
  if (!contexts.length) return style.dim(`no contexts in ${home}`);
  const head = ['', 'NAME', 'BACKEND', 'SHORT', 'LONG', 'ARCHIVE', 'SIZE', 'LAST USED', 'DESCRIPTION'];
  const rows = contexts.map((c) => [
    c.active ? '*' : '',
    c.name,
    c.backend,
    count(c, 'short_term'),
    count(c, 'long_term'),
    count(c, 'archive'),
    humanBytes(c.size),
    c.lastUsed ? relativeTime(c.lastUsed, now) : 'never',
    c.error ? `unreadable: ${c.error}` : oneLine(c.description ?? ''),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const numeric = new Set([3, 4, 5, 6]);
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : numeric.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const out = [style.bold(line(head))];
  rows.forEach((r, i) => {
    const text = line(r);
    const c = contexts[i];
    out.push(c.error ? style.red(text) : c.active ? style.green(text) : text);
  });
  return out.join('\n');
}

/**
 * `contexts` off a terminal: one tab-separated line per context for `cut` and `awk`: name, `*` if
 * active else `-`, backend, short, long, archive (`?` if unreadable), bytes, last use (ISO or `-`),
 * description (or the reason it is unreadable).
 */
export function renderContextsPlain(contexts: ContextInfo[]): string {
  return contexts
    .map((c) =>
      [
        c.name,
        c.active ? '*' : '-',
        c.backend,
        count(c, 'short_term'),
        count(c, 'long_term'),
        count(c, 'archive'),
        String(c.size),
        c.lastUsed ?? '-',
        oneLine(c.error ? `unreadable: ${c.error}` : (c.description ?? '')),
      ].join('\t'),
    )
    .join('\n');
}

/** `contexts show`: one context, a field per line. */
export function renderContextDetails(c: ContextDetails, style: Style, now: number = Date.now()): string {
  const lines = [
    `context:     ${style.bold(c.name)}${c.active ? style.green(' (active)') : ''}`,
    `path:        ${c.path}`,
    `backend:     ${c.backend}`,
    `format:      ${c.format}${c.state === 'legacy' ? ' (no manifest yet; upgraded at the first write)' : ''}`,
  ];
  if (c.chosenBy) lines.push(`chosen by:   ${c.chosenBy}`);
  if (c.description) lines.push(`description: ${c.description}`);
  if (c.created) lines.push(`created:     ${c.created}`);
  if (c.counts && c.total !== null) {
    lines.push(
      `memories:    ${c.total} (short_term ${c.counts.short_term}, long_term ${c.counts.long_term}, archive ${c.counts.archive})`,
      `tags:        ${c.tags ?? 0}`,
    );
  }
  lines.push(`size:        ${humanBytes(c.size)}`, `last used:   ${c.lastUsed ? `${relativeTime(c.lastUsed, now)} (${c.lastUsed})` : 'never'}`);
  if (c.error) lines.push(style.red(`unreadable:  ${c.error}`));
  return lines.join('\n');
}

/** `overview`: totals and capacity, then the contexts. */
export function renderOverview(o: Overview, style: Style, now: number = Date.now()): string {
  const t = o.totals;
  const cap = o.capacity;
  const lines = [
    `home:      ${o.home}`,
    `active:    ${o.active ?? style.dim('(outside the home)')}`,
    `contexts:  ${t.contexts}${t.unreadable ? style.red(` (${t.unreadable} unreadable)`) : ''}`,
    `memories:  ${t.memories} (short_term ${t.counts.short_term}, long_term ${t.counts.long_term}, archive ${t.counts.archive})`,
    `size:      ${humanBytes(t.size)}`,
    `capacity:  ${cap.used} used of ${cap.maximum}, ${cap.available} available${cap.available === 0 ? style.red(' (full)') : ''}`,
  ];
  if (o.contexts.length) lines.push('', renderContexts(o.contexts, o.home, style, now));
  return lines.join('\n');
}

/** A past time for people: `just now`, `5 min ago`, `3 h ago`, `2 days ago`, then the date. */
export function relativeTime(iso: string, now: number = Date.now()): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  const seconds = Math.max(0, Math.round((now - t) / 1000));
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  const days = Math.floor(seconds / 86_400);
  if (days < 30) return `${days} ${days === 1 ? 'day' : 'days'} ago`;
  return iso.slice(0, 10);
}

function count(c: ContextInfo, type: 'short_term' | 'long_term' | 'archive'): string {
  return c.counts ? String(c.counts[type]) : '?';
}

function oneLine(text: string): string {
  return text.replace(/[\t\r\n]+/g, ' ');
}
