import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { WhitemagicError } from '../../src/errors.js';
import { checkTitle, normaliseContent, normaliseTags } from '../../src/memory/fields.js';
import { newId } from '../../src/memory/ids.js';
import { MEMORY_TYPES, RESERVED_KEYS, type Memory } from '../../src/memory/types.js';
import { parseQuery, toFtsMatch } from '../../src/search/query.js';
import { parseMemoryFile, serialiseMemory } from '../../src/storage/markdown/file-format.js';
import { FULL, figure, prng, type Prng } from './helpers.js';

/**
 * SPEC section 9, malformed input: random input to the front-matter parser and the search query
 * parser. `npm test` runs a fixed seed and a few thousand cases; `npm run fuzz` a long run
 * (WHITEMAGIC_FUZZ_SEED picks the seed, printed so a failure can be replayed).
 */
const SEED = Number(process.env.WHITEMAGIC_FUZZ_SEED ?? (FULL ? Date.now() % 1_000_000 : 20240501));
const CASES = FULL ? 150_000 : 3_000;

const PIECES = [
  '---', '---\n', '\n', '\r\n', ':', ': ', '- ', '  ', '\t', '"', "'", '&a ', '*a', '&b [*a, *a]', '!!str ', '!!js/function ', '!binary ',
  '{', '}', '[', ']', ',', '#', '|', '>', '%YAML 1.2\n', '? ', '<<: *a', 'id: ', 'title: ', 'tags: ', 'created: ', 'updated: ',
  'type: ', '2024-01-01T00:00:00Z', 'null', '~', 'true', '1e999', '0x1f', '.inf', '\u0000', '\u001b[31m', '\ufeff', '\u2028', '🚀',
  'é', '日本', '\\', '../', '/etc/passwd', 'a'.repeat(300), '__proto__: {polluted: 1}', 'constructor: x',
];

function randomText(r: Prng, maxPieces: number): string {
  let out = '';
  const n = r.int(0, maxPieces);
  for (let i = 0; i < n; i++) {
    if (r.chance(0.7)) out += r.pick(PIECES);
    else out += String.fromCharCode(r.int(0, r.chance(0.9) ? 127 : 0xffff));
  }
  return out;
}

/** A memory file: usually shaped like one (front matter, then body), sometimes anything at all. */
function randomFile(r: Prng): string {
  if (r.chance(0.15)) return randomText(r, 40);
  const lines = Array.from({ length: r.int(0, 8) }, () => `${r.pick(['id', 'title', 'tags', 'created', 'updated', 'x', randomText(r, 2)])}: ${randomText(r, 5)}`);
  return `${r.chance(0.9) ? '---\n' : ''}${lines.join('\n')}\n${r.chance(0.85) ? '---\n' : ''}${randomText(r, 10)}`;
}

/** A valid memory with awkward but allowed values everywhere. */
function randomMemory(r: Prng): Memory {
  const word = () => randomText(r, 4).replace(/[\u0000-\u001f\u007f\u2028\u2029\ud800-\udfff]/g, '');
  let title = word().trim();
  try {
    title = checkTitle(title || 'x');
  } catch {
    title = 'x';
  }
  const meta: Record<string, unknown> = {};
  for (let i = r.int(0, 4); i > 0; i--) {
    const key = `k${word().replace(/[^A-Za-z0-9_]/g, '')}`;
    if (RESERVED_KEYS.has(key)) continue;
    meta[key] = r.pick([word(), r.int(-1e6, 1e6), r.chance(0.5), null, [word(), r.int(0, 9)], { nested: word() }]);
  }
  const at = r.int(0, 4_000_000_000_000);
  return {
    id: newId(at),
    title,
    content: normaliseContent(randomText(r, 30).replace(/\u0000/g, '')),
    type: r.pick(MEMORY_TYPES),
    tags: normaliseTags(Array.from({ length: r.int(0, 5) }, word)),
    created: new Date(at).toISOString(),
    updated: new Date(at + r.int(0, 1e9)).toISOString(),
    meta,
  };
}

/** A thrown value is a readable Error: one line of text, not a programming error. */
function expectReadable(err: unknown, input: string): void {
  expect(err, JSON.stringify(input)).toBeInstanceOf(Error);
  const e = err as Error;
  expect([TypeError, ReferenceError].some((t) => e instanceof t), `${e.stack}\ninput: ${JSON.stringify(input)}`).toBe(false);
  expect(e.message.length, JSON.stringify(input)).toBeGreaterThan(0);
  expect(e.message, JSON.stringify(input)).not.toMatch(/\n|undefined|\[object Object\]/);
}

describe('promises: fuzzing the parsers', () => {
  it(`front matter: ${CASES} random files parse or fail readably, and what parses is written back unchanged (seed ${SEED})`, () => {
    const r = prng(SEED);
    const mtime = new Date('2024-01-01T00:00:00Z');
    let parsed = 0;
    for (let i = 0; i < CASES; i++) {
      const text = randomFile(r);
      let memory: Memory;
      try {
        memory = parseMemoryFile(text, 'fuzz.md', 'short_term', mtime).memory;
      } catch (err) {
        expectReadable(err, text);
        continue;
      }
      parsed++;
      // What whitemagic read, it writes back and reads again as the same memory (an update keeps it).
      const again = parseMemoryFile(serialiseMemory(memory), 'fuzz.md', 'short_term', mtime).memory;
      expect(again, JSON.stringify(text)).toEqual(memory);
      expect(() => JSON.stringify(memory)).not.toThrow();
    }
    figure('fuzz', `front matter: ${CASES} files, ${parsed} parsed, ${CASES - parsed} refused readably (seed ${SEED})`);
  });

  it(`front matter: ${CASES} random valid memories round-trip exactly (seed ${SEED})`, () => {
    const r = prng(SEED + 1);
    for (let i = 0; i < CASES; i++) {
      const memory = randomMemory(r);
      const back = parseMemoryFile(serialiseMemory(memory), 'f.md', memory.type, new Date()).memory;
      expect(back, JSON.stringify(memory)).toEqual(memory);
    }
  });

  it(`search queries: ${CASES} random queries parse or fail with a usage error, and compile to valid FTS5 (seed ${SEED})`, () => {
    const Database = createRequire(import.meta.url)('better-sqlite3') as typeof import('better-sqlite3');
    const db = new Database(':memory:');
    db.exec(`CREATE VIRTUAL TABLE t USING fts5(title, body, tokenize = 'porter unicode61 remove_diacritics 2')`);
    db.prepare('INSERT INTO t VALUES (?, ?)').run('docker volumes', 'a "quoted" body with kubernetes and OR AND NOT words');
    const match = db.prepare('SELECT count(*) AS n FROM t WHERE t MATCH ?');
    const r = prng(SEED + 2);
    const QUERY_PIECES = ['"', '-', '*', ' OR ', ' AND ', ' NOT ', 'NEAR(', ')', '(', '{title}', ':', '^', '+', 'docker', 'kube', 'é', '🚀', ' ', "'", '\\', '\u0000', 'body'];
    let valid = 0;
    for (let i = 0; i < CASES; i++) {
      let q = '';
      for (let n = r.int(0, 10); n > 0; n--) q += r.chance(0.8) ? r.pick(QUERY_PIECES) : String.fromCharCode(r.int(1, 0x2fff));
      let parsed;
      try {
        parsed = parseQuery(q);
      } catch (err) {
        expect(err, JSON.stringify(q)).toBeInstanceOf(WhitemagicError);
        expect((err as WhitemagicError).exitCode).toBe(2);
        continue;
      }
      valid++;
      for (const column of [undefined, 'title']) {
        const fts = toFtsMatch(parsed, column);
        expect(() => match.get(fts), `${JSON.stringify(q)} -> ${fts}`).not.toThrow();
      }
    }
    db.close();
    figure('fuzz', `search queries: ${CASES} queries, ${valid} valid, all compiled to FTS5 that SQLite accepts (seed ${SEED})`);
  });
});
