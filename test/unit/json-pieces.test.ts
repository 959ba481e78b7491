import { describe, expect, it } from 'vitest';
import { jsonPieces } from '../../src/output/json.js';

const joined = (value: unknown) => [...jsonPieces(value)].join('');

describe('JSON written a piece at a time', () => {
  it('joins to exactly what JSON.stringify(value, null, 2) makes', () => {
    const values: unknown[] = [
      null,
      true,
      0,
      -0,
      3.25,
      NaN,
      Infinity,
      'a "quoted"\nline\t\u0001 é 😀 \ud800',
      [],
      {},
      [[], {}, [[]], [{}]],
      [undefined, () => 1, Symbol('s'), null, 1],
      { a: undefined, b: () => 1, c: Symbol('s'), d: null, e: [undefined] },
      { nested: { deeper: { list: [1, 'two', { three: [3] }], empty: [] } }, 'odd key "\n"': 1 },
      Object.assign(Object.create(null) as object, { noProto: [1, 2] }),
      { when: new Date(Date.UTC(2026, 0, 2)), list: [new Date(0)] },
      { custom: { toJSON: (key: string) => ({ key, inner: [1, { x: 2 }] }) }, gone: { toJSON: () => undefined } },
      [{ toJSON: () => undefined }, { toJSON: (key: string) => `at ${key}` }],
      new Map([[1, 2]]),
      { aClass: new (class Point { x = 1; y = [2, 3]; })() },
      { result: { runs: [{ promoted: [], archived: [{ id: '01a', title: 'T', created: '2026', tags: ['x'] }] }], promoted: [], archived: ['01a'] } },
    ];
    for (const value of values) expect(joined(value)).toBe(JSON.stringify(value, null, 2));
  });

  it('joins to the same as JSON.stringify for random nested values (seeded)', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
    const make = (depth: number): unknown => {
      const r = random();
      if (depth > 4 || r < 0.3) return [null, 'text', 7, -1.5, true, undefined, 'é\n'][Math.floor(random() * 7)];
      if (r < 0.65) return Array.from({ length: Math.floor(random() * 5) }, () => make(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(random() * 5) }, (_, i) => [`k${i}`, make(depth + 1)]));
    };
    for (let n = 0; n < 300; n++) {
      const value = make(0);
      // Of undefined itself JSON.stringify makes no string; printJson wrote "undefined", as it still does.
      expect(joined(value)).toBe(String(JSON.stringify(value, null, 2)));
    }
  });

  it('gives a large array in many pieces, none of them the whole', () => {
    const items = Array.from({ length: 5000 }, (_, i) => ({ id: `id${i}`, tags: ['a'] }));
    const parts = [...jsonPieces({ items })];
    expect(parts.length).toBeGreaterThan(5000);
    expect(Math.max(...parts.map((p) => p.length))).toBeLessThan(100);
    expect(parts.join('')).toBe(JSON.stringify({ items }, null, 2));
  });
});
