import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MEMORY_TYPES, type Memory } from '../../src/memory/types.js';
import { COMPACT_AFTER, fetchMarks } from '../../src/search/fts.js';
import { parseQuery } from '../../src/search/query.js';
import type { SearchQuery } from '../../src/search/types.js';
import { INDEX_FILE } from '../../src/storage/markdown/search-index.js';
import { loadBackend } from '../../src/storage/registry.js';
import { openSqlite } from '../../src/storage/sqlite/driver.js';
import type { BackendName, StorageBackend } from '../../src/storage/types.js';
import { sampleMemory } from '../storage/conformance.js';
import { fixtureMemories, fixtureQueries } from './fixture.js';

/** A backend holding `memories` in a fresh temporary context. */
export async function backendWith(backendName: BackendName, memories: Memory[]) {
  const dir = mkdtempSync(join(tmpdir(), `wm-search-${backendName}-`));
  const factory = await loadBackend(backendName);
  factory.create(dir);
  const storage = factory.open(dir, {});
  storage.insertMany(memories);
  return {
    dir,
    storage,
    reopen(): StorageBackend {
      this.storage.close();
      this.storage = factory.open(dir, {});
      return this.storage;
    },
    cleanup() {
      this.storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Counts the rows the search index marks matched words in (its `highlight` statements), in this
 * process, until `restore`.
 */
export function countMarkedRows(): { rows: number; restore(): void } {
  // Through the driver the storage code uses: the statements' class is the native addon's, and the
  // addon loaded another way (better-sqlite3's own loader) would be another instance of it.
  const probe = openSqlite(':memory:', {});
  const proto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as { all(...args: unknown[]): unknown[] };
  probe.close();
  const all = proto.all;
  const counter = {
    rows: 0,
    restore: () => {
      proto.all = all;
    },
  };
  proto.all = function (this: { source: string }, ...args: unknown[]) {
    const rows = all.apply(this, args);
    if (this.source.includes('highlight(')) counter.rows += rows.length;
    return rows;
  };
  return counter;
}

/** Search with a query string and options, the way commands do. */
export function find(storage: StorageBackend, text: string, options: Omit<SearchQuery, 'query'> = {}) {
  return storage.search({ query: parseQuery(text), ...options });
}

const titles = (storage: StorageBackend, text: string, options: Omit<SearchQuery, 'query'> = {}) =>
  find(storage, text, options).hits.map((h) => h.title);

const ALL_TYPES = [...MEMORY_TYPES];

/**
 * The search suite: written once against StorageBackend.search and run by every backend, so that
 * both give the same hits in the same order (test/search/<backend>.test.ts).
 */
export function searchSuite(backendName: BackendName): void {
  describe(`search: ${backendName}`, () => {
    describe('relevance on real text', () => {
      let ctx: Awaited<ReturnType<typeof backendWith>>;
      beforeAll(async () => {
        ctx = await backendWith(backendName, fixtureMemories());
      });
      afterAll(() => ctx.cleanup());

      it('has a fixture of at least 200 memories and 30 queries', () => {
        expect(fixtureMemories().length).toBeGreaterThanOrEqual(200);
        expect(fixtureQueries().length).toBeGreaterThanOrEqual(30);
      });

      it('ranks the expected memory first for most queries and in the top 3 for all', () => {
        const queries = fixtureQueries();
        const ranks = queries.map((q) => ({ q, rank: titles(ctx.storage, q.query, { types: ALL_TYPES, limit: 10 }).indexOf(q.expect) }));
        const notInTop3 = ranks.filter((r) => r.rank < 0 || r.rank > 2).map((r) => `${r.q.query} -> ${r.rank}`);
        expect(notInTop3).toEqual([]);
        const first = ranks.filter((r) => r.rank === 0).length;
        expect(first / queries.length).toBeGreaterThanOrEqual(0.9);
      });

      it('weights the title above the body', () => {
        // "connection" is in some titles and only in the body of others.
        const r = find(ctx.storage, 'connection', { types: ALL_TYPES }).hits;
        const inTitle = r.findIndex((h) => /connection/i.test(h.title));
        const bodyOnly = r.findIndex((h) => !/connection/i.test(h.title));
        expect(inTitle).toBeGreaterThanOrEqual(0);
        expect(inTitle).toBeLessThan(bodyOnly);
      });

      it('gives scores best first, and equal scores newest first', () => {
        const hits = find(ctx.storage, 'docker', { types: ALL_TYPES, limit: 100 }).hits;
        expect(hits.length).toBeGreaterThan(5);
        for (let i = 1; i < hits.length; i++) {
          const [a, b] = [hits[i - 1], hits[i]];
          expect(a.score > b.score || (a.score === b.score && a.id > b.id)).toBe(true);
        }
      });

      it('limits to 20 by default and counts every match', () => {
        const r = find(ctx.storage, 'the', { types: ALL_TYPES });
        expect(r.hits).toHaveLength(20);
        expect(r.total).toBeGreaterThan(20);
        expect(find(ctx.storage, 'the', { types: ALL_TYPES, limit: 3 }).hits).toHaveLength(3);
      });
    });

    describe('the shape of the index', () => {
      /** Segments of the FTS5 index: the structure record is a 4-byte cookie, then varints nLevel and nSegment. */
      const segments = (dir: string): number => {
        const db = openSqlite(join(dir, backendName === 'sqlite' ? 'whitemagic.db' : INDEX_FILE), { readonly: true });
        try {
          const { block } = db.prepare('SELECT block FROM search_fts_data WHERE id = 10').get() as { block: Buffer };
          let at = 4;
          const varint = () => {
            let v = 0;
            for (;;) {
              const b = block[at++];
              v = v * 128 + (b & 0x7f);
              if (!(b & 0x80)) return v;
            }
          };
          varint(); // levels
          return varint();
        } finally {
          db.close();
        }
      };
      const words = 'latency cache pool deploy kernel vacuum index ranking snippet merge segment token schema replica shard queue'.split(' ');
      // Long and varied enough that FTS5 writes a bulk fill as several segments.
      const many = (n: number, from: number) =>
        Array.from({ length: n }, (_, i) =>
          sampleMemory({ title: `Note ${from + i}`, content: Array.from({ length: 300 }, (_, w) => `${words[(i * 7 + w * 13) % words.length]}${(i + w) % 97}`).join(' ') }, Date.UTC(2024, 0, 1) + (from + i) * 1000),
        );

      it('is merged whole after a bulk write of most of it, and left to FTS5 after small writes', async () => {
        const ctx = await backendWith(backendName, many(COMPACT_AFTER + 200, 0));
        try {
          expect(find(ctx.storage, 'latency0').total).toBeGreaterThan(0); // markdown: the first search fills the index
          expect(segments(ctx.dir)).toBe(1);
          for (const m of many(3, COMPACT_AFTER + 200)) ctx.storage.insert(m);
          expect(find(ctx.storage, 'latency0').total).toBeGreaterThan(0);
          expect(segments(ctx.dir)).toBeGreaterThan(1);
          ctx.storage.reindex();
          expect(segments(ctx.dir)).toBe(1);
        } finally {
          ctx.cleanup();
        }
      });
    });

    describe('operators and filters', () => {
      let ctx: Awaited<ReturnType<typeof backendWith>>;
      const day = 86_400_000;
      const base = Date.UTC(2024, 2, 1);
      const memories = [
        sampleMemory({ title: 'Docker compose basics', content: 'Services, networks and volumes in one file.', tags: ['docker', 'compose'] }, base),
        sampleMemory({ title: 'Docker swarm notes', content: 'Running services across machines without compose.', tags: ['docker'] }, base + day),
        sampleMemory({ title: 'Kubernetes deployments', content: 'A deployment manages replica sets; docker images run in pods.', tags: ['kubernetes'] }, base + 2 * day),
        sampleMemory({ title: 'Connection pool sizing', content: 'The pool size should match the connection limit of the database.', tags: ['database'], type: 'long_term' }, base + 3 * day),
        sampleMemory({ title: 'Pool party plans', content: 'Connection to the garden hose, size of the pool, snacks.', tags: ['life'] }, base + 4 * day),
        sampleMemory({ title: 'Old docker notes', content: 'Legacy docker machine setup.', tags: ['docker'], type: 'archive' }, base + 5 * day),
        sampleMemory({ title: 'C++ templates', content: 'Template metaprogramming in C++ and foo-bar naming; café au lait.', tags: ['cpp'] }, base + 6 * day),
        sampleMemory({ title: 'Deployment checklist', content: 'Deploying on Fridays is fine with good tests.', tags: ['release'] }, base + 7 * day),
      ];
      beforeEach(async () => {
        ctx = await backendWith(backendName, memories);
      });
      afterEach(() => ctx.cleanup());

      it('orders equal scores newest first, also across the limit', async () => {
        const same = Array.from({ length: 5 }, (_, i) => sampleMemory({ title: 'Identical twin', content: 'same words' }, base + (10 + i) * day));
        const twins = await backendWith(backendName, same);
        try {
          const newest = same.map((m) => m.id).sort().reverse();
          expect(find(twins.storage, 'identical', { limit: 2 }).hits.map((h) => h.id)).toEqual(newest.slice(0, 2));
          expect(find(twins.storage, 'identical').hits.map((h) => h.id)).toEqual(newest);
          expect(find(twins.storage, 'identical', { limit: 2 }).total).toBe(5);
        } finally {
          twins.cleanup();
        }
      });

      it('requires every word', () => {
        expect(titles(ctx.storage, 'docker compose')).toEqual(['Docker compose basics', 'Docker swarm notes']);
        expect(titles(ctx.storage, 'docker kubernetes')).toEqual(['Kubernetes deployments']);
        expect(titles(ctx.storage, 'docker nonexistentword')).toEqual([]);
      });

      it('matches "phrases" as words in order', () => {
        expect(titles(ctx.storage, '"connection limit"')).toEqual(['Connection pool sizing']);
        expect(titles(ctx.storage, '"limit connection"')).toEqual([]);
        expect(titles(ctx.storage, 'connection pool').sort()).toEqual(['Connection pool sizing', 'Pool party plans']);
      });

      it('leaves out -excluded words, anywhere in the memory', () => {
        expect(titles(ctx.storage, 'docker -compose')).toEqual(['Kubernetes deployments']);
        expect(titles(ctx.storage, 'pool -"garden hose"')).toEqual(['Connection pool sizing']);
        expect(titles(ctx.storage, 'docker NOT compose')).toEqual(['Kubernetes deployments']);
      });

      it('takes OR between words as alternatives', () => {
        expect(titles(ctx.storage, 'swarm OR kubernetes').sort()).toEqual(['Docker swarm notes', 'Kubernetes deployments']);
        expect(titles(ctx.storage, 'docker swarm OR replica').sort()).toEqual(['Docker swarm notes', 'Kubernetes deployments']);
        // Lower-case "or" is a word like any other.
        expect(titles(ctx.storage, 'swarm or kubernetes')).toEqual([]);
      });

      it('matches by prefix of the stem, and with an explicit *', () => {
        // "deploy" is a word of the index (stemmed from "deploying"): matched whole, by stem.
        expect(titles(ctx.storage, 'deploy')).toEqual(['Deployment checklist']);
        expect(titles(ctx.storage, 'deploy*').sort()).toEqual(['Deployment checklist', 'Kubernetes deployments']);
        // "swar" is no word of the index: matched as a prefix.
        expect(titles(ctx.storage, 'swar')).toEqual(['Docker swarm notes']);
        expect(titles(ctx.storage, 'kube*')).toEqual(['Kubernetes deployments']);
        expect(titles(ctx.storage, 'deployments').sort()).toEqual(['Deployment checklist', 'Kubernetes deployments']);
        expect(titles(ctx.storage, 'metaprogram')).toEqual(['C++ templates']);
      });

      it('copes with awkward queries: c++, foo-bar, accents, "unclosed', () => {
        expect(titles(ctx.storage, 'c++')).toEqual(['C++ templates']);
        expect(titles(ctx.storage, 'foo-bar')).toEqual(['C++ templates']);
        expect(titles(ctx.storage, 'cafe')).toEqual(['C++ templates']);
        expect(titles(ctx.storage, '"garden hose')).toEqual(['Pool party plans']);
        // Alone, AND is the word "and".
        expect(titles(ctx.storage, 'AND').sort()).toEqual(['C++ templates', 'Docker compose basics']);
        expect(titles(ctx.storage, 'pool AND party')).toEqual(['Pool party plans']);
        expect(titles(ctx.storage, 'title:docker NEAR(x) ^swarm')).toEqual([]);
      });

      it('filters by type, archive only when asked', () => {
        expect(titles(ctx.storage, 'docker')).not.toContain('Old docker notes');
        expect(titles(ctx.storage, 'docker', { types: ALL_TYPES })).toContain('Old docker notes');
        expect(titles(ctx.storage, 'docker', { types: ['archive'] })).toEqual(['Old docker notes']);
        expect(titles(ctx.storage, 'connection', { types: ['long_term'] })).toEqual(['Connection pool sizing']);
      });

      it('requires every --tag', () => {
        expect(titles(ctx.storage, 'docker', { tags: ['docker'] }).sort()).toEqual(['Docker compose basics', 'Docker swarm notes']);
        expect(titles(ctx.storage, 'docker', { tags: ['docker', 'compose'] })).toEqual(['Docker compose basics']);
        expect(titles(ctx.storage, 'docker', { tags: ['nope'] })).toEqual([]);
      });

      it('filters by creation time, both ends inclusive', () => {
        const at = (d: number) => new Date(base + d * day).toISOString();
        expect(titles(ctx.storage, 'docker', { since: at(1), until: at(2) }).sort()).toEqual(['Docker swarm notes', 'Kubernetes deployments']);
        expect(titles(ctx.storage, 'docker', { since: at(2) })).toEqual(['Kubernetes deployments']);
      });

      it('matches titles only with titlesOnly, exclusions still on the whole memory', () => {
        expect(titles(ctx.storage, 'docker', { titlesOnly: true }).sort()).toEqual(['Docker compose basics', 'Docker swarm notes']);
        expect(titles(ctx.storage, 'docker -machines', { titlesOnly: true })).toEqual(['Docker compose basics']);
      });

      it('searches tags', () => {
        expect(titles(ctx.storage, 'cpp')).toEqual(['C++ templates']);
      });

      it('gives snippets with the matched words located', () => {
        const [hit] = find(ctx.storage, 'replica pods').hits;
        expect(hit.snippet.text).toBe('A deployment manages replica sets; docker images run in pods.');
        expect(hit.snippet.matches.map(([s, e]) => hit.snippet.text.slice(s, e))).toEqual(['replica', 'pods']);
        const [titled] = find(ctx.storage, 'swarm').hits;
        expect(titled.titleMarks.matches.map(([s, e]) => titled.titleMarks.text.slice(s, e))).toEqual(['swarm']);
        // Matched in the title only: the snippet is the start of the body, nothing marked.
        expect(titled.snippet).toEqual({ text: 'Running services across machines without compose.', matches: [] });
      });

      it('marks the words of every hit with the ranking, or, deferred, of the hits asked for', () => {
        const marked = countMarkedRows();
        try {
          // One hit: SQLite turns `rowid IN (?)` into `rowid = ?`, which FTS5 ignores for a bound
          // number; every match was marked to show one.
          const [one] = find(ctx.storage, 'docker', { limit: 1 }).hits;
          expect(marked.rows).toBe(1);
          expect(one.titleMarks.matches.length).toBe(1);
          marked.rows = 0;
          const all = find(ctx.storage, 'docker', { types: ALL_TYPES });
          expect(all.hits.length).toBe(4);
          expect(marked.rows).toBe(4);

          marked.rows = 0;
          const deferred = find(ctx.storage, 'docker', { types: ALL_TYPES, deferMarks: true }).hits;
          expect(marked.rows).toBe(0);
          fetchMarks([deferred[0], deferred[2]]);
          expect(marked.rows).toBe(2);
          expect(deferred.map((h) => h.snippet)).toEqual(all.hits.map((h) => h.snippet));
          expect(deferred.map((h) => h.titleMarks)).toEqual(all.hits.map((h) => h.titleMarks));
          // The two not asked for were each fetched alone when read.
          expect(marked.rows).toBe(4);
        } finally {
          marked.restore();
        }
      });

      it('returns the hit fields', () => {
        const [hit] = find(ctx.storage, 'swarm').hits;
        const m = memories[1];
        expect(hit).toMatchObject({ id: m.id, title: m.title, type: m.type, tags: m.tags, created: m.created, updated: m.updated });
        expect(hit.score).toBeGreaterThan(0);
      });

      it('sees updates and removals', () => {
        const m = memories[1];
        ctx.storage.update({ ...m, title: 'Nomad notes', content: 'HashiCorp scheduler.', updated: new Date(base + 9 * day).toISOString() });
        expect(titles(ctx.storage, 'swarm')).toEqual([]);
        expect(titles(ctx.storage, 'hashicorp')).toEqual(['Nomad notes']);
        ctx.storage.update({ ...m, title: 'Nomad notes', content: 'HashiCorp scheduler.', type: 'archive' });
        expect(titles(ctx.storage, 'hashicorp')).toEqual([]);
        ctx.storage.remove(m.id);
        expect(titles(ctx.storage, 'hashicorp', { types: ALL_TYPES })).toEqual([]);
        const fresh = sampleMemory({ title: 'Brand new zeppelin' });
        ctx.storage.insert(fresh);
        expect(titles(ctx.storage, 'zeppelin')).toEqual(['Brand new zeppelin']);
        ctx.reopen();
        expect(titles(ctx.storage, 'zeppelin')).toEqual(['Brand new zeppelin']);
      });

      it('rebuilds its index with reindex and then agrees with the memories', () => {
        const before = find(ctx.storage, 'docker', { types: ALL_TYPES });
        expect(ctx.storage.reindex()).toEqual({ indexed: memories.length });
        expect(find(ctx.storage, 'docker', { types: ALL_TYPES })).toEqual(before);
        expect(ctx.storage.checkIndex()).toMatchObject({ present: true, drift: [] });
        expect(ctx.storage.checkIndex().corrupt).toBeUndefined();
      });
    });
  });
}
