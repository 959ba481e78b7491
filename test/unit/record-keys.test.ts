import { describe, expect, it } from 'vitest';
import { RecordKeys } from '../../src/storage/markdown/record-keys.js';

/** A seeded generator: the same cases every run. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('RecordKeys', () => {
  it('orders records as the strings compare: newest first, then id; and ids ignoring case', () => {
    const next = random(7);
    const pick = (chars: string, n: number) => Array.from({ length: n }, () => chars[Math.floor(next() * chars.length)]).join('');
    const created: string[] = [];
    const ids: string[] = [];
    const keys = new RecordKeys();
    // Enough to grow both buffers; few distinct dates and ids of varying length and case, so ties and prefixes are common.
    for (let r = 0; r < 5000; r++) {
      const c = `2024-0${1 + Math.floor(next() * 3)}-1${Math.floor(next() * 3)}${next() < 0.2 ? '' : 'T00:00:00.000Z'}`;
      const id = pick('aAbB01_-', 1 + Math.floor(next() * 4));
      created.push(c);
      ids.push(id);
      keys.push(c, id);
    }
    expect(keys.length).toBe(5000);
    expect(keys.id(4999)).toBe(ids[4999]);
    const records = () => Array.from({ length: 5000 }, (_, r) => r);
    const newest = records().sort((a, b) => (created[a] < created[b] ? 1 : created[a] > created[b] ? -1 : ids[a] < ids[b] ? 1 : ids[a] > ids[b] ? -1 : b - a));
    expect(records().sort(keys.newestFirst)).toEqual(newest);
    const lower = ids.map((id) => id.toLowerCase());
    const byId = records().sort((a, b) => (lower[a] < lower[b] ? -1 : lower[a] > lower[b] ? 1 : a - b));
    expect(records().sort(keys.byIdIgnoringCase)).toEqual(byId);
    expect(keys.hasTwin(Uint32Array.from(byId))).toBe(true); // 5,000 ids of at most four characters of eight
  });

  it('finds two records with one id, even among ids that differ only in case', () => {
    const keys = new RecordKeys();
    for (const id of ['Ab', 'aB', 'ab', 'AB', 'x']) keys.push('2024-01-01', id);
    const order = () => Uint32Array.from([0, 1, 2, 3, 4, 5].slice(0, keys.length).sort(keys.byIdIgnoringCase));
    expect(keys.hasTwin(order())).toBe(false);
    keys.push('2024-01-02', 'aB'); // the twin of record 1, with 'ab' and 'AB' between them in the id order
    expect(keys.hasTwin(order())).toBe(true);
  });
});
