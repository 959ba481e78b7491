import { describe, expect, it } from 'vitest';
import type { MemoryHeader } from '../../src/memory/types.js';
import { applyListQuery, comparator } from '../../src/storage/query.js';

/** Headers with many equal dates and titles, so ties decide much of the order. */
function headers(n: number): MemoryHeader[] {
  const types = ['short_term', 'long_term', 'archive'] as const;
  return Array.from({ length: n }, (_, i) => ({
    id: `id${String((i * 7919) % n).padStart(5, '0')}`,
    title: `title ${(i * 31) % 17}`,
    type: types[i % 3],
    tags: i % 4 ? ['a'] : ['a', 'b'],
    created: `2024-01-${String(1 + ((i * 13) % 5)).padStart(2, '0')}T00:00:00Z`,
    updated: `2024-02-${String(1 + ((i * 3) % 7)).padStart(2, '0')}T00:00:00Z`,
    meta: {},
    name: `n${i}`,
    bytes: i,
  }));
}

describe('applyListQuery with a limit', () => {
  it('gives the first N of the full sort, for every order, and the full total', () => {
    const all = headers(500);
    for (const sort of ['created', 'updated', 'title'] as const) {
      for (const reverse of [false, true]) {
        const full = all.filter((h) => h.type !== 'archive').sort(comparator(sort, reverse));
        for (const limit of [0, 1, 20, 333, 1000]) {
          const { memories, total } = applyListQuery(all, { sort, reverse, limit });
          expect(total).toBe(full.length);
          expect(memories.map((m) => m.id)).toEqual(full.slice(0, limit).map((m) => m.id));
        }
      }
    }
    const tagged = applyListQuery(all, { tags: ['b'], types: ['archive'], limit: 5 });
    expect(tagged.total).toBe(all.filter((h) => h.type === 'archive' && h.tags.includes('b')).length);
    expect(tagged.memories).toHaveLength(5);
  });
});
