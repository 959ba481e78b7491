import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Memory } from '../../src/memory/types.js';
import { listPages } from '../../src/storage/list-pages.js';
import { loadBackend } from '../../src/storage/registry.js';
import type { BackendName, ListQuery, StorageBackend } from '../../src/storage/types.js';
import { sampleMemory } from './conformance.js';

/**
 * Memories over a few days, runs of them created at the same millisecond (longer than a page of
 * two or three, so a page ends inside a run), of every type.
 */
function seeds(): Memory[] {
  const day = Date.UTC(2026, 0, 1);
  const out: Memory[] = [];
  const types = ['short_term', 'long_term', 'archive'] as const;
  for (let i = 0; i < 40; i++) {
    const at = day + Math.floor(i / 5) * 3_600_000; // five at each time
    out.push(sampleMemory({ title: `Memory ${i}`, type: types[i % 3] }, at));
  }
  return out;
}

describe.each(['markdown', 'sqlite'] as BackendName[])('a list read a page at a time (%s)', (backend) => {
  let dir: string | undefined;
  let storage: StorageBackend | undefined;
  afterEach(() => {
    storage?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('gives exactly the one-call list, each memory once, for any page size, across memories created at one time', async () => {
    dir = mkdtempSync(join(tmpdir(), 'wm-pages-'));
    const factory = await loadBackend(backend);
    factory.create(dir);
    storage = factory.open(dir, {});
    storage.insertMany(seeds());
    const all = ['short_term', 'long_term', 'archive'] as const;
    const queries: ListQuery[] = [
      { types: [...all] },
      { types: [...all], reverse: true },
      { types: ['short_term', 'long_term'] },
      { types: [...all], limit: 7 },
      { types: [...all], reverse: true, limit: 13 },
      { types: [...all], since: '2026-01-01T01:00:00.000Z', until: '2026-01-01T05:00:00.000Z' },
      { types: [...all], since: '2026-01-01T02:00:00.000Z', reverse: true, limit: 9 },
    ];
    for (const query of queries) {
      const whole = storage.list(query);
      for (const page of [1, 2, 3, 5, 6, 100]) {
        const pages = [...listPages(storage, query, page)];
        const ids = pages.flatMap((p) => p.memories.map((m) => m.id));
        expect(ids, `${JSON.stringify(query)}, pages of ${page}`).toEqual(whole.memories.map((m) => m.id));
        expect(pages[0].total).toBe(whole.total);
        expect(pages.every((p) => p.memories.length <= page)).toBe(true);
      }
    }
  });
});
