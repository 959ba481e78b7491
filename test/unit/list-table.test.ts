import Table from 'cli-table3';
import { describe, expect, it } from 'vitest';
import type { MemoryHeader } from '../../src/memory/types.js';
import { listTableLimits, listTablePieces } from '../../src/output/memory.js';
import { plainStyle } from '../../src/output/style.js';
import type { ListResult } from '../../src/storage/types.js';

const header = (i: number, tags: string[], type: MemoryHeader['type'] = 'long_term'): MemoryHeader => ({
  id: `01JD${String(i).padStart(22, '0')}`,
  title: `Memory number ${i} with a title long enough to wrap in its column`,
  type,
  tags,
  created: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
  updated: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
  meta: {},
  name: `memory-${i}`,
  bytes: 100,
});

async function drawn(pages: ListResult[], total: number): Promise<string[]> {
  const parts: string[] = [];
  for await (const part of listTablePieces(pages, plainStyle, total)) parts.push(part);
  return parts;
}

const row = (h: MemoryHeader) => [h.id, h.type, h.created.slice(0, 16).replace('T', ' '), h.title, h.tags.join(', ')];
const options = (colWidths: (number | null)[]) => ({
  style: { head: [], border: [] },
  chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  wordWrap: true,
  colWidths: colWidths as number[],
});

describe('list on a terminal: a table drawn a part at a time', () => {
  // Rows past the first part carry longer tags, which must wrap in the first part's width.
  const count = 2 * listTableLimits.rows + 50;
  const memories = Array.from({ length: count }, (_, i) => i < listTableLimits.rows ? header(i, ['a']) : header(i, ['much-longer-tag', 'b'], 'short_term'));
  const pages: ListResult[] = [
    { memories: memories.slice(0, 150), total: count, problems: [] },
    { memories: memories.slice(150), total: count, problems: [] },
  ];

  it('joins its parts into the one table that the first part sizes', async () => {
    const parts = await drawn(pages, count);
    expect(parts).toHaveLength(3);
    // The oracle: cli-table3 drawing every row at once, with the first part's widths but no
    // narrower than an id, 'short_term', a date and 16 characters of tags (and padding).
    const sizing = new Table({ head: ['ID', 'TYPE', 'CREATED', 'TITLE', 'TAGS'], ...options([null, null, null, 40, null]) });
    for (const h of memories.slice(0, listTableLimits.rows)) sizing.push(row(h));
    sizing.toString();
    const widths = (sizing.options.colWidths as number[]).map((w, i) => Math.max(w, [28, 12, 18, 40, 18][i]));
    expect(widths[4]).toBe(18);
    const whole = new Table({ head: ['ID', 'TYPE', 'CREATED', 'TITLE', 'TAGS'], ...options(widths) });
    for (const h of memories) whole.push(row(h));
    expect(parts.join('\n')).toBe(whole.toString());

    const lines = parts.join('\n').split('\n');
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines.filter((l) => l.includes('TITLE'))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('┌'))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('└'))).toHaveLength(1);
    // Later rows' wider cells fit or wrap within their columns: every tag and type whole.
    expect(lines.filter((l) => l.includes('much-longer-tag')).length).toBe(count - listTableLimits.rows);
    expect(lines.filter((l) => l.includes('short_term')).length).toBe(count - listTableLimits.rows);
  });

  it('says how many are shown of a longer list, and when there are none', async () => {
    const some = await drawn([{ memories: memories.slice(0, 3), total: count, problems: [] }], count);
    expect(some).toHaveLength(1);
    expect(some[0].split('\n').at(-1)).toBe(`3 of ${count} shown`);
    expect((await drawn(pages, count)).at(-1)).not.toContain('shown');
    expect(await drawn([{ memories: [], total: 0, problems: [] }], 0)).toEqual(['no memories']);
  });
});
