import { lazyModule } from '../util/lazy.js';
import type { Memory, MemoryHeader } from '../memory/types.js';
import type { Style } from './style.js';
import type { ListResult } from '../storage/types.js';
import { jsonPieces } from './json.js';

const yaml = lazyModule<typeof import('js-yaml')>(() => require('js-yaml'));

/**
 * Renderers: pure functions from data to text. `--json` shapes are here too, so the CLI, the
 * library and the MCP server print the same fields.
 */

/** A memory in --json: every field, body last. */
export function memoryJson(m: Memory) {
  return { id: m.id, title: m.title, type: m.type, tags: m.tags, created: m.created, updated: m.updated, meta: m.meta, content: m.content };
}

/** A list entry in --json. `name` is the same on every backend; `bytes` (stored size) is backend-specific. */
export function headerJson(h: MemoryHeader) {
  return { id: h.id, title: h.title, type: h.type, tags: h.tags, created: h.created, updated: h.updated, meta: h.meta, name: h.name, bytes: h.bytes };
}

/** `show`: the front matter (type included) and the body, as one markdown document. */
export function renderMemory(m: Memory, style: Style): string {
  const front: Record<string, unknown> = {
    id: m.id,
    title: m.title,
    type: m.type,
    tags: m.tags,
    created: m.created,
    updated: m.updated,
    ...m.meta,
  };
  const head = yaml().dump(front, { schema: yaml().CORE_SCHEMA, lineWidth: -1, noRefs: true, flowLevel: 1 });
  return `${style.dim('---')}\n${style.dim(head.trimEnd())}\n${style.dim('---')}\n${m.content ? `\n${m.content}\n` : ''}`;
}

/** `list` off a terminal: one tab-separated line per memory (id, type, created, title, tags). */
export function renderListPlain(memories: MemoryHeader[]): string {
  return memories.map((h) => [h.id, h.type, h.created, oneLine(h.title), h.tags.join(',')].join('\t')).join('\n');
}

/**
 * `list --json`: `{ memories, total, problems }` as JSON.stringify(…, null, 2) writes it, from
 * pages of memories written as they come (the total and problems are the first page's).
 */
export function* listJsonPieces(pages: Iterable<ListResult>, head: Pick<ListResult, 'total' | 'problems'>): Generator<string> {
  yield '{\n  "memories": [';
  let n = 0;
  for (const page of pages) {
    for (const m of page.memories) {
      yield n++ ? ',\n    ' : '\n    ';
      yield* jsonPieces(headerJson(m), '    ');
    }
  }
  yield n ? '\n  ],\n' : '],\n';
  yield `  "total": ${JSON.stringify(head.total)},\n  "problems": `;
  yield* jsonPieces(head.problems, '  ');
  yield '\n}';
}

/** `list` on a terminal: a table. */
export async function renderListTable(memories: MemoryHeader[], style: Style, total: number): Promise<string> {
  if (!memories.length) return style.dim('no memories');
  const Table = (await import('cli-table3')).default;
  const table = new Table({
    head: ['ID', 'TYPE', 'CREATED', 'TITLE', 'TAGS'].map((h) => style.bold(h)),
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    wordWrap: true,
    colWidths: [null, null, null, Math.max(20, Math.min(60, (process.stdout.columns ?? 120) - 80)), null] as unknown as number[],
  });
  for (const h of memories) {
    table.push([style.yellow(h.id), h.type, h.created.slice(0, 16).replace('T', ' '), h.title, style.cyan(h.tags.join(', '))]);
  }
  const more = total > memories.length ? `\n${style.dim(`${memories.length} of ${total} shown`)}` : '';
  return table.toString() + more;
}

function oneLine(text: string): string {
  return text.replace(/[\t\r\n]+/g, ' ');
}
