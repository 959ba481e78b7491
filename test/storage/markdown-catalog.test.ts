import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import markdown from '../../src/storage/markdown/index.js';
import { CATALOG_FILE } from '../../src/storage/markdown/catalog.js';
import type { StorageBackend } from '../../src/storage/types.js';
import { sampleMemory } from './conformance.js';

/**
 * The catalog is a cache of front matter: these cases check that the next command sees every change
 * made by hand (SPEC section 3) and that a lost or damaged catalog loses nothing. Time is moved
 * forward where a case needs the catalog's records to be trusted (they are not, for two seconds
 * after a file changes).
 */
describe('markdown catalog', () => {
  let dir: string;
  let storage: StorageBackend | undefined;
  const day = 86_400_000;

  const open = (readonly = false) => {
    storage?.close();
    storage = markdown.open(dir, { readonly });
    return storage;
  };
  const later = (seconds = 10) => vi.setSystemTime(Date.now() + seconds * 1000);
  const fileOf = (id: string) => {
    const h = open().lookup(id)[0];
    return join(dir, 'memory', h.type, `${h.name}.md`);
  };
  const titles = () => open().list({ types: ['short_term', 'long_term', 'archive'] }).memories.map((m) => m.title).sort();
  const catalog = () => JSON.parse(readFileSync(join(dir, CATALOG_FILE), 'utf8'));

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    dir = mkdtempSync(join(tmpdir(), 'wm-catalog-'));
    markdown.create(dir);
    const s = open();
    s.insert(sampleMemory({ title: 'First', tags: ['a'] }, Date.UTC(2024, 0, 1)));
    s.insert(sampleMemory({ title: 'Second', type: 'long_term' }, Date.UTC(2024, 0, 2)));
    s.insert(sampleMemory({ title: 'Third', type: 'archive' }, Date.UTC(2024, 0, 3)));
    open().list({}); // builds the catalog
    later();
    open().list({}); // and trusts it from now on
  });

  afterEach(() => {
    storage?.close();
    storage = undefined;
    vi.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves unchanged files from the catalog without reading them', () => {
    const data = catalog();
    const key = Object.keys(data.files).find((k) => data.files[k][5] === 'First')!;
    data.files[key][5] = 'From the catalog';
    writeFileSync(join(dir, CATALOG_FILE), JSON.stringify(data));
    expect(titles()).toEqual(['From the catalog', 'Second', 'Third']);
  });

  it('does not trust a record of a file changed less than two seconds before the catalog was written', () => {
    const data = catalog();
    const key = Object.keys(data.files).find((k) => data.files[k][5] === 'First')!;
    data.files[key][5] = 'Stale';
    data.scannedAt = Math.max(data.files[key][1], data.files[key][2]) + 500;
    writeFileSync(join(dir, CATALOG_FILE), JSON.stringify(data));
    expect(titles()).toEqual(['First', 'Second', 'Third']);
  });

  it('sees a file edited in place by hand', () => {
    const file = fileOf(open().list({}).memories.find((m) => m.title === 'First')!.id);
    writeFileSync(file, readFileSync(file, 'utf8').replace('title: First', 'title: Edited by hand').replace('- a', '- b'));
    const m = open().list({}).memories.find((x) => x.title === 'Edited by hand');
    expect(m?.tags).toEqual(['b']);
    appendFileSync(file, '\nmore body\n');
    expect(open().read(m!.id)?.content).toContain('more body');
  });

  it('sees files added, removed and renamed by hand', () => {
    writeFileSync(join(dir, 'memory', 'short_term', 'by-hand.md'), '---\ntitle: Added by hand\ntags: x, y\n---\nbody\n');
    expect(titles()).toEqual(['Added by hand', 'First', 'Second', 'Third']);
    const added = open().lookup('by-hand')[0];
    expect(added.tags).toEqual(['x', 'y']);

    const second = fileOf(open().list({}).memories.find((m) => m.title === 'Second')!.id);
    renameSync(second, join(dir, 'memory', 'long_term', 'renamed.md'));
    expect(open().lookup('renamed').map((h) => h.title)).toEqual(['Second']);
    expect(titles()).toEqual(['Added by hand', 'First', 'Second', 'Third']);

    unlinkSync(join(dir, 'memory', 'long_term', 'renamed.md'));
    expect(titles()).toEqual(['Added by hand', 'First', 'Third']);
    later();
    expect(Object.keys(catalog().files)).toHaveLength(3);
  });

  it('reports a copied-in duplicate and a malformed file, and sees the fix', () => {
    const first = fileOf(open().list({}).memories.find((m) => m.title === 'First')!.id);
    cpSync(first, join(dir, 'memory', 'long_term', 'copy.md'));
    writeFileSync(join(dir, 'memory', 'short_term', 'broken.md'), '---\ntitle: [unclosed\n---\nbody\n');
    let problems = open().problems().map((p) => p.path);
    expect(problems).toContain('memory/short_term/broken.md');
    expect(problems.some((p) => p.endsWith('copy.md') || p === first)).toBe(true);
    later();
    expect(open().problems()).toHaveLength(2); // still reported when served from the catalog

    writeFileSync(join(dir, 'memory', 'short_term', 'broken.md'), '---\ntitle: Fixed\n---\nbody\n');
    unlinkSync(join(dir, 'memory', 'long_term', 'copy.md'));
    problems = open().problems().map((p) => p.path);
    expect(problems).toEqual([]);
    expect(titles()).toEqual(['First', 'Fixed', 'Second', 'Third']);
  });

  it('rebuilds a deleted or corrupt catalog with nothing lost', () => {
    const before = open().list({ types: ['short_term', 'long_term', 'archive'] }).memories;
    unlinkSync(join(dir, CATALOG_FILE));
    expect(open().list({ types: ['short_term', 'long_term', 'archive'] }).memories).toEqual(before);
    expect(existsSync(join(dir, CATALOG_FILE))).toBe(true);

    for (const junk of ['{not json', '[]', JSON.stringify({ version: 1, scannedAt: 0, count: 3, files: { 'short_term/x.md': 'junk' } })]) {
      writeFileSync(join(dir, CATALOG_FILE), junk);
      expect(open().list({ types: ['short_term', 'long_term', 'archive'] }).memories).toEqual(before);
    }
    const data = catalog();
    for (const key of Object.keys(data.files)) data.files[key] = [data.files[key][0], data.files[key][1], data.files[key][2], data.files[key][3], 7, null];
    writeFileSync(join(dir, CATALOG_FILE), JSON.stringify(data));
    later();
    expect(open().list({ types: ['short_term', 'long_term', 'archive'] }).memories).toEqual(before);
  });

  it('keeps the catalog current with its own writes, and a read-only open writes nothing', () => {
    const firstId = open().list({}).memories.find((m) => m.title === 'First')!.id;
    const s = open();
    const created = s.insert(sampleMemory({ title: 'Fourth' }, Date.UTC(2024, 0, 4)), { freshId: true });
    s.update({ ...s.read(firstId)!, title: 'First, updated', type: 'long_term' });
    s.remove(created.id);
    expect(titles()).toEqual(['First, updated', 'Second', 'Third']);
    later();
    expect(Object.values(catalog().files).map((r) => (r as unknown[])[5]).sort()).toEqual(['First, updated', 'Second', 'Third']);

    unlinkSync(join(dir, CATALOG_FILE));
    open(true).list({});
    storage!.close();
    expect(existsSync(join(dir, CATALOG_FILE))).toBe(false);
  });
});
