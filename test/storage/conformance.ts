import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError } from '../../src/errors.js';
import { newId } from '../../src/memory/ids.js';
import type { Memory, MemoryType } from '../../src/memory/types.js';
import { loadBackend } from '../../src/storage/registry.js';
import type { BackendFactory, BackendName, StorageBackend } from '../../src/storage/types.js';

/** A memory for tests; `at` fixes its times so orders are predictable. */
export function sampleMemory(over: Partial<Memory> = {}, at = Date.now()): Memory {
  const iso = new Date(at).toISOString();
  return {
    id: newId(at),
    title: 'A memory',
    content: 'Some *markdown* body.',
    type: 'short_term',
    tags: ['alpha'],
    created: iso,
    updated: iso,
    meta: {},
    ...over,
  };
}

/** A varied set: unicode, empty body, many tags, extra keys of each kind, all three types. */
export function variedMemories(base = Date.UTC(2024, 0, 1)): Memory[] {
  const day = 86_400_000;
  return [
    sampleMemory({ title: 'Ünïcödé ✓ 日本語 title', content: 'Body with emoji 🚀\nand a second line\n\n- list item', tags: ['unicode', 'ß'] }, base),
    sampleMemory({ title: 'Empty body', content: '', tags: [] }, base + day),
    sampleMemory({ title: 'Many tags', tags: Array.from({ length: 30 }, (_, i) => `tag-${i}`) }, base + 2 * day),
    sampleMemory(
      {
        title: 'Extra keys: "quoted" / slashed',
        type: 'long_term',
        meta: { source: 'https://example.com', priority: 3, flag: true, nested: { a: [1, 2] }, empty: null, list: ['x', 'y'] },
      },
      base + 3 * day,
    ),
    sampleMemory({ title: 'Archived one', type: 'archive', tags: ['old'], meta: { archived_from: 'short_term' } }, base + 4 * day),
    sampleMemory({ title: 'Dashes in body', content: '---\nlooks: like yaml\n---\ntext' }, base + 5 * day),
  ];
}

/**
 * The storage conformance suite: written once against StorageBackend and run by every backend
 * (test/storage/<backend>.test.ts). A backend-specific test file adds cases; it never copies these.
 */
export function storageConformanceSuite(backendName: BackendName): void {
  describe(`storage conformance: ${backendName}`, () => {
    let dir: string;
    let factory: BackendFactory;
    let storage: StorageBackend;

    const reopen = () => {
      storage.close();
      storage = factory.open(dir, {});
      return storage;
    };

    beforeEach(async () => {
      dir = mkdtempSync(join(tmpdir(), `wm-conf-${backendName}-`));
      factory = await loadBackend(backendName);
      factory.create(dir);
      storage = factory.open(dir, {});
    });

    afterEach(() => {
      storage.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('declares its name and capabilities', () => {
      expect(storage.name).toBe(backendName);
      expect(typeof storage.capabilities.handEditable).toBe('boolean');
      expect(typeof storage.capabilities.transactions).toBe('boolean');
      expect(typeof storage.capabilities.staysCurrent).toBe('boolean');
    });

    it('an instance that says it stays current sees writes made through another one', () => {
      const other = factory.open(dir, {});
      try {
        storage.list({});
        const [kept, changed, removed] = [sampleMemory({ title: 'Kept' }), sampleMemory({ title: 'Old title' }), sampleMemory({ title: 'Removed' })];
        other.insertMany([changed, removed]);
        other.insert(kept);
        other.update({ ...changed, title: 'New title' });
        other.remove(removed.id);
        const titles = storage.list({}).memories.map((m) => m.title).sort();
        if (storage.capabilities.staysCurrent) {
          expect(titles).toEqual(['Kept', 'New title']);
          expect(storage.read(changed.id)?.title).toBe('New title');
          expect(storage.read(removed.id)).toBeUndefined();
        } else {
          // A per-command picture: what this instance saw first, until it is reopened.
          expect(titles).toEqual([]);
        }
        expect(reopen().list({}).memories.map((m) => m.title).sort()).toEqual(['Kept', 'New title']);
      } finally {
        other.close();
      }
    });

    it('starts empty', () => {
      expect(storage.list({}).memories).toEqual([]);
      expect(storage.summary().counts).toEqual({ short_term: 0, long_term: 0, archive: 0 });
      expect(storage.problems()).toEqual([]);
    });

    it('stores and reads back every field exactly, across a reopen', () => {
      const memories = variedMemories();
      for (const m of memories) storage.insert(m);
      reopen();
      for (const m of memories) expect(storage.read(m.id)).toEqual(m);
    });

    it('refuses a second memory with the same id', () => {
      const m = sampleMemory();
      storage.insert(m);
      expect(() => storage.insert({ ...m, title: 'other' })).toThrow(ConflictError);
      expect(storage.read(m.id)?.title).toBe('A memory');
    });

    it('reads undefined for an unknown id', () => {
      expect(storage.read('01zzzzzzzzzzzzzzzzzzzzzzzz')).toBeUndefined();
    });

    it('updates in place, moving between types', () => {
      const m = sampleMemory();
      storage.insert(m);
      const changed: Memory = { ...m, title: 'New title', content: 'New body', tags: ['beta'], type: 'long_term', meta: { k: 'v' } };
      storage.update(changed);
      expect(storage.read(m.id)).toEqual(changed);
      reopen();
      expect(storage.read(m.id)).toEqual(changed);
      expect(storage.list({ types: ['short_term'] }).memories).toHaveLength(0);
      expect(storage.list({ types: ['long_term'] }).memories.map((h) => h.id)).toEqual([m.id]);
      expect(storage.summary().counts).toEqual({ short_term: 0, long_term: 1, archive: 0 });
    });

    it('refuses to update an unknown id', () => {
      expect(() => storage.update(sampleMemory())).toThrow(NotFoundError);
    });

    it('removes for good', () => {
      const m = sampleMemory();
      storage.insert(m);
      expect(storage.remove(m.id)).toBe(true);
      expect(storage.remove(m.id)).toBe(false);
      expect(storage.read(m.id)).toBeUndefined();
      reopen();
      expect(storage.read(m.id)).toBeUndefined();
    });

    describe('list', () => {
      const base = Date.UTC(2024, 5, 1);
      const hour = 3_600_000;
      let ids: Record<string, string>;

      beforeEach(() => {
        const spec: Array<[string, MemoryType, string[], number, number]> = [
          ['banana', 'short_term', ['fruit', 'yellow'], 0, 5],
          ['apple', 'short_term', ['fruit'], 1, 1],
          ['carrot', 'long_term', ['vegetable'], 2, 2],
          ['durian', 'archive', ['fruit'], 3, 3],
          ['Eggplant', 'long_term', ['vegetable', 'fruit'], 4, 4],
        ];
        ids = {};
        for (const [title, type, tags, createdH, updatedH] of spec) {
          const m = sampleMemory({ title, type, tags }, base + createdH * hour);
          m.updated = new Date(base + updatedH * hour).toISOString();
          storage.insert(m);
          ids[title] = m.id;
        }
        reopen();
      });

      const titles = (q: Parameters<StorageBackend['list']>[0]) => storage.list(q).memories.map((h) => h.title);

      it('shows short and long term, newest first, archive only when asked', () => {
        expect(titles({})).toEqual(['Eggplant', 'carrot', 'apple', 'banana']);
        expect(titles({ types: ['short_term', 'long_term', 'archive'] })).toEqual(['Eggplant', 'durian', 'carrot', 'apple', 'banana']);
        expect(titles({ types: ['archive'] })).toEqual(['durian']);
      });

      it('requires every tag', () => {
        expect(titles({ tags: ['fruit'] })).toEqual(['Eggplant', 'apple', 'banana']);
        expect(titles({ tags: ['fruit', 'yellow'] })).toEqual(['banana']);
        expect(titles({ tags: ['nope'] })).toEqual([]);
      });

      it('filters by creation time, both ends inclusive', () => {
        const at = (h: number) => new Date(base + h * hour).toISOString();
        expect(titles({ since: at(1), until: at(2) })).toEqual(['carrot', 'apple']);
        expect(titles({ since: at(4) })).toEqual(['Eggplant']);
      });

      it('sorts by created, updated or title (by code point), and reverses', () => {
        expect(titles({ sort: 'updated' })).toEqual(['banana', 'Eggplant', 'carrot', 'apple']);
        expect(titles({ sort: 'title' })).toEqual(['Eggplant', 'apple', 'banana', 'carrot']);
        expect(titles({ sort: 'title', reverse: true })).toEqual(['carrot', 'banana', 'apple', 'Eggplant']);
        expect(titles({ reverse: true })).toEqual(['banana', 'apple', 'carrot', 'Eggplant']);
      });

      it('sorts titles by code point: an astral character (emoji) after the U+FF00 range', () => {
        // UTF-16 code units would put the emoji (a surrogate pair) first; code points put it last.
        storage.insert(sampleMemory({ title: '\u{1F600} grin', type: 'archive' }, base));
        storage.insert(sampleMemory({ title: '\uFF21 fullwidth A', type: 'archive' }, base));
        storage.insert(sampleMemory({ title: '\uE000 private use', type: 'archive' }, base));
        expect(titles({ types: ['archive'], sort: 'title' })).toEqual(['durian', '\uE000 private use', '\uFF21 fullwidth A', '\u{1F600} grin']);
        expect(titles({ types: ['archive'], sort: 'title', reverse: true })).toEqual(['\u{1F600} grin', '\uFF21 fullwidth A', '\uE000 private use', 'durian']);
      });

      it('limits, and says how many matched', () => {
        const r = storage.list({ limit: 2 });
        expect(r.memories.map((h) => h.title)).toEqual(['Eggplant', 'carrot']);
        expect(r.total).toBe(4);
      });

      it('breaks ties by id, newest first', () => {
        const same = Date.UTC(2030, 0, 1);
        const a = sampleMemory({ title: 'tie' }, same);
        const b = sampleMemory({ title: 'tie' }, same);
        storage.insert(a);
        storage.insert(b);
        const got = storage.list({ limit: 2 }).memories.map((h) => h.id);
        expect(got).toEqual([a.id, b.id].sort().reverse());
      });

      it('gives headers with the fields and a size, no body', () => {
        const [h] = storage.list({ types: ['archive'] }).memories;
        expect(h).toMatchObject({ id: ids.durian, title: 'durian', type: 'archive', tags: ['fruit'] });
        expect(h.bytes).toBeGreaterThan(0);
        expect(typeof h.name).toBe('string');
        expect('content' in h).toBe(false);
      });

      it('summarises counts, tags and bytes', () => {
        const s = storage.summary();
        expect(s.counts).toEqual({ short_term: 2, long_term: 2, archive: 1 });
        expect(s.tags).toEqual({ fruit: 4, yellow: 1, vegetable: 2 });
        // Tag keys in code point order, so --json is the same bytes on every backend.
        expect(Object.keys(s.tags)).toEqual(['fruit', 'vegetable', 'yellow']);
        expect(s.bytes).toBeGreaterThan(0);
      });
    });

    describe('lookup', () => {
      it('finds by exact id, by case-insensitive prefix, by name', () => {
        const a = sampleMemory({ title: 'First' });
        storage.insert(a);
        expect(storage.lookup(a.id).map((h) => h.id)).toEqual([a.id]);
        expect(storage.lookup(a.id.slice(0, 12).toUpperCase()).map((h) => h.id)).toEqual([a.id]);
        const [h] = storage.lookup(a.id);
        expect(storage.lookup(h.name).map((x) => x.id)).toEqual([a.id]);
        expect(storage.lookup('nothing-like-this')).toEqual([]);
      });

      it('names a new memory date_slug_suffix, the same on every backend, and keeps it through updates', () => {
        const m = sampleMemory({ title: 'Named: Thing!' }, Date.UTC(2024, 2, 3, 4, 5, 6));
        const [h] = [storage.insert(m)];
        expect(h.name).toBe(`2024-03-03_named-thing_${m.id.slice(-8)}`);
        storage.update({ ...m, title: 'Renamed', type: 'long_term' });
        reopen();
        expect(storage.lookup(h.name).map((x) => [x.id, x.name])).toEqual([[m.id, h.name]]);
      });

      it('keeps the name a memory carried from another backend', () => {
        const m = sampleMemory({ title: 'Carried' });
        storage.insertMany([{ ...m, name: 'notes-by-hand' }]);
        reopen();
        expect(storage.lookup('notes-by-hand').map((x) => x.id)).toEqual([m.id]);
        expect(storage.read(m.id)).toEqual(m);
        const unsafe = sampleMemory({ title: 'Unsafe name' }, Date.UTC(2024, 0, 2));
        storage.insert({ ...unsafe, name: '../escape' });
        expect(storage.lookup(unsafe.id)[0].name).toBe(`2024-01-02_unsafe-name_${unsafe.id.slice(-8)}`);
      });

      it('returns every candidate of a shared prefix', () => {
        const t = Date.UTC(2025, 0, 1);
        const a = sampleMemory({}, t);
        const b = sampleMemory({}, t);
        storage.insert(a);
        storage.insert(b);
        expect(storage.lookup(a.id.slice(0, 10)).map((h) => h.id).sort()).toEqual([a.id, b.id].sort());
      });
    });

    it('reads all memories with bodies in id order', () => {
      const memories = variedMemories();
      for (const m of [...memories].reverse()) storage.insert(m);
      reopen();
      expect([...storage.readAll()]).toEqual([...memories].sort((x, y) => (x.id < y.id ? -1 : 1)));
    });

    it('inserts many, with skip, replace and fail on conflicts', () => {
      const [a, b, c] = variedMemories();
      expect(storage.insertMany([a, b])).toEqual({ inserted: 2, skipped: 0, replaced: 0 });
      const a2 = { ...a, title: 'replaced' };
      expect(storage.insertMany([a2, c], 'skip')).toEqual({ inserted: 1, skipped: 1, replaced: 0 });
      expect(storage.read(a.id)?.title).toBe(a.title);
      expect(storage.insertMany([a2], 'replace')).toEqual({ inserted: 0, skipped: 0, replaced: 1 });
      expect(storage.read(a.id)?.title).toBe('replaced');
      expect(() => storage.insertMany([b], 'fail')).toThrow(ConflictError);
      reopen();
      expect(storage.summary().counts.short_term + storage.summary().counts.long_term + storage.summary().counts.archive).toBe(3);
    });
  });
}
