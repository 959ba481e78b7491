import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEMORY_TYPES } from '../../src/memory/types.js';
import { backendWith, find } from './search-suite.js';
import { fixtureMemories, fixtureQueries } from './fixture.js';

/** SPEC section 5: both backends return the same hits in the same order for the same data. */
describe('markdown and sqlite agree', () => {
  let markdown: Awaited<ReturnType<typeof backendWith>>;
  let sqlite: Awaited<ReturnType<typeof backendWith>>;
  beforeAll(async () => {
    const memories = fixtureMemories();
    markdown = await backendWith('markdown', memories);
    sqlite = await backendWith('sqlite', memories);
  });
  afterAll(() => {
    markdown.cleanup();
    sqlite.cleanup();
  });

  const queries = () => [
    ...fixtureQueries().map((q) => q.query),
    'docker',
    'the',
    '"connection pool"',
    'docker -compose',
    'nginx OR caddy',
    'kube*',
    'c++ OR rust',
    'AND',
  ];

  it('gives identical hits, scores, snippets and order for every query and filter', () => {
    const variants = [{}, { types: [...MEMORY_TYPES], limit: 50 }, { tags: ['security'] }, { titlesOnly: true }, { since: '2024-03-01T00:00:00.000Z' }];
    for (const q of queries()) {
      for (const options of variants) {
        const a = find(markdown.storage, q, options);
        const b = find(sqlite.storage, q, options);
        expect(b, `${q} ${JSON.stringify(options)}`).toEqual(a);
      }
    }
  });
});
