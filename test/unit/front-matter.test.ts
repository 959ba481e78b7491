import matter from 'gray-matter';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { splitFrontMatter } from '../../src/storage/markdown/file-format.js';

// gray-matter with the options whitemagic used before it split front matter itself: its results
// are the reference, so files written by hand or by whitemagic 2.x read exactly as before.
const refused = () => ({ parse: () => { throw new Error('refused'); } });
const reference = (text: string) => {
  const parsed = matter(text, {
    language: 'yaml',
    engines: {
      yaml: { parse: (s: string) => yaml.load(s, { schema: yaml.CORE_SCHEMA, json: true }) as object, stringify: () => '' },
      js: refused(), javascript: refused(), coffee: refused(), coffeescript: refused(), cson: refused(), toml: refused(),
    },
  } as unknown as Parameters<typeof matter>[1]);
  return { data: parsed.data, body: parsed.content };
};

const CASES = [
  '',
  'just text\n# Heading',
  '---\ntitle: a\n---\nbody\n',
  '---\ntitle: a\n---\n\nbody with blank line\n',
  '---\r\ntitle: crlf\r\n---\r\nbody\r\n',
  '---\ntitle: unclosed\nbody',
  '---\n---\nempty block',
  '---\n# only a comment\n---\nafter',
  '----\ntitle: four dashes\n----\n',
  '---yaml\ntitle: with language\n---\nx',
  '--- YAML \ntitle: spaced language\n---\nx',
  '---json\n{"title": "json front matter"}\n---\nx',
  '---\ntitle: a\n---',
  '---\ntitle: a\n--- trailing\nbody',
  '---\ntitle: "dashes --- inside"\nlist:\n  - x\n---\nbody\n---\nmore',
  '---',
  '---\n',
  '---title: same line\n---\nx',
  '---\ntags: a, b\ncreated: 2020-01-01 10:00\n---\nlegacy 2.x',
];

describe('splitFrontMatter', () => {
  it('reads every case exactly as gray-matter did', () => {
    for (const text of CASES) {
      let expected: unknown;
      try {
        expected = reference(text);
      } catch {
        expected = 'throws';
      }
      let actual: unknown;
      try {
        actual = splitFrontMatter(text);
      } catch {
        actual = 'throws';
      }
      expect({ text, result: actual }).toEqual({ text, result: expected });
    }
  });

  it('refuses front matter that would run code, and names an unknown language', () => {
    expect(() => splitFrontMatter('---js\n{ title: 1 }\n---\n')).toThrow(/'js' is not allowed/);
    expect(() => splitFrontMatter('---Coffee\nx\n---\n')).toThrow(/not allowed/);
    expect(() => splitFrontMatter('---ini\nx=1\n---\n')).toThrow(/unknown front matter language 'ini'/);
  });
});
