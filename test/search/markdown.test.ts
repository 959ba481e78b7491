import { appendFileSync, chmodSync, existsSync, mkdirSync, readdirSync, symlinkSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fileURLToPath } from 'node:url';
import { INDEX_FILE } from '../../src/storage/markdown/search-index.js';
import { SearchIndex } from '../../src/search/fts.js';
import { builtFile, setNativeAddon } from '../../src/util/native.js';
import { sampleMemory } from '../storage/conformance.js';
import { BIN, UNPRIVILEGED, handTo } from '../helpers/cli.js';
import { backendWith, find, searchSuite } from './search-suite.js';

searchSuite('markdown');

/**
 * The markdown backend's derived index: hand edits, its file, its checks. With the native addon
 * (where built) the index knows nothing changed by a digest of the listing; without it, by the
 * listing kept whole: both ways.
 */
const reads = existsSync(fileURLToPath(new URL('../../build/Release/whitemagic_native.node', import.meta.url))) ? ['native', 'plain'] : ['plain'];
describe.each(reads)('markdown search index (folders read %s)', (read) => {
  let ctx: Awaited<ReturnType<typeof backendWith>>;
  const folder = () => join(ctx.dir, 'memory', 'short_term');
  const fileOf = (title: string) => readdirSync(folder()).find((f) => readFileSync(join(folder(), f), 'utf8').includes(`title: ${title}`))!;
  const titles = (q: string) => find(ctx.storage, q).hits.map((h) => h.title);
  // Hand edits happen between commands: each command opens the backend afresh.
  const nextCommand = () => ctx.reopen();

  beforeEach(async () => {
    setNativeAddon(read === 'native');
    ctx = await backendWith('markdown', [
      sampleMemory({ title: 'Alpha notes', content: 'apples and pears' }, Date.UTC(2024, 0, 1)),
      sampleMemory({ title: 'Beta notes', content: 'bananas and cherries' }, Date.UTC(2024, 0, 2)),
    ]);
  });
  afterEach(() => {
    ctx.cleanup();
    setNativeAddon(undefined);
  });

  it('is a file inside the context, owner-only, made by the first search', () => {
    expect(existsSync(join(ctx.dir, INDEX_FILE))).toBe(false);
    expect(titles('apples')).toEqual(['Alpha notes']);
    expect(statSync(join(ctx.dir, INDEX_FILE)).mode & 0o777).toBe(0o600);
  });

  it('indexes changed files with a small page cache, and gives the connection its own back for the search', () => {
    expect(titles('apples')).toEqual(['Alpha notes']);
    nextCommand();
    writeFileSync(join(folder(), 'by-hand.md'), '---\ntitle: Gamma by hand\n---\n\ngrapes\n');
    const told = vi.spyOn(Database.prototype, 'pragma');
    try {
      expect(titles('grapes')).toEqual(['Gamma by hand']);
      const sizes = told.mock.calls.map((c) => String(c[0])).filter((c) => c.startsWith('cache_size ='));
      expect(sizes).toEqual(['cache_size = -2000', 'cache_size = -16000']);
    } finally {
      told.mockRestore();
    }
  });

  it('knows from the listing alone that nothing changed, and sees the next change', () => {
    const past = new Date(Date.now() - 3_600_000);
    for (const f of readdirSync(folder())) utimesSync(join(folder(), f), past, past);
    expect(titles('apples')).toEqual(['Alpha notes']); // every file settled: the listing is recorded
    nextCommand();
    const prepared = vi.spyOn(Database.prototype, 'prepare');
    try {
      expect(titles('apples')).toEqual(['Alpha notes']);
      expect(prepared.mock.calls.map((c) => String(c[0])).filter((sql) => sql.includes('FROM files'))).toEqual([]);
    } finally {
      prepared.mockRestore();
    }
    nextCommand();
    const alpha = fileOf('Alpha notes');
    writeFileSync(join(folder(), alpha), readFileSync(join(folder(), alpha), 'utf8').replace('apples and pears', 'plums only'));
    expect(titles('plums')).toEqual(['Alpha notes']);
    expect(titles('apples')).toEqual([]);
  });

  it('sees files added, edited, renamed and removed by hand', () => {
    expect(titles('notes')).toHaveLength(2);
    nextCommand();
    writeFileSync(join(folder(), 'by-hand.md'), '---\ntitle: Gamma by hand\ntags: fruit, hand\n---\n\ngrapes\n');
    const alpha = fileOf('Alpha notes');
    writeFileSync(join(folder(), alpha), readFileSync(join(folder(), alpha), 'utf8').replace('apples and pears', 'plums only'));
    const beta = fileOf('Beta notes');
    renameSync(join(folder(), beta), join(folder(), 'renamed.md'));
    expect(titles('grapes')).toEqual(['Gamma by hand']);
    expect(titles('fruit')).toEqual(['Gamma by hand']);
    expect(titles('apples')).toEqual([]);
    expect(titles('plums')).toEqual(['Alpha notes']);
    expect(titles('bananas')).toEqual(['Beta notes']);
    nextCommand();
    rmSync(join(folder(), 'renamed.md'));
    expect(titles('bananas')).toEqual([]);
    expect(titles('notes')).toEqual(['Alpha notes']);
  });

  it('follows no link out of the context: a linked file or folder is not indexed', () => {
    const outside = join(ctx.dir, '..', `outside-${process.pid}`);
    mkdirSync(join(outside, 'folder'), { recursive: true });
    try {
      writeFileSync(join(outside, 'secret.md'), '---\ntitle: Secret file\n---\n\nclassified\n');
      writeFileSync(join(outside, 'folder', 'other.md'), '---\ntitle: Secret folder\n---\n\nclassified\n');
      symlinkSync(join(outside, 'secret.md'), join(folder(), 'link.md'));
      rmSync(join(ctx.dir, 'memory', 'archive'), { recursive: true, force: true });
      symlinkSync(join(outside, 'folder'), join(ctx.dir, 'memory', 'archive'));
      expect(titles('classified')).toEqual([]);
      expect(titles('notes')).toHaveLength(2);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('loses nothing when the index is deleted', () => {
    const before = find(ctx.storage, 'notes');
    ctx.storage.close();
    for (const f of readdirSync(ctx.dir)) if (f.startsWith(INDEX_FILE)) rmSync(join(ctx.dir, f));
    nextCommand();
    expect(find(ctx.storage, 'notes')).toEqual(before);
  });

  it('keeps its -wal and -shm files between commands, the WAL emptied when the last connection closes', () => {
    // With the ranking extension (built in CI) SQLite is told to keep both files; without it, it
    // deletes them at close, as it does by default.
    const kept = builtFile('whitemagic_rank.node') !== undefined;
    const wal = join(ctx.dir, `${INDEX_FILE}-wal`);
    expect(titles('apples')).toEqual(['Alpha notes']); // the first search writes every row
    ctx.storage.close();
    expect(existsSync(wal)).toBe(kept);
    expect(existsSync(join(ctx.dir, `${INDEX_FILE}-shm`))).toBe(kept);
    if (kept) expect(statSync(wal).size).toBe(0);
    nextCommand();
    writeFileSync(join(folder(), 'by-hand.md'), '---\ntitle: Gamma by hand\n---\n\ngrapes\n');
    expect(titles('grapes')).toEqual(['Gamma by hand']); // a sync that writes
    ctx.storage.close();
    if (kept) expect(statSync(wal).size).toBe(0);
  });

  it('still searches with a ranking extension built before it could keep the -wal and -shm files', () => {
    const prepare = Database.prototype.prepare;
    const older = vi.spyOn(Database.prototype, 'prepare').mockImplementation(function (this: Database.Database, sql: string) {
      if (sql.includes('wm_keep_wal')) throw new Error('no such function: wm_keep_wal');
      return prepare.call(this, sql);
    });
    try {
      expect(titles('apples')).toEqual(['Alpha notes']);
      expect(older.mock.calls.some(([sql]) => String(sql).includes('wm_keep_wal'))).toBe(builtFile('whitemagic_rank.node') !== undefined);
      ctx.storage.close();
      expect(existsSync(join(ctx.dir, `${INDEX_FILE}-wal`))).toBe(false); // deleted at close, as SQLite does
    } finally {
      older.mockRestore();
    }
  });

  it('loses nothing when the index file alone is deleted, its -wal and -shm left beside it', () => {
    const before = find(ctx.storage, 'notes');
    ctx.storage.close();
    rmSync(join(ctx.dir, INDEX_FILE));
    nextCommand();
    expect(find(ctx.storage, 'notes')).toEqual(before);
    expect(ctx.storage.checkIndex()).toMatchObject({ present: true, pending: 0, drift: [] });
  });

  it('rebuilds an index that is not a database', () => {
    titles('apples');
    ctx.storage.close();
    for (const f of readdirSync(ctx.dir)) if (f.startsWith(INDEX_FILE)) rmSync(join(ctx.dir, f));
    writeFileSync(join(ctx.dir, INDEX_FILE), 'this is not sqlite at all, just some text that is long enough '.repeat(100));
    nextCommand();
    expect(titles('apples')).toEqual(['Alpha notes']);
  });

  it('reports unreadable files by name and still searches the rest', () => {
    writeFileSync(join(folder(), 'broken.md'), '---\ntitle: [unclosed\n---\nbody apples\n');
    nextCommand();
    const r = find(ctx.storage, 'apples');
    expect(r.hits.map((h) => h.title)).toEqual(['Alpha notes']);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0].path).toBe('memory/short_term/broken.md');
  });

  it('reports a duplicate id once, keeping the newer file, as list does', () => {
    const alpha = fileOf('Alpha notes');
    const text = readFileSync(join(folder(), alpha), 'utf8').replace(/updated: .*/, "updated: '2030-01-01T00:00:00.000Z'").replace('apples', 'quinces');
    writeFileSync(join(folder(), 'copy.md'), text);
    nextCommand();
    const r = find(ctx.storage, 'notes');
    expect(r.hits.map((h) => h.title).sort()).toEqual(['Alpha notes', 'Beta notes']);
    expect(titles('quinces')).toEqual(['Alpha notes']);
    expect(titles('apples')).toEqual([]);
    expect(r.problems.map((p) => p.path)).toEqual([`memory/short_term/${alpha}`]);
    expect(ctx.storage.list({}).problems.map((p) => p.path)).toEqual([`memory/short_term/${alpha}`]);
    // A rebuild meets both files in one pass (the older first, by name): the newer still wins.
    expect(alpha < 'copy.md').toBe(true);
    ctx.storage.reindex();
    expect(titles('quinces')).toEqual(['Alpha notes']);
    expect(titles('apples')).toEqual([]);
  });

  it('follows an id changed by hand to another file\'s id and back: the newer file holds it, the old id goes and comes back', () => {
    const alpha = fileOf('Alpha notes');
    const beta = fileOf('Beta notes');
    const idOf = (file: string) => /\nid: (.*)/.exec(readFileSync(join(folder(), file), 'utf8'))![1];
    const [alphaId, betaId] = [idOf(alpha), idOf(beta)];
    titles('notes');
    // Beta takes Alpha's id, and is the newer: Beta's text is what that id finds; Beta's own id finds nothing.
    const betaText = readFileSync(join(folder(), beta), 'utf8');
    writeFileSync(join(folder(), beta), betaText.replace(`id: ${betaId}`, `id: ${alphaId}`).replace(/updated: .*/, "updated: '2030-01-01T00:00:00.000Z'"));
    nextCommand();
    const taken = find(ctx.storage, 'notes');
    expect(taken.hits.map((h) => [h.id, h.title])).toEqual([[alphaId, 'Beta notes']]);
    expect(taken.problems.map((p) => p.path)).toEqual([`memory/short_term/${alpha}`]);
    // Back to its own id: both found again, each under its own id.
    writeFileSync(join(folder(), beta), betaText);
    nextCommand();
    const back = find(ctx.storage, 'notes');
    expect(back.hits.map((h) => [h.id, h.title]).sort()).toEqual([[alphaId, 'Alpha notes'], [betaId, 'Beta notes']].sort());
    expect(back.problems).toEqual([]);
  });

  it('drops a memory whose file no longer reads: its id finds nothing until the file is mended', () => {
    const alpha = fileOf('Alpha notes');
    const text = readFileSync(join(folder(), alpha), 'utf8');
    expect(titles('apples')).toEqual(['Alpha notes']);
    writeFileSync(join(folder(), alpha), '---\ntitle: [never closed\n---\n\napples\n');
    nextCommand();
    const broken = find(ctx.storage, 'apples');
    expect(broken.hits).toEqual([]);
    expect(broken.problems.map((p) => p.path)).toEqual([`memory/short_term/${alpha}`]);
    writeFileSync(join(folder(), alpha), text);
    nextCommand();
    expect(titles('apples')).toEqual(['Alpha notes']);
  });

  it('doctor compares every memory with the index on a small page cache', () => {
    titles('apples');
    nextCommand();
    const compare = SearchIndex.prototype.drift;
    const during: unknown[] = [];
    const drift = vi.spyOn(SearchIndex.prototype, 'drift').mockImplementation(function (this: SearchIndex, ...args) {
      during.push(this.db.pragma('cache_size', { simple: true }));
      return compare.apply(this, args);
    });
    try {
      expect(ctx.storage.checkIndex()).toMatchObject({ present: true, pending: 0, drift: [] });
    } finally {
      drift.mockRestore();
    }
    expect(during).toEqual([-2000]);
  });

  it('doctor: pending changes are not drift; an edit keeping size and mtime is, and reindex repairs it', () => {
    expect(ctx.storage.checkIndex()).toEqual({ present: false, pending: 2, drift: [] });
    titles('apples');
    nextCommand();
    expect(ctx.storage.checkIndex()).toMatchObject({ pending: 0, drift: [] });
    // An edit that keeps size and modification time: invisible to the change check.
    const alpha = join(folder(), fileOf('Alpha notes'));
    const old = Date.now() / 1000 - 3600;
    utimesSync(alpha, old, old);
    nextCommand();
    titles('apples');
    writeFileSync(alpha, readFileSync(alpha, 'utf8').replace('apples', 'lemons'));
    utimesSync(alpha, old, old);
    nextCommand();
    expect(titles('lemons')).toEqual([]);
    const check = ctx.storage.checkIndex();
    expect(check.drift).toEqual([{ id: expect.any(String), kind: 'stale', path: `memory/short_term/${fileOf('Alpha notes')}` }]);
    // A file added since the last search is pending, not drift.
    writeFileSync(join(folder(), 'new.md'), '---\ntitle: New one\n---\n\nnew\n');
    nextCommand();
    expect(ctx.storage.checkIndex()).toMatchObject({ pending: 1, drift: [expect.objectContaining({ kind: 'stale' })] });
    expect(ctx.storage.reindex()).toEqual({ indexed: 3 });
    expect(titles('lemons')).toEqual(['Alpha notes']);
    nextCommand();
    expect(ctx.storage.checkIndex()).toMatchObject({ pending: 0, drift: [] });
  });

  /** A document of an id no file holds, as a damaged index may keep (its text row too, so FTS5's counts agree). */
  const addGhost = (id: string) => {
    const raw = new Database(join(ctx.dir, INDEX_FILE));
    const { rowid } = raw
      .prepare("INSERT INTO search_doc (id, type, title, tags, created, updated) VALUES (?, 'short_term', 'Ghost', '[]', '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z') RETURNING rowid")
      .get(id) as { rowid: number };
    raw.prepare("INSERT INTO search_fts (rowid, title, tags, content, facets) VALUES (?, 'ghost', '', '', '')").run(rowid);
    raw.close();
  };
  /** Runs doctor's check, noting the ids of the memories it compares with the index. */
  const checkComparing = () => {
    const compared: string[] = [];
    let passes = 0;
    const compare = SearchIndex.prototype.drift;
    const drift = vi.spyOn(SearchIndex.prototype, 'drift').mockImplementation(function (this: SearchIndex, memories, skip) {
      passes++;
      const noted = (function* () {
        for (const m of memories) {
          compared.push(m.id);
          yield m;
        }
      })();
      return compare.call(this, noted, skip);
    });
    try {
      return { check: ctx.storage.checkIndex(), compared, passes };
    } finally {
      drift.mockRestore();
    }
  };

  /** Every file's mtime set an hour back (the index records them as they are, not as just changed). */
  const settle = () => {
    const old = Date.now() / 1000 - 3600;
    for (const name of readdirSync(folder())) utimesSync(join(folder(), name), old, old);
    nextCommand();
  };

  it('doctor: in a context copied in (every file pending) it compares nothing, and still names a document no file holds', () => {
    settle();
    titles('apples');
    addGhost('ghost-a');
    // As after `cp -r`: every file's mtime is new to the index.
    const now = Date.now() / 1000;
    for (const name of readdirSync(folder())) utimesSync(join(folder(), name), now, now);
    nextCommand();
    const { check, compared, passes } = checkComparing();
    // No comparison at all: no pass over the memories, no set of the ids not to compare.
    expect(passes).toBe(0);
    expect(compared).toEqual([]);
    expect(check).toEqual({ present: true, pending: 2, drift: [{ id: 'ghost-a', kind: 'orphan' }] });
    // A document of an id that a pending file holds is no orphan: the next search takes it in.
    const raw = new Database(join(ctx.dir, INDEX_FILE));
    const beta = (raw.prepare("SELECT id FROM files WHERE name LIKE '%beta%'").pluck().get() as string | undefined)!;
    raw.prepare('DELETE FROM files WHERE id = ?').run(beta);
    raw.close();
    nextCommand();
    expect(checkComparing().check).toEqual({ present: true, pending: 2, drift: [{ id: 'ghost-a', kind: 'orphan' }] });
  });

  it('doctor: reads only the files it compares, not those pending', () => {
    settle();
    titles('apples');
    addGhost('ghost-a');
    const alpha = fileOf('Alpha notes');
    writeFileSync(join(folder(), alpha), readFileSync(join(folder(), alpha), 'utf8').replace('apples', 'apples and plums'));
    nextCommand();
    const { check, compared, passes } = checkComparing();
    expect(check).toEqual({ present: true, pending: 1, drift: [{ id: 'ghost-a', kind: 'orphan' }] });
    expect(passes).toBe(1);
    expect(compared).toHaveLength(1);
    expect(find(ctx.storage, 'bananas').hits.map((h) => h.id)).toEqual(compared);
  });

  it('takes in each change made by hand: the index is then in step with every file', () => {
    // Files get distinct times in the past: a file changed within a tick of a sync is recorded as
    // changed just now, and is told by its content; here each is told by its stat.
    let tick = 0;
    const settleFile = (path: string) => {
      const at = Date.now() / 1000 - 7200 + ++tick;
      utimesSync(path, at, at);
    };
    const longTerm = join(ctx.dir, 'memory', 'long_term');
    mkdirSync(longTerm, { recursive: true });
    const memoryFiles = () => [folder(), longTerm].flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.md')).map((f) => join(dir, f)));
    for (const file of memoryFiles()) settleFile(file);
    nextCommand();
    titles('apples');
    const changes: Array<(n: number) => string> = [
      (n) => {
        const file = join(folder(), `by-hand-${n}.md`);
        writeFileSync(file, `---\ntitle: Added ${n}\n---\n\nword${n}\n`);
        return file;
      },
      () => {
        const file = memoryFiles()[0];
        appendFileSync(file, '\nappended by hand\n');
        return file;
      },
      (n) => {
        const [file, other] = memoryFiles();
        writeFileSync(file, readFileSync(file, 'utf8').replace(/^title: .*$/m, `title: Retitled ${n}`));
        rmSync(other);
        return file;
      },
      (n) => {
        const file = memoryFiles()[0];
        const renamed = join(folder(), `renamed-${n}.md`);
        renameSync(file, renamed);
        return renamed;
      },
      () => {
        const file = memoryFiles().find((f) => f.startsWith(folder()))!;
        const moved = join(longTerm, `moved-${tick}.md`);
        renameSync(file, moved);
        return moved;
      },
      (n) => {
        // Another id in the same file: the old id's document must go.
        const file = memoryFiles().find((f) => /^id: /m.test(readFileSync(f, 'utf8')))!;
        writeFileSync(file, readFileSync(file, 'utf8').replace(/^id: .*$/m, `id: by-hand-${n}`));
        return file;
      },
    ];
    for (let round = 0; round < 2 * changes.length; round++) {
      settleFile(changes[round % changes.length](round));
      if (round % changes.length === 2) changes[0](100 + round); // keep enough files to go on
      for (const file of memoryFiles()) if (statSync(file).mtimeMs > Date.now() - 60_000) settleFile(file);
      nextCommand();
      titles(`word${round}`);
      // Every row is where a look at each would put it, and every document is its file's.
      nextCommand();
      expect(ctx.storage.checkIndex(), `round ${round}`).toMatchObject({ pending: 0, drift: [] });
    }
  });

  it('searches a context it cannot write, with an index in memory', (test) => {
    // Root ignores modes (the tests run as root here and in CI): then the search runs as a user
    // without privileges, through the command line. Skipped only as root with a build that user
    // cannot read (a checkout inside a private folder); in CI and here the test runs.
    const asRoot = process.getuid?.() === 0;
    if (asRoot && !handTo(UNPRIVILEGED, ctx.dir, ctx.dir)) return test.skip('running as root, and the build is not readable by an unprivileged user');
    chmodSync(ctx.dir, 0o500);
    try {
      if (asRoot) {
        const r = spawnSync(process.execPath, [BIN, '--base-dir', ctx.dir, '--json', 'search', 'apples'], {
          uid: UNPRIVILEGED,
          gid: UNPRIVILEGED,
          env: { PATH: process.env.PATH, HOME: ctx.dir },
          encoding: 'utf8',
        });
        expect(r.status, r.stderr).toBe(0);
        expect((JSON.parse(r.stdout) as { hits: Array<{ title: string }> }).hits.map((h) => h.title)).toEqual(['Alpha notes']);
      } else {
        nextCommand();
        expect(titles('apples')).toEqual(['Alpha notes']);
      }
      expect(existsSync(join(ctx.dir, INDEX_FILE))).toBe(false);
    } finally {
      chmodSync(ctx.dir, 0o700);
    }
  });
});
