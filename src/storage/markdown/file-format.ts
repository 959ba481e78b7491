import { lazyModule } from '../../util/lazy.js';
import { derivedId } from '../../memory/ids.js';
import { normaliseContent, tagsFromFrontMatter } from '../../memory/fields.js';
import { RESERVED_KEYS, type Memory, type MemoryType } from '../../memory/types.js';
import { isoFromValue } from '../../util/dates.js';
import { printable } from '../../context/names.js';
import { detach } from '../bulk.js';
import { parseSimpleYaml } from './simple-yaml.js';
import { dumpSimpleYaml } from './yaml-dump.js';

type Yaml = typeof import('js-yaml');
// Loaded on first use: most commands parse no file at all (the catalog holds the front matter; see
// catalog.ts).
const yaml = lazyModule<Yaml>(() => require('js-yaml'));

/**
 * The markdown file format of a memory (SPEC section 3): YAML front matter, then the body.
 * Parsing is lenient with what people and whitemagic 2.x write by hand, strict about safety.
 */

/** Front-matter languages that would run code or that we do not read (`---js`): refused. */
const REFUSED_LANGUAGES = new Set(['js', 'javascript', 'coffee', 'coffeescript', 'cson', 'toml']);

function parseYaml(source: string): unknown {
  // The usual front matter is read without js-yaml (simple-yaml.ts gives the same result or none).
  const simple = parseSimpleYaml(source);
  if (simple) return simple;
  // CORE_SCHEMA: no timestamps turned into Dates, no custom tags; times stay text as written.
  return yaml().load(source, { schema: yaml().CORE_SCHEMA, json: true });
}

/**
 * Splits a file into its front matter (parsed) and its body, by the rules gray-matter made common
 * (and whitemagic 2.x followed): `---` on the first line, optionally followed by a language; the block
 * ends at the first line starting with `---`; a `----` first line is no front matter. Done here,
 * without gray-matter, because it loads a second YAML parser and costs four times as much per file,
 * which counts when a thousand edited files are read again.
 */
export function splitFrontMatter(text: string): { data: unknown; body: string } {
  if (!text.startsWith('---') || text.charAt(3) === '-') return { data: {}, body: text };
  let rest = text.slice(3);
  const length = rest.length;
  const rawLanguage = rest.slice(0, rest.search(/\r?\n/));
  const language = rawLanguage.trim();
  if (language) rest = rest.slice(rawLanguage.length);
  let close = rest.indexOf('\n---');
  if (close === -1) close = length;
  const block = rest.slice(0, close);
  let body = '';
  if (close !== length) {
    body = rest.slice(close + 4);
    if (body[0] === '\r') body = body.slice(1);
    if (body[0] === '\n') body = body.slice(1);
  }
  if (block.replace(/^\s*#[^\n]+/gm, '').trim() === '') return { data: {}, body };
  return { data: parseBlock(language, block), body };
}

function parseBlock(language: string, block: string): unknown {
  const name = language.toLowerCase();
  if (!language || name === 'yaml' || name === 'yml') return parseYaml(block);
  if (language === 'json') return JSON.parse(block);
  if (REFUSED_LANGUAGES.has(name)) throw new Error(`front matter in '${language}' is not allowed; use YAML`);
  throw new Error(`unknown front matter language '${language}'; use YAML`);
}

function dumpYaml(data: Record<string, unknown>): string {
  // Most front matter is plain text and lists of it: written without loading js-yaml (yaml-dump.ts).
  return dumpSimpleYaml(data) ?? yaml().dump(data, { schema: yaml().CORE_SCHEMA, lineWidth: -1, noRefs: true, sortKeys: false });
}


export interface ParsedFile {
  memory: Memory;
  /** The file carried no `id`: the one in `memory` is derived from its name. */
  derivedId: boolean;
}

/**
 * Reads a memory file's text. `fileName` is the base name (for a derived id and a fallback title),
 * `type` comes from the folder, `mtime` stands in for a missing `created`.
 * Throws an Error with a readable message when the front matter cannot be parsed.
 */
export function parseMemoryFile(text: string, fileName: string, type: MemoryType, mtime: Date): ParsedFile {
  const { fields, body, derivedId } = readFields(text, fileName, mtime);
  const content = normaliseContent(body);
  const { id, tags, created, updated, meta } = fields;
  return { memory: { id, title: titleOf(fields.title, () => content, fileName), content, type, tags, created, updated, meta }, derivedId };
}

/** A memory file's header as parseMemoryFile reads it, without making its content (what a scan needs). */
export interface ParsedHeader {
  header: Omit<Memory, 'content' | 'type'>;
  derivedId: boolean;
  /**
   * The header came from the front matter alone (its title and creation time are written there),
   * not from the body or the file's time: the same front matter gives the same header
   * (front-matter-digest.ts).
   */
  fromFrontMatter: boolean;
}

/** Like parseMemoryFile, for the header alone: the body is only looked at for a missing title. */
export function parseMemoryHeader(text: string, fileName: string, mtime: Date): ParsedHeader {
  const { fields, body, derivedId, dated } = readFields(text, fileName, mtime);
  const { id, tags, created, updated, meta } = fields;
  const written = writtenTitle(fields.title);
  return { header: { id, title: written || titleOf(fields.title, () => normaliseContent(body), fileName), tags, created, updated, meta }, derivedId, fromFrontMatter: dated && written !== '' };
}

function readFields(text: string, fileName: string, mtime: Date) {
  if (text.includes('\u0000')) throw new Error('binary content (NUL bytes), not a markdown file');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let data: Record<string, unknown>;
  let body: string;
  try {
    const parsed = splitFrontMatter(text);
    data = parsed.data && typeof parsed.data === 'object' && !Array.isArray(parsed.data) ? (parsed.data as Record<string, unknown>) : {};
    body = parsed.body;
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new Error(`cannot parse front matter: ${reason}`);
  }
  if (text.startsWith('---') && !/^---[^\n]*\n[\s\S]*?\n---/.test(text) && !/^---[^\n]*\n---/.test(text)) {
    throw new Error('front matter is not closed by a --- line');
  }

  checkFrontMatterSize(data);
  const createdFromFile = isoFromValue(asTime(data.created));
  const created = createdFromFile ?? mtime.toISOString();
  const updated = isoFromValue(asTime(data.updated)) ?? createdFromFile ?? mtime.toISOString();
  const idValue = typeof data.id === 'string' || typeof data.id === 'number' ? String(data.id).trim() : '';
  if (idValue && !isSafeId(idValue)) {
    throw new Error(`id '${printable(idValue)}' is not allowed: letters, digits, '_', '-' and '.' only, at most 128`);
  }
  // A copy of its own: a parsed value is a view into the file's text, and ids are what callers keep
  // (sets and maps of every id in a bulk pass), which would keep every file's text.
  const id = idValue ? detach(idValue) : derivedId(fileName, createdFromFile);
  const meta: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (!RESERVED_KEYS.has(key)) meta[key] = value;
  }
  return { fields: { id, title: data.title, tags: tagsFromFrontMatter(data.tags), created, updated, meta }, body, derivedId: !idValue, dated: createdFromFile !== undefined };
}

/** Times written without a zone (whitemagic 2.x wrote local-less ISO) are read as UTC. */
function asTime(value: unknown): unknown {
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value.trim())) {
    return value.trim().replace(' ', 'T') + 'Z';
  }
  return value;
}

/** The title: the front matter's, else the body's first `# ` heading, else the file name. */
function titleOf(value: unknown, content: () => string, fileName: string): string {
  const written = writtenTitle(value);
  if (written) return written;
  // Only looked for when needed: searching a body for a heading is a cost on every file read.
  const heading = oneLine(/^#[ \t]+(.+)$/m.exec(content())?.[1] ?? '');
  return heading || oneLine(fileName.replace(/\.md$/, '')) || 'untitled';
}

/** The title the front matter gives, as read back; empty when it gives none. */
function writtenTitle(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? oneLine(String(value)) : '';
}

/**
 * A title as read back: line breaks folded (a title is one line), other spacing kept as written,
 * other control characters (terminal escapes) dropped, so a file never drives a terminal.
 */
function oneLine(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
    .trim();
}

/** The text of a memory file: front matter (id, title, tags, created, updated, then extra keys), body. */
export function serialiseMemory(memory: Memory): string {
  const front: Record<string, unknown> = {
    id: memory.id,
    title: memory.title,
    tags: memory.tags,
    created: memory.created,
    updated: memory.updated,
  };
  for (const [key, value] of Object.entries(memory.meta)) {
    if (!RESERVED_KEYS.has(key)) front[key] = value;
  }
  const body = normaliseContent(memory.content);
  return `---\n${dumpYaml(front)}---\n${body ? `\n${body}\n` : ''}`;
}

/** An id whitemagic accepts from a file: it may end up in a file name, so no path characters. */
export function isSafeId(id: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(id) && !id.includes('..');
}

/**
 * How many values flat front matter holds (keys' values, and the items of lists of scalars), or
 * Infinity when it nests deeper: the usual front matter is checked without walking it as a tree.
 */
function flatSize(data: unknown): number {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return Infinity;
  let nodes = 1;
  for (const value of Object.values(data)) {
    nodes++;
    if (value && typeof value === 'object') {
      if (!Array.isArray(value)) return Infinity;
      for (const item of value) {
        if (item && typeof item === 'object') return Infinity;
        nodes++;
      }
    }
  }
  return nodes;
}

/**
 * YAML aliases let a few lines stand for an exponentially large value (the "billion laughs"):
 * harmless while shared, but JSON or YAML output would expand it. Front matter is refused when,
 * expanded, it has more than MAX_NODES values or nests deeper than MAX_DEPTH. The walk stops at
 * the limit, so a bomb costs no more than the limit to detect.
 */
const MAX_NODES = 100_000;
const MAX_DEPTH = 64;

function checkFrontMatterSize(data: unknown): void {
  if (flatSize(data) <= MAX_NODES) return;
  const stack: [unknown, number][] = [[data, 0]];
  let nodes = 0;
  while (stack.length) {
    const [value, depth] = stack.pop()!;
    if (++nodes > MAX_NODES) throw new Error(`front matter is too large once expanded (over ${MAX_NODES} values; YAML aliases?)`);
    if (depth > MAX_DEPTH) throw new Error(`front matter nests deeper than ${MAX_DEPTH} levels`);
    if (value && typeof value === 'object') {
      for (const child of Object.values(value as object)) stack.push([child, depth + 1]);
    }
  }
}
