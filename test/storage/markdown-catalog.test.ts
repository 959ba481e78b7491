import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import markdown from '../../src/storage/markdown/index.js';
import { bulkSync } from '../../src/storage/markdown/backend.js';
import { CATALOG_FILE, Catalog, catalogWindow, copyChunk } from '../../src/storage/markdown/catalog.js';
import type { MemoryType } from '../../src/memory/types.js';
import type { ListQuery, StorageBackend } from '../../src/storage/types.js';
import { setNativeAddon } from '../../src/util/native.js';
import { parseQuery } from '../../src/search/query.js';
import { sampleMemory } from './conformance.js';

/**
 * The catalog is a cache of front matter: these cases check that the next command sees every change
 * made by hand (SPEC section 3) and that a lost or damaged catalog loses nothing. Time is moved
 * forward where a case needs the catalog's records to be trusted (they are not, for two seconds
 * after a file changes).
 */
// Also read (and copied, when the catalog is rewritten) through a window far smaller than a line,
// so every line crosses its edge; and with the folders read by Node.js alone as well as by the
// native addon (where it was built).
const folderReads = existsSync(fileURLToPath(new URL('../../build/Release/whitemagic_native.node', import.meta.url))) ? ['native', 'plain'] : ['plain'];
describe.each<[number, string]>([
  ...folderReads.map((reads): [number, string] => [catalogWindow.size, reads]),
  [37, folderReads[0]],
])('markdown catalog (read %i bytes at a time, folders read %s)', (window, reads) => {
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
  /**
   * The catalog's records split into columns, and a first line that (written back) declares no
   * clean index, so the records are what a command reads (see catalog.ts).
   */
  const catalog = () => {
    const text = readFileSync(join(dir, CATALOG_FILE), 'latin1');
    const eol = text.indexOf('\n');
    const [scannedAt, indexAt] = text.slice('whitemagic-catalog 4 '.length, eol).split(' ').map(Number);
    const records = text.slice(eol + 1, indexAt || text.length);
    return { head: `whitemagic-catalog 4 ${scannedAt} 0`, records, indexAt, rows: records.split('\n').filter(Boolean).map((l) => l.split('\t')) };
  };
  const writeCatalog = (c: { head: string; rows: string[][] }) =>
    writeFileSync(join(dir, CATALOG_FILE), [c.head, ...c.rows.map((r) => r.join('\t')), ''].join('\n'));
  /**
   * `s` after a scan, as a command makes one without a clean index (every read is served from the
   * index when it holds): its answers then come from the scan's headers.
   */
  const scanFirst = (s: StorageBackend) => {
    (s as unknown as { scan(): unknown }).scan();
    return s;
  };
  const titleOf = (row: string[]) => JSON.parse(row[10])[0];
  const rowOf = (c: { rows: string[][] }, title: string) => c.rows.find((r) => titleOf(r) === title)!;

  const defaultWindow = catalogWindow.size;
  const defaultChunk = copyChunk.size;
  const defaultSyncBatch = bulkSync.batch;
  beforeEach(() => {
    setNativeAddon(reads === 'native');
    catalogWindow.size = window;
    copyChunk.size = Math.min(defaultChunk, window * 3);
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
    vi.restoreAllMocks();
    setNativeAddon(undefined);
    catalogWindow.size = defaultWindow;
    copyChunk.size = defaultChunk;
    bulkSync.batch = defaultSyncBatch;
    storage?.close();
    storage = undefined;
    vi.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  });

  it('does not follow a memory folder that is a link, and says so once (not once per type folder)', () => {
    renameSync(join(dir, 'memory'), `${dir}-outside`);
    symlinkSync(`${dir}-outside`, join(dir, 'memory'));
    try {
      const s = open();
      expect(s.list({ types: ['short_term', 'long_term', 'archive'] }).memories).toEqual([]);
      expect(s.problems()).toEqual([{ path: 'memory', message: 'is a symbolic link; not followed' }]);
      // The search index does not follow it either (the backend's read reports it).
      expect(s.search({ query: parseQuery('first'), types: ['short_term', 'long_term', 'archive'], limit: 20 }).hits).toEqual([]);
    } finally {
      rmSync(`${dir}-outside`, { recursive: true, force: true });
    }
  });

  it('serves unchanged files from the catalog without reading them', () => {
    const data = catalog();
    const row = rowOf(data, 'First');
    row[10] = JSON.stringify(['From the catalog', 0, 0]);
    writeCatalog(data);
    expect(titles()).toEqual(['From the catalog', 'Second', 'Third']);
  });

  it('does not trust a record of a file changed within a tick of the file clock before the catalog was written', () => {
    const firstFile = statSync(fileOf(open().list({}).memories.find((m) => m.title === 'First')!.id));
    const data = catalog();
    const row = rowOf(data, 'First');
    row[10] = JSON.stringify(['Stale', 0, 0]);
    // A record taken from other content, as when the file was rewritten within the same tick with
    // the same size: its front matter's digest is not the file's.
    row[5] = row[5].replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    // Times are the bits of the stat's doubles, in hex.
    const time = (hex: string) => Buffer.from(hex, 'hex').readDoubleBE(0);
    expect([time(row[2]), time(row[3])]).toEqual([firstFile.mtimeMs, firstFile.ctimeMs]);
    const changed = Math.max(time(row[2]), time(row[3]));
    expect(changed % 1000).not.toBe(0); // this file system keeps times finer than a second
    data.head = `whitemagic-catalog 4 ${changed + 30} 0`;
    writeCatalog(data);
    expect(titles()).toEqual(['First', 'Second', 'Third']);
    // A tick later, the same record is trusted: the title comes from the catalog.
    data.head = `whitemagic-catalog 4 ${changed + 60} 0`;
    writeCatalog(data);
    expect(titles()).toEqual(['Second', 'Stale', 'Third']);
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
    expect(catalog().rows).toHaveLength(3);
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

    const good = readFileSync(join(dir, CATALOG_FILE), 'latin1');
    const [head, ...lines] = good.split('\n');
    const junks = [
      '{not json',
      '[]',
      JSON.stringify({ version: 1, scannedAt: 0, count: 3, files: { 'short_term/x.md': 'junk' } }),
      `${head}\nshort_term/x.md\tjunk\n\t\t\n`,
      good.slice(0, good.length - 40), // cut in the middle of the last line
      [head, ...lines.reverse()].join('\n'), // out of order
      good.replace(/\n[^\t\n]+/g, '\n"\\ud800'), // keys that cannot be read
      `whitemagic-catalog 4 ${Number.MAX_VALUE} 0\n${lines.join('\n')}`,
      `whitemagic-catalog 2 ${Number.MAX_VALUE}\n${lines.join('\n')}`, // an older version
    ];
    for (const junk of junks) {
      writeFileSync(join(dir, CATALOG_FILE), junk);
      expect(open().list({ types: ['short_term', 'long_term', 'archive'] }).memories).toEqual(before);
      expect(open().problems()).toEqual([]);
    }
    // Lines whose stats match their files but whose other columns are damaged.
    for (const damage of [(r: string[]) => r.splice(6), (r: string[]) => (r[6] = ''), (r: string[]) => (r[9] = '{'), (r: string[]) => (r[10] = '[1,2]'), (r: string[]) => (r[6] = '!')]) {
      writeFileSync(join(dir, CATALOG_FILE), good);
      const data = catalog();
      for (const row of data.rows) damage(row);
      writeCatalog(data);
      later();
      expect(open().list({ types: ['short_term', 'long_term', 'archive'] }).memories).toEqual(before);
      expect(open().problems()).toEqual([]);
      storage!.close();
      // Repaired, so served from the catalog again.
      later();
      expect(catalog().rows.map(titleOf).sort()).toEqual(['First', 'Second', 'Third']);
    }
  });

  it('goes on with the catalog a scan wrote: headers read their titles and extra keys there, not from the lines read', () => {
    const first = open().lookup('First')[0] ?? open().list({}).memories.find((m) => m.title === 'First')!;
    const path = fileOf(first.id);
    // One file's front matter changed and one file added by hand, beside records still trusted, and
    // no clean index: the next command scans, reads those two, and rewrites the catalog.
    writeFileSync(path, readFileSync(path, 'utf8').replace('title: First', 'title: First edited'));
    writeFileSync(join(dir, 'memory', 'long_term', 'added.md'), '---\ntitle: Added\ntags: [x]\nnote: "y"\n---\nbody\n');
    writeCatalog(catalog());
    later();
    const s = scanFirst(open());
    // The catalog just written, changed in place (same lengths): what the scan's headers show from now on.
    const file = join(dir, CATALOG_FILE);
    const text = readFileSync(file, 'latin1');
    writeFileSync(file, text.replace('"First edited"', '"FIRST EDITED"').replace('"Added"', '"ADDED"').replace('"Second"', '"SECOND"'), 'latin1');
    const memories = s.list({ types: ['short_term', 'long_term', 'archive'] }).memories;
    expect(memories.map((m) => m.title).sort()).toEqual(['ADDED', 'FIRST EDITED', 'SECOND', 'Third']);
    expect(memories.find((m) => m.title === 'ADDED')).toMatchObject({ tags: ['x'], meta: { note: 'y' }, name: 'added' });
    expect(s.read(first.id)?.title).toBe('First edited'); // a read is of the file
  });

  it('keeps any file name and title in a one-byte catalog, and serves them back', () => {
    const names = ['café ☕.md', 'tab\there.md', '"quoted".md', 'back\\slash.md', 'new\nline.md', '😀.md'];
    for (const [i, name] of names.entries()) {
      writeFileSync(join(dir, 'memory', 'short_term', name), `---\ntitle: "Ünïcode ${i} \\t 😀"\ntags: [é, b]\nnote: ✓\n---\nbody\n`);
    }
    const all = () => open().list({ types: ['short_term', 'long_term', 'archive'] }).memories;
    const before = all();
    expect(before.filter((m) => m.title.startsWith('Ünïcode'))).toHaveLength(names.length);
    later();
    all(); // records now trusted
    expect(Buffer.from(catalog().records, 'latin1').every((byte) => byte < 0x80)).toBe(true);
    expect(catalog().rows).toHaveLength(3 + names.length);
    // Served from the catalog: a title changed there (not in the file) shows.
    const data = catalog();
    for (const row of data.rows) if (titleOf(row).startsWith('Ünïcode')) row[10] = row[10].replace('\\u00dcn', 'From the catalog, \\u00dcn');
    writeCatalog(data);
    const after = all();
    expect(after.filter((m) => m.title.startsWith('From the catalog, Ünïcode 0 \t 😀'))).toHaveLength(1);
    expect(after.find((m) => m.name === 'café ☕')).toMatchObject({ tags: ['é', 'b'], meta: { note: '✓' } });
    expect(open().lookup('tab\there')).toHaveLength(1);
  });

  it('serves a list by date from the clean index exactly as from a scan, and only while nothing changed', () => {
    // Ties on creation time (broken by id), all three types, names out of date order, hand-made files.
    const s = open();
    for (let i = 0; i < 40; i++) {
      const at = Date.UTC(2024, 1, 1 + (i % 7), 12);
      s.insert(sampleMemory({ title: `Bulk ${i}`, type: (['short_term', 'long_term', 'archive'] as const)[i % 3], tags: [`t${i % 4}`] }, at));
    }
    writeFileSync(join(dir, 'memory', 'long_term', 'aaa-by-hand.md'), '---\ntitle: By hand\ncreated: 2030-01-01T00:00:00.000Z\n---\nbody\n');
    writeFileSync(join(dir, 'memory', 'short_term', 'zzz-no-date.md'), '---\ntitle: No date\n---\nbody\n');
    later();
    open().list({}); // the records are settled: the catalog is written with its clean index
    expect(catalog().indexAt).toBeGreaterThan(0);

    const take = vi.spyOn(Catalog.prototype, 'take');
    const queries: ListQuery[] = [];
    for (const types of [undefined, ['archive'], ['long_term', 'short_term'], ['short_term', 'long_term', 'archive']] as Array<MemoryType[] | undefined>) {
      for (const limit of [undefined, 0, 1, 5, 100]) for (const reverse of [false, true]) queries.push({ types, limit, reverse });
    }
    for (const query of queries) {
      take.mockClear();
      const fromIndex = open().list(query);
      expect(take, JSON.stringify(query)).not.toHaveBeenCalled(); // no per-file step
      const scanned = scanFirst(open()); // the list then comes from the scan's headers
      expect(fromIndex, JSON.stringify(query)).toEqual(scanned.list(query));
      expect(take).toHaveBeenCalled();
    }
    // The summary, and REFs: exact ids, prefixes in either case, ids that differ only in case,
    // file names (with and without .md, of each type folder) and nothing at all.
    const listed = open().list({ types: ['short_term', 'long_term', 'archive'] }).memories;
    const ids = listed.map((m) => m.id);
    const names = (['short_term', 'long_term', 'archive'] as const).map((type) => listed.find((m) => m.type === type)!.name);
    const refs = [ids[0], ids[5], ids[7].slice(0, 6), ids[3].slice(0, 5).toUpperCase(), ids[0].slice(0, 1), 'aaa-by-hand', 'zzz-no-date', 'aaa-by-hand.md', ...names, 'nothing-like-it', 'zzzz', 'a', ''];
    take.mockClear();
    const cleanSummary = open().summary();
    const cleanLookups = refs.map((ref) => open().lookup(ref));
    const cleanReads = refs.map((ref) => {
      const s = open();
      const [first] = s.lookup(ref);
      return first && s.read(first.id);
    });
    // Ids, prefixes, file names and misses were all found without a per-file step.
    take.mockClear();
    open().summary();
    for (const ref of refs) {
      const s = open();
      const [first] = s.lookup(ref);
      if (first) s.read(first.id);
    }
    expect(take).not.toHaveBeenCalled();
    const scanned = () => scanFirst(open());
    expect(cleanSummary).toEqual(scanned().summary());
    expect(cleanSummary.counts).toEqual({ short_term: 16, long_term: 15, archive: 14 });
    refs.forEach((ref, i) => {
      expect(cleanLookups[i], ref).toEqual(scanned().lookup(ref));
      const s = scanned();
      const [first] = s.lookup(ref);
      expect(cleanReads[i], ref).toEqual(first && s.read(first.id));
    });
    expect(cleanLookups[2].length + cleanLookups[4].length).toBeGreaterThan(2); // prefixes that match several
    // Filters (tags, dates) by date order too, each record read and dropped: as the scan gives them.
    const filtered: ListQuery[] = [];
    for (const tags of [undefined, ['t1'], ['t1', 't2'], ['no such tag']]) {
      for (const [since, until] of [[undefined, undefined], ['2024-02-03T00:00:00.000Z', undefined], [undefined, '2024-02-04T12:00:00.000Z'], ['2024-02-03T12:00:00.000Z', '2024-02-05T12:00:00.000Z']]) {
        if (!tags && !since && !until) continue;
        for (const limit of [undefined, 0, 1, 3]) for (const reverse of [false, true]) filtered.push({ tags, since, until, limit, reverse, types: limit === 3 ? ['archive', 'long_term'] : undefined });
      }
    }
    for (const query of filtered) {
      take.mockClear();
      const fromIndex = open().list(query);
      expect(take, JSON.stringify(query)).not.toHaveBeenCalled();
      expect(fromIndex, JSON.stringify(query)).toEqual(scanFirst(open()).list(query));
    }
    expect(open().list({ tags: ['t1'] }).memories.map((m) => m.title)).toContain('Bulk 1');
    // And so do the other orders, with or without filters.
    for (const sort of ['updated', 'title'] as const) {
      for (const query of [{ sort }, { sort, limit: 5 }, { sort, limit: 2, reverse: true, tags: ['t2'] }, { sort, since: '2024-02-04T00:00:00.000Z', types: ['short_term', 'long_term', 'archive'] as MemoryType[] }]) {
        take.mockClear();
        const fromIndex = open().list(query);
        expect(take, JSON.stringify(query)).not.toHaveBeenCalled();
        expect(fromIndex, JSON.stringify(query)).toEqual(scanFirst(open()).list(query));
      }
    }

    // A file edited in place by hand is read on its own (catalog-patch.ts), with no per-file step.
    const file = join(dir, 'memory', 'long_term', 'aaa-by-hand.md');
    writeFileSync(file, readFileSync(file, 'utf8').replace('By hand', 'Edited'));
    take.mockClear();
    expect(open().list({ limit: 1 }).memories.map((m) => m.title)).toEqual(['Edited']);
    // Filtered and other-ordered lists, served from the index too, see the edit (SPEC section 3).
    expect(open().list({ sort: 'title', reverse: true, since: '2030-01-01T00:00:00.000Z' }).memories.map((m) => m.title)).toEqual(['Edited']);
    expect(take).not.toHaveBeenCalled();
    // So is a file added by hand; one that copies another's id is a duplicate, which the scan reports.
    writeFileSync(join(dir, 'memory', 'long_term', 'bbb-by-hand.md'), '---\ntitle: Added\ncreated: 2031-01-01T00:00:00.000Z\n---\nbody\n');
    expect(open().list({ limit: 1 }).memories.map((m) => m.title)).toEqual(['Added']);
    expect(open().list({ sort: 'title', since: '2030-01-01T00:00:00.000Z' }).memories.map((m) => m.title)).toEqual(['Added', 'Edited']);
    expect(open().lookup('bbb-by-hand').map((h) => h.title)).toEqual(['Added']);
    expect(take).not.toHaveBeenCalled();
    cpSync(join(dir, 'memory', 'long_term', `${open().list({ limit: 1, types: ['long_term'], reverse: true }).memories[0].name}.md`), join(dir, 'memory', 'short_term', 'copy.md'));
    expect(open().problems().map((p) => p.message)).toEqual([expect.stringMatching(/^duplicate id /)]);
    expect(take).toHaveBeenCalled();
    take.mockRestore();
  });

  describe('files changed, added or removed since the catalog, read on their own (catalog-patch.ts)', () => {
    const all = ['short_term', 'long_term', 'archive'] as MemoryType[];
    const indexOf = () => {
      const c = Catalog.open(dir);
      try {
        return c.readIndex();
      } finally {
        c.close();
      }
    };
    /** A clean catalog of a dozen memories, and the files of some. */
    const setUp = () => {
      const s = open();
      for (let i = 0; i < 12; i++) s.insert(sampleMemory({ title: `Bulk ${i}`, type: all[i % 3], tags: [`t${i % 4}`] }, Date.UTC(2024, 1, 1 + i, 12)));
      later();
      open().list({});
      expect(indexOf()?.suspects).toEqual([]);
      const byTitle = (title: string) => fileOf(open().list({ types: all }).memories.find((m) => m.title === title)!.id);
      return { byTitle };
    };

    it('keeps the clean index: bodies appended to, tags changed, the summary and order as a scan gives them', () => {
      const { byTitle } = setUp();
      appendFileSync(byTitle('Bulk 3'), '\nAppended by hand.\n');
      appendFileSync(byTitle('First'), '\nAppended too.\n');
      const retagged = byTitle('Bulk 5');
      writeFileSync(retagged, readFileSync(retagged, 'utf8').replace('- t1', '- brand-new\n  - t3'));
      later();
      const take = vi.spyOn(Catalog.prototype, 'take');
      const patched = open();
      const list = patched.list({ types: all });
      const summary = patched.summary();
      expect(take).not.toHaveBeenCalled();
      expect(indexOf()).toBeDefined(); // written with its index, at once
      // The appended files' lines were written with their new stats (over the old ones: same length).
      for (const title of ['Bulk 3', 'First']) expect(Number(rowOf(catalog(), title)[1]), title).toBe(statSync(fileOf(list.memories.find((m) => m.title === title)!.id)).size);
      const scanned = scanFirst(open());
      expect(take).toHaveBeenCalled();
      take.mockRestore();
      expect(list).toEqual(scanned.list({ types: all }));
      expect(summary).toEqual(scanned.summary());
      expect(summary.tags['brand-new']).toBe(1);
      expect(summary.bytes).toBe(list.memories.reduce((sum, m) => sum + statSync(fileOf(m.id)).size, 0));
      const bulk3 = list.memories.find((m) => m.title === 'Bulk 3')!;
      expect(open().read(bulk3.id)?.content).toContain('Appended by hand.');
    });

    it('adds and removes records as a scan would: created by another command, added, removed, renamed and moved by hand', () => {
      const { byTitle } = setUp();
      const elsewhere = open();
      // Created at the same time as another memory (the order then goes by id) and between others.
      elsewhere.insert(sampleMemory({ title: 'Created elsewhere', type: 'long_term', tags: ['new-tag', 't1'] }, Date.UTC(2024, 1, 6, 12)), { freshId: true });
      elsewhere.insert(sampleMemory({ title: 'Created too', tags: [] }, Date.UTC(2024, 1, 9, 12, 30)), { freshId: true });
      writeFileSync(join(dir, 'memory', 'archive', 'aaa-by-hand.md'), '---\ntitle: By hand, no id\ncreated: 2020-05-05T00:00:00.000Z\ntags: [t2]\n---\nbody\n');
      unlinkSync(byTitle('Bulk 4'));
      const renamed = byTitle('Bulk 7');
      renameSync(renamed, join(dir, 'memory', renamed.split('/').at(-2)!, 'zzz-renamed.md'));
      const moved = byTitle('Bulk 8');
      renameSync(moved, join(dir, 'memory', 'short_term', 'moved-by-hand.md'));
      later();
      const take = vi.spyOn(Catalog.prototype, 'take');
      const queries: ListQuery[] = [{ types: all }, {}, { types: ['archive'], limit: 3 }, { types: all, reverse: true, limit: 7 }];
      const patched = queries.map((query) => open().list(query));
      const summary = open().summary();
      expect(take).not.toHaveBeenCalled();
      expect(indexOf()?.records).toBe(15 + 3 - 1);
      // REFs by id from the new index; by file name, as always, through the scan.
      const refs = ['aaa-by-hand', 'zzz-renamed', 'moved-by-hand', ...patched[0].memories.filter((m) => m.title.startsWith('Created')).map((m) => m.id)];
      const found = refs.map((ref) => open().lookup(ref));
      const scanned = () => scanFirst(open());
      queries.forEach((query, i) => expect(patched[i], JSON.stringify(query)).toEqual(scanned().list(query)));
      expect(summary).toEqual(scanned().summary());
      expect(summary.tags['new-tag']).toBe(1);
      refs.forEach((ref, i) => expect(found[i], ref).toEqual(scanned().lookup(ref)));
      expect(found.every((f) => f.length === 1)).toBe(true);
      take.mockRestore();
    });

    it('updates, moves and deletes through the clean index, with no scan, and the next command sees them', () => {
      setUp();
      const ids = open().list({ types: all }).memories.map((m) => m.id);
      const take = vi.spyOn(Catalog.prototype, 'take');
      const s = open();
      const first = s.read(ids[0])!;
      s.update({ ...first, title: 'Updated through the index', tags: ['fresh'] });
      storage!.close();
      open().update({ ...open().read(ids[1])!, type: 'archive' }); // a move: a new file, the old one removed
      storage!.close();
      expect(open().remove(ids[2])).toBe(true);
      storage!.close();
      expect(take).not.toHaveBeenCalled();
      later();
      const list = open().list({ types: all });
      const summary = open().summary();
      expect(take).not.toHaveBeenCalled(); // the next command read the files written, not every file
      const scanned = scanFirst(open());
      expect(list).toEqual(scanned.list({ types: all }));
      expect(summary).toEqual(scanned.summary());
      expect(list.memories.find((m) => m.id === ids[0])).toMatchObject({ title: 'Updated through the index', tags: ['fresh'] });
      expect(list.memories.find((m) => m.id === ids[1])?.type).toBe('archive');
      expect(list.memories.some((m) => m.id === ids[2])).toBe(false);
      take.mockRestore();
    });

    it('gives what a scan gives after any mix of changes, settled or just made (seeded random rounds)', () => {
      setUp();
      let seed = 20261121;
      const random = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
      const pick = <T,>(items: T[]): T => items[Math.floor(random() * items.length)];
      const files = () => all.flatMap((type) => readdirSync(join(dir, 'memory', type)).map((f) => join(dir, 'memory', type, f)));
      const days = [1, 2, 2, 3, 9, 30];
      let made = 0;
      const ops: Array<() => void> = [
        () => open().insert(sampleMemory({ title: `Made ${made++}`, type: pick(all), tags: [pick(['x', 'y', 'z'])] }, Date.UTC(2024, 1, pick(days), 12)), { freshId: true }),
        () => appendFileSync(pick(files()), `\nappended ${made++}\n`),
        () => {
          const file = pick(files());
          writeFileSync(file, readFileSync(file, 'utf8').replace(/^title: .*$/m, `title: Retitled ${made++}`));
        },
        () => {
          const file = pick(files());
          writeFileSync(file, readFileSync(file, 'utf8').replace(/^tags:.*(\n {2}- .*)*$/m, `tags: [r${made++ % 3}, shared]`));
        },
        () => unlinkSync(pick(files())),
        () => {
          const file = pick(files());
          renameSync(file, join(dir, 'memory', pick(all), `renamed-${made++}.md`));
        },
        () => writeFileSync(join(dir, 'memory', pick(all), `hand-${made++}.md`), `---\ntitle: Hand ${made}\ncreated: 2024-02-0${1 + (made % 9)}T12:00:00.000Z\n---\nbody\n`),
      ];
      const kinds = ['patched', 'scanned'];
      let patchedRounds = 0;
      for (let round = 0; round < 30; round++) {
        for (let n = 1 + Math.floor(random() * 4); n > 0 && files().length > 4; n--) pick(ops)();
        // Settled (the clock a tick past every change), or just made (the real clock: suspects).
        if (random() < 0.5) later();
        else vi.setSystemTime(performance.timeOrigin + performance.now());
        const take = vi.spyOn(Catalog.prototype, 'take');
        const seen = open();
        const list = seen.list({ types: all });
        const summary = seen.summary();
        const ids = list.memories.map((m) => m.id);
        const reads = ids.slice(0, 3).map((id) => seen.read(id));
        if (!take.mock.calls.length) patchedRounds++;
        take.mockRestore();
        const scanned = scanFirst(open());
        const kind = kinds[take.mock.calls.length ? 1 : 0];
        expect(list, `round ${round} (${kind})`).toEqual(scanned.list({ types: all }));
        expect(summary, `round ${round} (${kind})`).toEqual(scanned.summary());
        expect(reads, `round ${round} (${kind})`).toEqual(ids.slice(0, 3).map((id) => scanned.read(id)));
        expect(scanned.problems(), `round ${round}`).toEqual([]);
      }
      expect(patchedRounds).toBeGreaterThan(10); // most rounds were served by the patch
    });

    it('does not trust a record whose file changed just before the catalog was written until its front matter is checked', () => {
      const { byTitle } = setUp();
      const file = byTitle('First');
      appendFileSync(file, '\nAppended by hand.\n');
      // The command runs within a tick of the file's change: its record is a suspect.
      const changed = Math.max(statSync(file).mtimeMs, statSync(file).ctimeMs);
      vi.setSystemTime(changed + 10);
      expect(titles()).toContain('First');
      storage!.close();
      const index = indexOf()!;
      expect(index.suspects).toHaveLength(1);
      // As if the file had been rewritten in that tick with the same size and times: the record
      // (here made to look as if read from other content, in place so the index still holds)
      // no longer matches the file's front matter.
      const path = join(dir, CATALOG_FILE);
      const bytes = readFileSync(path);
      const at = bytes.indexOf('["First"');
      bytes.write('["Fxrst"', at, 'latin1');
      // The digest is the line's sixth column; its last hex digit changed.
      let tab = bytes.lastIndexOf('\n', at) + 1;
      for (let column = 0; column < 6; column++) tab = bytes.indexOf('\t', tab) + 1;
      bytes[tab - 2] = bytes[tab - 2] === 0x30 ? 0x31 : 0x30;
      writeFileSync(path, bytes);
      // A read-only open (which writes nothing) checks the suspect too.
      expect(open(true).list({ types: all }).memories.map((m) => m.title)).toContain('First');
      storage!.close();
      expect(readFileSync(path).equals(bytes)).toBe(true);
      expect(titles()).toEqual(expect.arrayContaining(['First']));
      expect(titles()).not.toContain('Fxrst');
      // Once a tick has passed and its front matter was found unchanged, it is trusted.
      later();
      titles();
      storage!.close();
      expect(indexOf()!.suspects).toEqual([]);
      const trusted = readFileSync(path);
      trusted.write('["Fxrst"', trusted.indexOf('["First"'), 'latin1');
      writeFileSync(path, trusted);
      expect(titles()).toContain('Fxrst'); // served from the record, as any settled record
    });

    it('gives way to the scan for a NUL byte, a changed creation time, and a read-only open', () => {
      const { byTitle } = setUp();
      const broken = byTitle('Bulk 2');
      appendFileSync(broken, 'a NUL \u0000 byte\n');
      later();
      expect(open().problems().map((p) => p.path)).toEqual([expect.stringContaining(broken.slice(broken.lastIndexOf('/') + 1))]);
      writeFileSync(broken, readFileSync(broken, 'utf8').replace('a NUL \u0000 byte\n', ''));
      later();
      expect(open().problems()).toEqual([]);

      const redated = byTitle('Second');
      writeFileSync(redated, readFileSync(redated, 'utf8').replace(/created: .*/, 'created: 2031-01-01T00:00:00.000Z'));
      later();
      expect(open().list({ limit: 1, types: all }).memories.map((m) => m.title)).toEqual(['Second']);

      later();
      open().list({});
      storage!.close();
      const third = open().list({ types: all }).memories.find((m) => m.title === 'Third')!.id;
      storage!.close();
      const before = readFileSync(join(dir, CATALOG_FILE));
      appendFileSync(fileOf(third), '\nAppended.\n');
      storage!.close();
      const readonly = open(true);
      expect(readonly.list({ types: all }).memories).toHaveLength(15);
      expect(readonly.read(third)?.content).toContain('Appended.');
      storage!.close();
      expect(readFileSync(join(dir, CATALOG_FILE)).equals(before)).toBe(true);
    });
  });

  it('repairs a damaged line served from the clean index, and keeps every other line', () => {
    later();
    open().list({}); // written with its clean index
    const path = join(dir, CATALOG_FILE);
    const bytes = readFileSync(path);
    const { indexAt } = catalog();
    expect(indexAt).toBeGreaterThan(0);
    // Damage the last column of the First's line in place, so the index still holds.
    const at = bytes.indexOf('["First"');
    expect(at).toBeGreaterThan(0);
    bytes.write('{', at, 'latin1');
    writeFileSync(path, bytes);
    expect(open().list({}).memories.map((m) => m.title)).toEqual(['Second', 'First']); // read from its file
    storage!.close();
    expect(catalog().rows.map(titleOf).sort()).toEqual(['First', 'Second', 'Third']);
  });

  it('reads every memory in id order from the clean index as a scan does, and lets the scan finish after a damaged line', () => {
    const s = open();
    for (let i = 0; i < 30; i++) {
      s.insert(sampleMemory({ title: `Bulk ${i}`, type: (['short_term', 'long_term', 'archive'] as const)[i % 3], tags: [`t${i % 4}`] }, Date.UTC(2024, 1, 1 + (i % 7), 12)));
    }
    later();
    open().list({}); // written with its clean index
    expect(catalog().indexAt).toBeGreaterThan(0);
    const take = vi.spyOn(Catalog.prototype, 'take');
    const clean = open();
    const fromIndex = [...clean.readAllStored!()];
    expect(clean.problems()).toEqual([]);
    expect(take).not.toHaveBeenCalled(); // no per-file step
    const scanned = scanFirst(open());
    expect(take).toHaveBeenCalled();
    const fromScan = [...scanned.readAllStored!()];
    expect(fromIndex).toEqual(fromScan);
    expect(fromIndex.map((m) => m.id)).toEqual(fromScan.map((m) => m.id).sort());
    expect(fromIndex).toHaveLength(33);

    // A line in the middle of the id order no longer parses (a tab of it turned into a space, so
    // the index still holds): the memories before it come from the index, the rest from the scan,
    // each once.
    const middle = fromScan[15];
    const path = join(dir, CATALOG_FILE);
    const bytes = readFileSync(path);
    const lineAt = bytes.lastIndexOf('\n', bytes.indexOf(`\t${middle.id}\t`)) + 1;
    bytes.write(' ', bytes.indexOf('\t', lineAt), 'latin1');
    writeFileSync(path, bytes);
    take.mockClear();
    const damaged = open();
    expect([...damaged.readAllStored!()]).toEqual(fromScan);
    expect(take).toHaveBeenCalled();
    take.mockRestore();
  });

  it('goes on from the clean index its own scan wrote when a reading command meets a cold catalog, keeping no header', () => {
    const entries = (s: StorageBackend) => (s as unknown as { entries?: Map<string, unknown> }).entries;
    unlinkSync(join(dir, CATALOG_FILE));
    const cold = open();
    expect(cold.list({ types: ['short_term', 'long_term', 'archive'] }).memories.map((m) => m.title).sort()).toEqual(['First', 'Second', 'Third']);
    expect(entries(cold)).toBeUndefined(); // no header of every file
    expect(catalog().indexAt).toBeGreaterThan(0);
    expect(cold.problems()).toEqual([]);
    expect(cold.summary().counts).toEqual({ short_term: 1, long_term: 1, archive: 1 });
    expect(entries(cold)).toBeUndefined();
    // The files it read were written within a tick of it: the next command checks them, and still reads none.
    const take = vi.spyOn(Catalog.prototype, 'take');
    expect(titles()).toEqual(['First', 'Second', 'Third']);
    expect(take).not.toHaveBeenCalled();
    take.mockRestore();

    // A file it cannot read: no clean index can be made, so the scan keeps its headers and says
    // why; the catalog it leaves has no index, and the next command scans with headers at once.
    writeFileSync(join(dir, 'memory', 'short_term', 'broken.md'), '---\ntitle: [unclosed\n---\nbody');
    unlinkSync(join(dir, CATALOG_FILE));
    const broken = open();
    expect(broken.list({}).memories.map((m) => m.title).sort()).toEqual(['First', 'Second']);
    expect(broken.problems().map((p) => p.path)).toEqual(['memory/short_term/broken.md']);
    expect(entries(broken)).toBeDefined();
    expect(catalog().indexAt).toBe(0);
    const again = open();
    const lean = vi.spyOn(again as unknown as { scanAll(keep: boolean): unknown }, 'scanAll');
    expect(again.problems()).toHaveLength(1);
    expect(lean.mock.calls).toEqual([['headers']]);

    // Two files with one id (a copy made by hand): the scan without headers writes no clean index
    // (the id order shows the twins), and the scan with headers reports the copy.
    unlinkSync(join(dir, 'memory', 'short_term', 'broken.md'));
    const first = fileOf(open().list({}).memories.find((m) => m.title === 'First')!.id);
    writeFileSync(join(dir, 'memory', 'short_term', 'copy-of-first.md'), readFileSync(first));
    unlinkSync(join(dir, CATALOG_FILE));
    const twins = open();
    expect(twins.list({}).memories.map((m) => m.title).sort()).toEqual(['First', 'Second']);
    expect(twins.problems().map((p) => p.message)).toEqual([expect.stringMatching(/^duplicate id /)]);
    expect(catalog().indexAt).toBe(0);
  });

  it('reads many memories by id through the clean index, in its id order or in another backend\'s, as a scan finds them', () => {
    // Ids in mixed case: SQLite's order (code points) is not the index's (ignoring case).
    const s = open();
    const ids: string[] = [];
    for (let i = 0; i < 60; i++) {
      const id = `${i % 2 ? 'M' : 'm'}${String(i).padStart(3, '0')}x`;
      ids.push(id);
      s.insert({ ...sampleMemory({ title: `By id ${i}` }, Date.UTC(2024, 3, 1, 0, i)), id });
    }
    later();
    open().list({}); // written with its clean index
    for (const order of [[...ids].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())), [...ids].sort()]) {
      const take = vi.spyOn(Catalog.prototype, 'take');
      const clean = open();
      const read = order.map((id) => clean.read(id)?.title);
      expect(read).toEqual(order.map((id) => `By id ${Number(id.slice(1, 4))}`));
      expect(clean.read('m999x')).toBeUndefined(); // not in the index, which holds every memory: no scan either
      // In the index's own order every read is found next to the one before: no scan at all.
      if (order[0] === 'm000x' && order[1] === 'M001x') expect(take).not.toHaveBeenCalled();
      take.mockRestore();
    }
  });

  it('replaces a catalog of an earlier version', () => {
    const old = join(dir, '.whitemagic-catalog.json');
    writeFileSync(old, JSON.stringify({ version: 1, scannedAt: 0, count: 0, files: {} }));
    unlinkSync(join(dir, CATALOG_FILE));
    expect(titles()).toEqual(['First', 'Second', 'Third']);
    expect(existsSync(join(dir, CATALOG_FILE))).toBe(true);
    expect(existsSync(old)).toBe(false);
  });

  it('writes the lines of a bulk write from its spool: a repeated id, and memories changed, moved and removed after it, end as the last write left them', () => {
    bulkSync.batch = 2; // files flushed two at a time, as 4,096 are
    const s = open();
    const [a, b, c, d] = ['Bulk A', 'Bulk B', 'Bulk C', 'Bulk D'].map((title, i) => sampleMemory({ title, tags: [`t${i}`] }, Date.UTC(2024, 1, 1 + i)));
    expect(s.insertMany([a, { ...b, type: 'long_term' }, { ...a, title: 'Bulk A, again' }, c, d], 'replace')).toEqual({ inserted: 4, skipped: 0, replaced: 1 });
    // No spool file shows in the context, even while the command runs.
    expect(readdirSync(dir).filter((name) => name.startsWith(`${CATALOG_FILE}.`))).toEqual([]);
    expect(s.read(a.id)?.title).toBe('Bulk A, again');
    s.update({ ...s.read(b.id)!, title: 'Bulk B, updated' });
    s.update({ ...s.read(c.id)!, type: 'archive' });
    s.remove(d.id);
    const expected = ['Bulk A, again', 'Bulk B, updated', 'Bulk C', 'First', 'Second', 'Third'];
    expect(s.list({ types: ['short_term', 'long_term', 'archive'] }).memories.map((m) => m.title).sort()).toEqual(expected);
    s.close();
    expect(readdirSync(dir).filter((name) => name.startsWith(`${CATALOG_FILE}.`))).toEqual([]);
    // The catalog written on close is the one a scan of the files builds: every line, current, in reading order.
    const rows = () => catalog().rows;
    const written = rows();
    expect(written.map(titleOf).sort()).toEqual(expected);
    unlinkSync(join(dir, CATALOG_FILE));
    expect(titles()).toEqual(expected);
    storage!.close();
    expect(rows()).toEqual(written);
  });

  it('leaves after a bulk write a catalog the next command trusts: it reads none of the files written, and sees one changed since', () => {
    const s = open();
    const restored = Array.from({ length: 5 }, (_, i) => sampleMemory({ title: `Restored ${i}` }, Date.UTC(2024, 2, 1 + i)));
    s.insertMany(restored);
    s.close();
    expect(catalog().indexAt).toBeGreaterThan(0);
    const take = vi.spyOn(Catalog.prototype, 'take');
    const expected = ['First', 'Restored 0', 'Restored 1', 'Restored 2', 'Restored 3', 'Restored 4', 'Second', 'Third'];
    expect(titles()).toEqual(expected);
    expect(take).not.toHaveBeenCalled(); // served from the clean index: no per-file step
    const file = fileOf(restored[2].id);
    writeFileSync(file, readFileSync(file, 'utf8').replace('title: Restored 2', 'title: Restored, then edited'));
    expect(titles()).toEqual(expected.map((t) => (t === 'Restored 2' ? 'Restored, then edited' : t)).sort());
  });

  it('keeps the catalog current with its own writes, and a read-only open writes nothing', () => {
    const firstId = open().list({}).memories.find((m) => m.title === 'First')!.id;
    const s = open();
    const created = s.insert(sampleMemory({ title: 'Fourth' }, Date.UTC(2024, 0, 4)), { freshId: true });
    s.update({ ...s.read(firstId)!, title: 'First, updated', type: 'long_term' });
    s.remove(created.id);
    expect(titles()).toEqual(['First, updated', 'Second', 'Third']);
    later();
    expect(catalog().rows.map(titleOf).sort()).toEqual(['First, updated', 'Second', 'Third']);

    unlinkSync(join(dir, CATALOG_FILE));
    open(true).list({});
    storage!.close();
    expect(existsSync(join(dir, CATALOG_FILE))).toBe(false);
  });
});
