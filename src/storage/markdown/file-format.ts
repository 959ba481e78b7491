import { lazyModule } from '../../util/lazy.js';
import { derivedId } from '../../memory/ids.js';
import { normaliseContent, tagsFromFrontMatter } from '../../memory/fields.js';
import { RESERVED_KEYS, type Memory, type MemoryType } from '../../memory/types.js';
import { isoFromValue } from '../../util/dates.js';
import { printable } from '../../context/names.js';

type Matter = typeof import('gray-matter');
type Yaml = typeof import('js-yaml');
// Loaded on first use: most commands parse no file at all (the catalog holds the front matter; see
// catalog.ts), and gray-matter alone takes about 20 ms to load (it brings its own YAML parser).
const yaml = lazyModule<Yaml>('js-yaml');
const matter = lazyModule<Matter>('gray-matter');

/**
 * The markdown file format of a memory (SPEC section 3): YAML front matter, then the body.
 * Parsing is lenient with what people and whitemagic 2.x write by hand, strict about safety.
 */

/** A front-matter language gray-matter would otherwise run as code (`---js`): refused. */
function refuse(language: string) {
  return {
    parse(): never {
      throw new Error(`front matter in '${language}' is not allowed; use YAML`);
    },
  };
}

const yamlEngine = {
  // CORE_SCHEMA: no timestamps turned into Dates, no custom tags; times stay text as written.
  parse: (source: string) => yaml().load(source, { schema: yaml().CORE_SCHEMA, json: true }) as object,
  stringify: (data: object) => dumpYaml(data),
};

const MATTER_OPTIONS = {
  language: 'yaml',
  engines: {
    yaml: yamlEngine,
    js: refuse('js'),
    javascript: refuse('javascript'),
    coffee: refuse('coffee'),
    coffeescript: refuse('coffeescript'),
    cson: refuse('cson'),
    toml: refuse('toml'),
  },
} as unknown as Parameters<Matter>[1];

function dumpYaml(data: object): string {
  return yaml().dump(data, { schema: yaml().CORE_SCHEMA, lineWidth: -1, noRefs: true, sortKeys: false });
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
  if (text.includes('\u0000')) throw new Error('binary content (NUL bytes), not a markdown file');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let data: Record<string, unknown>;
  let body: string;
  try {
    const parsed = matter()(text, MATTER_OPTIONS);
    data = parsed.data && typeof parsed.data === 'object' && !Array.isArray(parsed.data) ? parsed.data : {};
    body = parsed.content;
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new Error(`cannot parse front matter: ${reason}`);
  }
  if (text.startsWith('---') && !/^---[^\n]*\n[\s\S]*?\n---/.test(text) && !/^---[^\n]*\n---/.test(text)) {
    throw new Error('front matter is not closed by a --- line');
  }

  checkFrontMatterSize(data);
  const content = normaliseContent(body);
  const createdFromFile = isoFromValue(asTime(data.created));
  const created = createdFromFile ?? mtime.toISOString();
  const updated = isoFromValue(asTime(data.updated)) ?? createdFromFile ?? mtime.toISOString();
  const idValue = typeof data.id === 'string' || typeof data.id === 'number' ? String(data.id).trim() : '';
  if (idValue && !isSafeId(idValue)) {
    throw new Error(`id '${printable(idValue)}' is not allowed: letters, digits, '_', '-' and '.' only, at most 128`);
  }
  const id = idValue || derivedId(fileName, createdFromFile);
  const meta: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (!RESERVED_KEYS.has(key)) meta[key] = value;
  }
  return {
    memory: {
      id,
      title: titleOf(data.title, content, fileName),
      content,
      type,
      tags: tagsFromFrontMatter(data.tags),
      created,
      updated,
      meta,
    },
    derivedId: !idValue,
  };
}

/** Times written without a zone (whitemagic 2.x wrote local-less ISO) are read as UTC. */
function asTime(value: unknown): unknown {
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value.trim())) {
    return value.trim().replace(' ', 'T') + 'Z';
  }
  return value;
}

/** The title: the front matter's, else the body's first `# ` heading, else the file name. */
function titleOf(value: unknown, content: string, fileName: string): string {
  const written = typeof value === 'string' || typeof value === 'number' ? String(value) : '';
  const heading = /^#[ \t]+(.+)$/m.exec(content)?.[1] ?? '';
  for (const candidate of [written, heading, fileName.replace(/\.md$/, '')]) {
    const title = oneLine(candidate);
    if (title) return title;
  }
  return 'untitled';
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
 * YAML aliases let a few lines stand for an exponentially large value (the "billion laughs"):
 * harmless while shared, but JSON or YAML output would expand it. Front matter is refused when,
 * expanded, it has more than MAX_NODES values or nests deeper than MAX_DEPTH. The walk stops at
 * the limit, so a bomb costs no more than the limit to detect.
 */
const MAX_NODES = 100_000;
const MAX_DEPTH = 64;

function checkFrontMatterSize(data: unknown): void {
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
