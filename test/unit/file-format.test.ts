import { describe, expect, it } from 'vitest';
import { parseMemoryFile, serialiseMemory } from '../../src/storage/markdown/file-format.js';
import { sampleMemory, variedMemories } from '../storage/conformance.js';

const mtime = new Date('2020-02-02T00:00:00Z');
const parse = (text: string) => parseMemoryFile(text, 'f.md', 'short_term', mtime).memory;

describe('the markdown file format', () => {
  it('round-trips every field of varied memories', () => {
    for (const m of variedMemories()) {
      expect(parseMemoryFile(serialiseMemory(m), 'x.md', m.type, mtime).memory).toEqual(m);
    }
  });

  it('writes front matter in a fixed order with a YAML tag list', () => {
    const text = serialiseMemory(sampleMemory({ id: 'i', title: 't', tags: ['a', 'b'], meta: { z: 1 }, created: 'C', updated: 'U' }));
    expect(text).toBe('---\nid: i\ntitle: t\ntags:\n  - a\n  - b\ncreated: C\nupdated: U\nz: 1\n---\n\nSome *markdown* body.\n');
  });

  it('reads files without front matter, without a closing line, or with wrong types', () => {
    expect(parse('just text\n# Heading')).toMatchObject({ title: 'Heading', content: 'just text\n# Heading', created: mtime.toISOString() });
    expect(parse('---\r\ntitle: crlf\r\n---\r\nbody\r\n')).toMatchObject({ title: 'crlf', content: 'body' });
    const odd = parse('---\ntags: {a: 1}\nid: [1, 2]\ntitle: {x: 1}\ncreated: 12\n---\nx');
    expect(odd).toMatchObject({ title: 'f', tags: [], created: mtime.toISOString() });
    expect(odd.id).toMatch(/^[0-9a-z]{26}$/);
    expect(() => parse('---\ntitle: x\nbody: [\n')).toThrow(/front matter/);
  });

  it('refuses executable front matter and binary content', () => {
    expect(() => parse('---js\n{ title: 1 }\n---\n')).toThrow(/not allowed/);
    expect(() => parse('---javascript\nprocess.exit(3)\n---\n')).toThrow(/not allowed/);
    expect(() => parse('a\u0000b')).toThrow(/binary/);
  });

  it('keeps YAML times as written and reads zone-less times as UTC', () => {
    expect(parse('---\ncreated: 2024-01-15T10:30:00\n---\n').created).toBe('2024-01-15T10:30:00.000Z');
    expect(parse('---\ncreated: "2024-01-15T10:30:00+02:00"\n---\n').created).toBe('2024-01-15T08:30:00.000Z');
  });
});
