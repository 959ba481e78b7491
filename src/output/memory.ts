import { lazyModule } from '../util/lazy.js';
import { ID_LENGTH } from '../memory/ids.js';
import { MEMORY_TYPES, type Memory, type MemoryHeader } from '../memory/types.js';
import type { Style } from './style.js';
import type { ListResult } from '../storage/types.js';
import { jsonPieces } from './json.js';
import { itemDone } from '../util/heap.js';

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

/** Rows of a `list` table drawn at once (listTablePieces); the tests read it. */
export const listTableLimits = { rows: 50 };

/**
 * `list` on a terminal: a table, drawn `listTableLimits.rows` rows at a time and given as it is
 * drawn, so that a list of every memory at 100,000 neither holds each row in cli-table3 (846 MiB)
 * nor waits minutes for its layout, whose time grows faster than its rows. cli-table3 makes some
 * 30 KB of garbage a row: a part of 50 rows dies young, and each row drawn is an item for the
 * heap's pacer (85,000 rows: 104 MiB on SQLite, 114 on markdown; 130 and more without either).
 * The parts join into one table: the header and top border on the first part only, the bottom
 * border on the last only. A list of one part is sized to its cells; a longer one to its first
 * part's cells, but never narrower than an id, every type, a date and 16 characters of tags, so
 * that a longer cell further down (a hand-made id, more tags) wraps within its column.
 */
export async function* listTablePieces(pages: Iterable<ListResult>, style: Style, total: number): AsyncGenerator<string> {
  const Table = (await import('cli-table3')).default;
  const titleWidth = Math.max(20, Math.min(60, (process.stdout.columns ?? 120) - 80));
  // Widths count cli-table3's padding, a space each side (the title's is given whole).
  const floors = [ID_LENGTH + 2, Math.max(...MEMORY_TYPES.map((t) => t.length)) + 2, 16 + 2, titleWidth, 16 + 2];
  const table = (rows: MemoryHeader[], colWidths: (number | null)[], first: boolean, last: boolean) => {
    const t = new Table({
      ...(first ? { head: ['ID', 'TYPE', 'CREATED', 'TITLE', 'TAGS'].map((h) => style.bold(h)) } : {}),
      style: { head: [], border: [] },
      chars: {
        mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '',
        ...(first ? {} : { top: '', 'top-left': '', 'top-mid': '', 'top-right': '' }),
        ...(last ? {} : { bottom: '', 'bottom-left': '', 'bottom-mid': '', 'bottom-right': '' }),
      },
      wordWrap: true,
      colWidths: colWidths as number[],
    });
    for (const h of rows) {
      itemDone();
      t.push([style.yellow(h.id), h.type, h.created.slice(0, 16).replace('T', ' '), h.title, style.cyan(h.tags.join(', '))]);
    }
    return t;
  };
  let colWidths: (number | null)[] | undefined;
  let shown = 0;
  let rows: MemoryHeader[] = [];
  for (const page of pages) {
    for (const h of page.memories) {
      if (rows.length === listTableLimits.rows) {
        if (!colWidths) {
          // cli-table3 writes the widths it computes into the array it was given.
          const sizing = table(rows, [null, null, null, titleWidth, null], true, true);
          sizing.toString();
          colWidths = (sizing.options.colWidths as number[]).map((w, i) => Math.max(w, floors[i]));
        }
        yield table(rows, colWidths, shown === 0, false).toString();
        shown += rows.length;
        rows = [];
      }
      rows.push(h);
    }
  }
  if (!rows.length) {
    yield style.dim('no memories');
    return;
  }
  const last = table(rows, colWidths ?? [null, null, null, titleWidth, null], shown === 0, true).toString();
  shown += rows.length;
  yield last + (total > shown ? `\n${style.dim(`${shown} of ${total} shown`)}` : '');
}

function oneLine(text: string): string {
  return text.replace(/[\t\r\n]+/g, ' ');
}
