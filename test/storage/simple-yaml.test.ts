import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { parseSimpleYaml } from '../../src/storage/markdown/simple-yaml.js';
import { serialiseMemory } from '../../src/storage/markdown/file-format.js';
import { sampleMemory } from './conformance.js';

/**
 * The fast front-matter reader must give exactly what js-yaml gives, or nothing (then js-yaml is
 * asked): never a different value, key order, type or sign.
 */
function jsYaml(block: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: yaml.load(block, { schema: yaml.CORE_SCHEMA, json: true }) };
  } catch {
    return { ok: false };
  }
}

/** Deep equality that also checks key order and tells 0 from -0. */
function same(a: unknown, b: unknown): boolean {
  if (typeof a !== typeof b) return false;
  if (a === null || b === null || typeof a !== 'object') return Object.is(a, b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Checks one block; returns whether the fast reader answered (rather than leaving it to js-yaml). */
function check(block: string): boolean {
  const fast = parseSimpleYaml(block);
  const slow = jsYaml(block);
  if (fast === undefined) return false;
  if (!slow.ok || !same(fast, slow.value)) {
    throw new Error(`fast reader disagrees with js-yaml on ${JSON.stringify(block)}: ${JSON.stringify(fast)} vs ${slow.ok ? JSON.stringify(slow.value) : 'an error'}`);
  }
  return true;
}

/** A small seeded generator, so a failure can be replayed. */
function random(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] };
}

const SCALARS = [
  'plain', 'two words', 'x', 'a:b', 'a: b', 'a:', 'a #b', 'a#b', '#a', "it's", "'quoted'", "'it''s'", "''", "'''", "'a' b", "'open",
  '"double"', '""', '"with \\"escape\\""', '"a\\nb"', '"open', '"a" b', 'true', 'True', 'TRUE', 'tRue', 'false', 'FALSE', 'yes', 'no', 'y', 'n', 'on', 'off',
  'null', 'Null', 'NULL', 'nULL', '~', '~x', '0', '00', '007', '7', '-7', '+7', '123456789012345', '1234567890123456', '12345678901234567890', '1.5', '-1.5', '.5', '1e3',
  '1_000', '0x1f', '0o17', '0b101', '.inf', '-.inf', '.nan', '.NaN', '1.0.0', '3d', '2024-01-02', '2024-01-02T22:06:04.078Z', '2024-01-02 10:00',
  '2024-01-02T10:00:00+02:00', '2024-1-2', '20240102', '[]', '[ ]', '[a, b]', '{}', '{a: 1}', '|', '|-', '>', '&anchor x', '*alias', '!tag x', '!!str 1',
  '%x', '@x', '`x`', '- x', '-x', '--x', '? x', '?x', ':x', ',x', 'x,', '=', '<<', 'café ☕', '😀 emoji', 'Ünïcode', '\u00a0nbsp', 'x\u00a0', 'x ',
  ' x', 'a  b', 'https://example.com/a?b=c#d', 'C:\\path', 'back\\slash', 'a\tb', 'a\u2028b', 'a\u0085b', '\ufeffbom', 'x\ud800', '\u3000',
  '---', '...', 'a ... b', '%YAML', "a'b", 'a"b', '{', '}', '[', ']', '', '__proto__', '01hk63cq9emv7w9ydwy9t8aphp', '0abc', '0abcdef',
  '1e', '1e+', 'deadbeef', '0xZZ', '0x', '1_', '_1', '-', '+', '1:20', '190:20:30', '1-2', '+.5', '-.inf', '.Inf', '0.', '1.e5', '12e03', '0B1', '0O7', '0X1F', '--', '1 2',
];
/** Values as whitemagic writes them: most generated blocks are made of these. */
const SIMPLE = ['plain', 'two words', "'it''s'", '"double"', 'true', '7', '2024-01-02T22:06:04.078Z', 'café ☕', '01hk63cq9emv7w9ydwy9t8aphp', '[]', 'null', '~', "''", 'a:b', 'https://example.com/a?b=c#d', "'y'", "'n'", 'x,y'];
const KEYS = ['id', 'title', 'tags', 'created', 'updated', 'source', 'a-b', '_x', 'x1', 'y', 'n', 'true', 'null', 'Null', '__proto__', 'constructor', 'toString', '1a', 'a b', '"q"', "'q'", 'a:b', 'é'];

function listBlock(r: ReturnType<typeof random>): string {
  const indent = r.pick(['', '  ', '  ', '   ', '    ']);
  const items: string[] = [];
  const n = Math.floor(r.next() * 4);
  for (let i = 0; i < n; i++) {
    const ind = r.next() < 0.05 ? r.pick(['', '  ', ' ']) : indent;
    items.push(`${ind}${r.pick(['- ', '- ', '- ', '-  ', '-', '-\t'])}${r.next() < 0.8 ? r.pick(SIMPLE) : r.pick(SCALARS)}`);
  }
  return items.join('\n');
}

function generated(r: ReturnType<typeof random>): string {
  const lines = [''];
  const n = 1 + Math.floor(r.next() * 6);
  for (let i = 0; i < n; i++) {
    const key = r.next() < 0.8 ? r.pick(KEYS.slice(0, 9)) : r.pick(KEYS);
    const roll = r.next();
    if (roll < 0.25) {
      lines.push(`${key}:`);
      const items = listBlock(r);
      if (items) lines.push(items);
    } else if (roll < 0.3) {
      lines.push(r.pick(['', '# comment', '  continued', `${key} : x`, `${key}:x`, `${key}:  x`, `${key}:\tx`, `  ${key}: x`, `${key}: x\r`]));
    } else {
      lines.push(`${key}: ${r.next() < 0.8 ? r.pick(SIMPLE) : r.pick(SCALARS)}`);
    }
  }
  return lines.join('\n');
}

describe('simple front matter reader', () => {
  it('agrees with js-yaml on every edge case it answers', () => {
    let answered = 0;
    for (const s of SCALARS) {
      for (const block of [`\ntitle: ${s}`, `\ntags:\n  - ${s}`, `\ntags:\n- ${s}\n- x`, `\nid: a\nnote: ${s}\nlast: z`]) if (check(block)) answered++;
    }
    expect(answered).toBeGreaterThan(100);
  });

  it('agrees with js-yaml on generated front matter', () => {
    const r = random(20240607);
    let answered = 0;
    for (let i = 0; i < 20_000; i++) if (check(generated(r))) answered++;
    // Most generated blocks are of the simple kind: the fast path is exercised, not just skipped.
    expect(answered).toBeGreaterThan(4_000);
  });

  it('agrees with js-yaml on random characters', () => {
    const r = random(7);
    const alphabet = [...'ab :#\'"-[]{}~!&*|>%@`,?\\.01eE+_\n', '\t', '\r', 'é', '😀', '\u00a0', '\u2028'];
    for (let i = 0; i < 20_000; i++) {
      let value = '';
      const n = Math.floor(r.next() * 8);
      for (let j = 0; j < n; j++) value += r.pick(alphabet);
      check(`\nid: x\ntitle: ${value}`);
      check(`\ntags:\n  - ${value}\n  - b`);
    }
  });

  it('reads what whitemagic writes, with the same result as js-yaml', () => {
    const r = random(99);
    const titles = ['Plain title', 'Colon: here', "It's here", '#1 priority', 'Release 2.0', 'true', '123', 'café ☕ notes', '😀', '- dash', 'a, b', 'Yes', 'x #y', '"quoted"', "'single'"];
    let answered = 0;
    for (let i = 0; i < 500; i++) {
      const memory = sampleMemory(
        {
          title: r.pick(titles),
          tags: [r.pick(['a', 'y', 'n', 'null', '1', 'client-acme', 'é']), r.pick(['b', 'true', 'x y'])],
          meta: r.next() < 0.5 ? { source: 'https://example.com/x/1', priority: Math.floor(r.next() * 5), done: r.next() < 0.5, note: r.pick(titles) } : {},
        },
        Date.UTC(2024, 0, 1) + i * 86_400_000,
      );
      const block = serialiseMemory(memory).split('\n---\n')[0].slice(3);
      if (check(block)) answered++;
    }
    // Front matter as whitemagic writes it is almost always read without js-yaml.
    expect(answered).toBeGreaterThan(450);
  });
});
