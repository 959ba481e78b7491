import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { archiveEntries, ArchiveReader, checkArchive, writeArchive } from '../../src/backup/archive.js';
import type { StoredMemory } from '../../src/storage/types.js';
import { detach, detached, once } from '../../src/storage/bulk.js';

function memory(i: number): StoredMemory {
  const id = `01J${String(i).padStart(8, '0')}ABCDEFGHJKMNPQ`.slice(0, 26);
  return {
    id,
    title: `Memory ${i} with a title long enough to be sliced`,
    content: `Body of ${i}.\n\n${'word '.repeat(i % 300).trim()}`.trim(),
    type: (['short_term', 'long_term', 'archive'] as const)[i % 3],
    tags: i % 2 ? ['a', `tag-${i % 7}`] : [],
    created: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString(),
    updated: new Date(Date.UTC(2025, 0, 2, 0, 0, i)).toISOString(),
    meta: i % 5 ? {} : { source: `import ${i}`, n: i },
    name: i === 3 ? 'named-by-hand' : undefined,
  };
}

describe('the streamed backup archive', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'wm-archive-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (memories: StoredMemory[]) =>
    writeArchive(memories, { context: { name: 'c', path: '/c' }, backend: 'markdown', kind: 'backup', now: new Date('2026-01-01T00:00:00Z') }, join(dir, 'a.tar.gz'));

  // 3,000 memories: the reader's 64 KiB reads and the writer's 1 MiB copies each cut entries in two.
  it.each([0, 1, 3000])('round-trips %i memories: verified, each read back equal, owner-only, spools removed', async (n) => {
    const memories = Array.from({ length: n }, (_, i) => memory(i));
    const { manifest, files } = await write(memories);
    expect(files).toBe(n);
    expect(manifest.counts.total).toBe(n);
    expect(readdirSync(dir)).toEqual(['a.tar.gz']);
    expect(statSync(join(dir, 'a.tar.gz')).mode & 0o777).toBe(0o600);

    const reader = await ArchiveReader.open(join(dir, 'a.tar.gz'));
    try {
      const check = checkArchive(reader);
      expect(check.problems).toEqual([]);
      expect(check.listed).toBe(n);
      expect(check.manifest).toMatchObject({ format: 1, created: '2026-01-01T00:00:00.000Z', counts: manifest.counts });
      const back = [...archiveEntries(reader, check)].map((e) => e.memory);
      expect(back).toHaveLength(n);
      for (const [i, m] of back.entries()) {
        const { name, ...want } = memories[i];
        const { name: gotName, ...got } = m;
        expect(got).toEqual(want);
        if (name) expect(gotName).toBe(name);
      }
    } finally {
      reader.close();
    }
  });

  it('names a memory whose name another of its type took already by its full id too, and keeps both', async () => {
    // The same name in one type folder twice (names from two contexts), and once in another folder.
    const memories = [0, 3, 6].map((i) => ({ ...memory(i), name: 'same-name' }));
    memories[2].type = 'long_term';
    await write(memories);
    const reader = await ArchiveReader.open(join(dir, 'a.tar.gz'));
    try {
      const check = checkArchive(reader);
      expect(check.problems).toEqual([]);
      const paths = [...archiveEntries(reader, check)].map((e) => e.path);
      expect(paths).toEqual([
        `memory/${memories[0].type}/same-name.md`,
        `memory/${memories[1].type}/same-name_${memories[1].id}.md`,
        'memory/long_term/same-name.md',
      ]);
    } finally {
      reader.close();
    }
  });

  it('writes the manifest as JSON.stringify(manifest, null, 2) would', async () => {
    const memories = [memory(1), memory(2)];
    await write(memories);
    const tar = await import('tar');
    let text = '';
    await tar.list({
      file: join(dir, 'a.tar.gz'),
      onReadEntry: (e) => {
        if (e.path === 'manifest.json') e.on('data', (c: Buffer) => (text += c.toString()));
        else e.resume();
      },
    });
    expect(text).toBe(JSON.stringify(JSON.parse(text), null, 2) + '\n');
    expect(JSON.parse(text).files.map((f: { path: string }) => f.path)).toEqual([
      expect.stringMatching(/^memory\/long_term\/.*\.md$/),
      expect.stringMatching(/^memory\/archive\/.*\.md$/),
    ]);
  });
});

describe('stream helpers', () => {
  it('once: a second pass over a streamed batch fails instead of silently skipping what was taken', () => {
    const batch = once([1, 2, 3][Symbol.iterator]());
    const first: number[] = [];
    for (const n of batch) {
      first.push(n);
      if (n === 2) break;
    }
    expect(first).toEqual([1, 2]);
    expect(() => [...batch]).toThrow(/started twice/);
  });

  it('detached: the same memory, numbers, NaN, -0, nested values and prototypes kept', () => {
    const nullProto = Object.assign(Object.create(null) as Record<string, unknown>, { deep: ['x'.repeat(40)] });
    const m: StoredMemory = {
      ...memory(5),
      meta: { nan: NaN, negZero: -0, inf: -Infinity, nested: { list: [1, 'two', null, true] }, nullProto, when: new Date(0) },
      name: 'some-name-that-is-long',
    };
    const copy = detached(m);
    expect(isDeepStrictEqual(copy, m)).toBe(true);
    // Any string, exactly: a lone surrogate (JSON's own escape of it), quotes, controls, long text.
    for (const text of ['', 'a', '\ud800 lone \udfff', '"quoted" \\ \n\t\u0000', 'é日本🚀'.repeat(1000)]) expect(detach(text)).toBe(text);
    expect(Object.getPrototypeOf(copy.meta.nullProto)).toBe(null);
    expect(copy.meta).not.toBe(m.meta);
  });
});
