import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryManager, NotFoundError, UsageError } from '../../src/index.js';
import { countMarkedRows } from './search-suite.js';

describe('MemoryManager search, searchFederated, reindex, doctor', () => {
  let home: string;
  const env = () => ({ WHITEMAGIC_HOME: home });
  const manager = (context: string) => new MemoryManager({ context, env: env() });

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'wm-lib-search-'));
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it('searches one context and several, with the same rules as the CLI', async () => {
    const work = manager('work');
    const a = await work.createMemory({ title: 'Deploy checklist', content: 'Run migrations before the deploy.', tags: ['release'] });
    await work.createMemory({ title: 'Lunch places', content: 'Noodles on Friday.' });
    await manager('home').createMemory({ title: 'Deploy the garden shed', content: 'Flat-pack instructions.' });

    const one = await work.search('deploy', { limit: 5 });
    expect(one.hits.map((h) => h.id)).toEqual([a.id]);
    expect(one.hits[0].snippet.matches.length).toBeGreaterThan(0);
    await expect(work.search({ query: '  ' })).rejects.toThrow(UsageError);

    const both = await work.searchFederated('deploy');
    expect(both.contexts).toEqual(['home', 'work']);
    expect(both.hits.map((h) => [h.context, h.score])).toEqual([
      ['home', 1],
      ['work', 1],
    ]);
    await expect(work.searchFederated({ query: 'deploy', contexts: ['work', 'missing'] })).rejects.toThrow(NotFoundError);
  });

  it('marks the words of the hits a federated search keeps, not of every hit of every context', async () => {
    for (const [name, backend] of [['a', 'markdown'], ['b', 'sqlite'], ['c', 'markdown']] as const) {
      const m = new MemoryManager({ context: name, backend, env: env() });
      for (let i = 0; i < 5; i++) await m.createMemory({ title: `Deploy step ${i}`, content: `Deploy ${name} ${'and then '.repeat(i)}done.` });
    }
    const marked = countMarkedRows();
    try {
      const r = await manager('a').searchFederated('deploy', { contexts: 'all', limit: 4 });
      expect(r.hits.length).toBe(4);
      for (const hit of r.hits) expect(hit.titleMarks.matches.length).toBe(1);
      expect(r.hits.every((h) => h.snippet.text.startsWith('Deploy'))).toBe(true);
      expect(marked.rows).toBe(4);
    } finally {
      marked.restore();
    }
  });

  it('reindexes and checks a context', async () => {
    const m = manager('work');
    await m.createMemory({ title: 'One', content: 'x' });
    expect(await m.reindex()).toMatchObject({ indexed: 1, backend: 'markdown' });
    expect(await m.doctor()).toMatchObject({ ok: true, problems: [], index: { present: true, pending: 0, drift: [] } });
  });
});
