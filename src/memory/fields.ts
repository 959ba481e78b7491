import { UsageError } from '../errors.js';
import { idSuffix } from './ids.js';
import { isMemoryType, MEMORY_TYPES, type Memory, type MemoryType } from './types.js';

/** Tags as SPEC section 3 stores them: lowercase, trimmed, de-duplicated, empty ones dropped. */
export function normaliseTags(tags: Iterable<unknown>): string[] {
  const seen = new Set<string>();
  for (const raw of tags) {
    if (raw === null || raw === undefined) continue;
    const tag = String(raw).trim().toLowerCase();
    if (tag) seen.add(tag);
  }
  return [...seen];
}

/** Tags from a front-matter value: a YAML list, or the comma string of whitemagic 2.x. */
export function tagsFromFrontMatter(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return normaliseTags(value.filter((v) => typeof v !== 'object'));
  if (typeof value === 'string') return normaliseTags(value.split(','));
  if (typeof value === 'number' || typeof value === 'boolean') return normaliseTags([value]);
  return [];
}

/** Tags from a command-line list such as `a,b, c`. */
export function tagsFromList(value: string): string[] {
  return normaliseTags(value.split(','));
}

/** A valid one-line title, or a usage error saying why not. */
export function checkTitle(title: string): string {
  const trimmed = title.trim();
  if (!trimmed) throw new UsageError('a title cannot be empty', "pass --title 'Some title'");
  if (/[\r\n]/.test(trimmed)) throw new UsageError('a title must be one line', 'put the rest in the content');
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(trimmed)) {
    throw new UsageError('a title cannot contain control characters');
  }
  if (trimmed.length > 500) throw new UsageError('a title can have at most 500 characters');
  return trimmed;
}

/** A type given by the user, checked against the allowed ones. */
export function checkType(value: string, allowed: readonly MemoryType[] = MEMORY_TYPES): MemoryType {
  if (!isMemoryType(value) || !allowed.includes(value)) {
    throw new UsageError(`unknown type '${value}'`, `use one of: ${allowed.join(', ')}`);
  }
  return value;
}

/** `k=v` pairs from --meta, checked: keys are plain identifiers and not owned by whitemagic. */
export function parseMetaPairs(pairs: string[] | undefined, reserved: Set<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--meta needs key=value, got '${pair}'`);
    const key = pair.slice(0, eq).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/.test(key)) {
      throw new UsageError(`--meta key '${key}' is not a plain name`, 'use letters, digits, _ . -');
    }
    if (reserved.has(key)) throw new UsageError(`--meta cannot set '${key}'`, `use the --${key} option instead`);
    out[key] = pair.slice(eq + 1);
  }
  return out;
}

/** A file-name-safe slug of a title: lowercase ASCII words joined by '-', at most 48 characters. */
export function slugify(title: string): string {
  const slug = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '');
  return slug || 'memory';
}

/**
 * A new memory's name (SPEC section 3): creation date, slug of the title, the id's random tail, as
 * `YYYY-MM-DD_slug_suffix`. Every backend names a new memory this way, so a REF by name means the
 * same memory on each; in the markdown backend it is the file name without `.md`.
 */
export function memoryName(memory: Pick<Memory, 'id' | 'title' | 'created'>): string {
  // Only safe characters reach a path, whatever an imported memory carries in its id or date.
  const safe = (text: string) => text.replace(/[^A-Za-z0-9-]/g, '');
  return `${safe(memory.created.slice(0, 10))}_${slugify(memory.title)}_${safe(idSuffix(memory.id)) || 'x'}`;
}

/**
 * A name carried over from another backend (migrate, clone, restore) that is safe to keep: one
 * plain file name, no path, no control characters, not hidden.
 */
export function isKeepableName(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    name.length <= 200 &&
    !name.startsWith('.') &&
    !name.includes('..') &&
    !/[/\\\u0000-\u001f\u007f]/.test(name)
  );
}

/** Body text as whitemagic stores it: no leading blank lines, no trailing white space, LF line ends. */
export function normaliseContent(content: string): string {
  // `\r+\n`, not `\r\n`: "\r\r\n" would otherwise become "\r\n" and change again when read back.
  return content.replace(/\r+\n/g, '\n').replace(/^(?:[ \t]*\n)+/, '').replace(/\s+$/, '');
}
