import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManifestFiles, ManifestStream } from '../../src/backup/manifest-stream.js';

/** Feeds `text` to a ManifestStream in pieces of `size` bytes; returns what it read. */
function read(text: string, size = Infinity) {
  const items: unknown[] = [];
  const stream = new ManifestStream((item) => items.push(item));
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i += Math.min(size, bytes.length)) stream.write(bytes.subarray(i, i + Math.min(size, bytes.length)));
  return { ...stream.end(), items, listed: stream.listed };
}

/** What a plain JSON.parse makes of a manifest, in the same shape: the rest (files emptied) and the items. */
function reference(text: string) {
  const value = JSON.parse(text) as Record<string, unknown>;
  const items = value.files as unknown[];
  return { value: { ...value, files: [] }, items };
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const MANIFEST = {
  format: 1,
  tool: 'whitemagic',
  version: '1.2.3',
  created: '2026-01-02T03:04:05.000Z',
  context: { name: 'a "quoted" [name], {braces}', path: '/tmp/x\\y' },
  source_backend: 'markdown',
  kind: 'backup',
  counts: { short_term: 2, long_term: 0, archive: 1, total: 3 },
  files: [
    { path: 'memory/short_term/a.md', size: 10, sha256: sha('a') },
    { path: 'memory/short_term/b ]}, "x".md', size: 0, sha256: sha('b'), extra: { files: [1, 2, { files: [] }] } },
    { path: 'memory/archive/\u00e9t\u00e9-\u{1f600}.md', size: 3, sha256: sha('c') },
  ],
};

describe('the streamed manifest reader', () => {
  const layouts: [string, string][] = [
    ['as whitemagic writes it', JSON.stringify(MANIFEST, null, 2) + '\n'],
    ['compact', JSON.stringify(MANIFEST)],
    ['with the files first', JSON.stringify((({ files, ...rest }) => ({ files, ...rest }))(MANIFEST))],
    // Pretty-printed text has line breaks and `": ` only between tokens, never inside a string here.
    ['with odd white space', JSON.stringify(MANIFEST, null, '\t').replace(/\n/g, ' \r\n  ').replace(/": /g, '"\t :\n ')],
    ['with an empty list', JSON.stringify({ ...MANIFEST, files: [] }, null, 2)],
    ['with escapes in keys', JSON.stringify(MANIFEST).replace('"files"', '"fil\\u0065s"')],
  ];

  it.each(layouts)('reads a manifest %s exactly as JSON.parse does, in any pieces', (_name, text) => {
    const want = reference(text);
    for (const size of [1, 2, 3, 7, 64, Infinity]) {
      const got = read(text, size);
      expect(got.fault).toBeUndefined();
      expect(got.value).toEqual(want.value);
      expect(got.items).toEqual(want.items);
      expect(got.listed).toBe(want.items.length);
    }
  });

  it('only counts the items when given nothing to hand them to', () => {
    const stream = new ManifestStream();
    stream.write(Buffer.from(JSON.stringify(MANIFEST)));
    expect(stream.end().value).toMatchObject({ format: 1, files: [] });
    expect(stream.listed).toBe(3);
  });

  const broken: [string, string][] = [
    ['a trailing comma in the list', '{"format":1,"files":[{"path":"a"},]}'],
    ['a leading comma in the list', '{"format":1,"files":[,{"path":"a"}]}'],
    ['two commas', '{"format":1,"files":[{"path":"a"},,{"path":"b"}]}'],
    ['a missing comma between items', '{"format":1,"files":[{"path":"a"} {"path":"b"}]}'],
    ['an item that is no JSON', '{"format":1,"files":[{path:"a"}]}'],
    ['a truncated text', JSON.stringify(MANIFEST).slice(0, -20)],
    ['a truncated list', '{"format":1,"files":[{"path":"a"}'],
    ['garbage after it', JSON.stringify(MANIFEST) + ' x'],
    ['a wrong closing bracket', '{"format":1,"files":[{"path":"a"}}'],
    ['not JSON at all', 'not json'],
    ['nothing', ''],
  ];

  it.each(broken)('refuses %s as not JSON, as JSON.parse would', (_name, text) => {
    expect(() => JSON.parse(text)).toThrow();
    for (const size of [1, 5, Infinity]) expect(read(text, size).fault).toBe('json');
  });

  it('says a manifest of the wrong shape is one', () => {
    expect(read('[1, 2]').fault).toBe('shape');
    expect(read('"files"').fault).toBe('shape');
    expect(read('{"files": [], "files": []}').fault).toBe('shape');
    const noList = read('{"format": 1, "files": 3}');
    expect(noList.fault).toBeUndefined();
    expect(noList.value).toEqual({ format: 1, files: 3 });
    expect(noList.items).toEqual([]);
  });
});

describe('the manifest files index', () => {
  it('matches a file only by its listed size and sha256', () => {
    const files = new ManifestFiles();
    const data = Buffer.from('hello');
    expect(files.add('memory/short_term/a.md', 5, sha('hello'))).toBe(true);
    expect(files.add('memory/short_term/b.md', '5', sha('hello'))).toBe(true);
    expect(files.add('memory/short_term/c.md', 5, sha('hello').toUpperCase())).toBe(true);
    expect(files.matches('memory/short_term/a.md', data)).toBe(true);
    expect(files.matches('memory/short_term/a.md', Buffer.from('hellO'))).toBe(false);
    expect(files.matches('memory/short_term/b.md', data)).toBe(false);
    expect(files.mismatch('memory/short_term/b.md', 5, () => data)).toBe('size 5 bytes, manifest says "5"');
    expect(files.matches('memory/short_term/c.md', data)).toBe(false);
    expect(files.matches('memory/short_term/unlisted.md', data)).toBe(false);
  });

  it('grows past its first capacity, and refuses a path listed twice with another hash', () => {
    const files = new ManifestFiles();
    for (let i = 0; i < 1000; i++) expect(files.add(`memory/archive/${i}.md`, i, sha(String(i)))).toBe(true);
    expect(files.size).toBe(1000);
    for (let i = 0; i < 1000; i += 97) expect(files.matches(`memory/archive/${i}.md`, Buffer.alloc(i))).toBe(false);
    expect(files.mismatch('memory/archive/999.md', 999, () => createHash('sha256').update('999').digest())).toBeUndefined();
    expect(files.add('memory/archive/5.md', 5, sha('5'))).toBe(true);
    expect(files.add('memory/archive/5.md', 5, sha('6'))).toBe(false);
    expect(files.size).toBe(1000);
  });
});
