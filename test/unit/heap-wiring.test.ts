import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Context } from '../../src/context/context.js';
import { counted } from '../../src/commands/progress.js';
import { verifyBackup } from '../../src/commands/backup.js';
import { writeArchive } from '../../src/backup/archive.js';
import markdown from '../../src/storage/markdown/index.js';
import sqlite from '../../src/storage/sqlite/index.js';
import { listPages } from '../../src/storage/list-pages.js';
import type { ListQuery } from '../../src/storage/types.js';
import { CATALOG_FILE } from '../../src/storage/markdown/catalog.js';
import { allowHeapTuning, HeapPacer, itemsReported } from '../../src/util/heap.js';
import { parseQuery } from '../../src/search/query.js';
import { sampleMemory } from '../storage/conformance.js';

// The pacer's effect is measured by the benchmark's peak-memory rows; this checks it is fed: by
// every bulk loop's items and every file a scan reads, and only in the command line's process.
describe('items reported to the heap pacer', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('are none from a library, then each item of a bulk loop, each file a cold scan reads and each header it moves, each file a manifest lists, each memory the search index takes in', async () => {
    const quiet = { options: {} } as unknown as Context;
    expect([...counted(quiet, 'copy', [1, 2, 3], 3)]).toEqual([1, 2, 3]);
    dir = mkdtempSync(join(tmpdir(), 'wm-pacer-'));
    markdown.create(dir);
    const s = markdown.open(dir, {});
    for (let i = 0; i < 5; i++) s.insert(sampleMemory({ title: `Memory ${i}` }));
    s.close();
    rmSync(join(dir, CATALOG_FILE));
    markdown.open(dir, {}).list({});
    expect(itemsReported()).toBe(0); // not allowed: a library leaves its host's collector alone

    allowHeapTuning();
    // The pacer starts at the first item, and starts the loop (a collection first when much is in use).
    const startLoop = vi.spyOn(HeapPacer.prototype, 'startLoop');
    expect([...counted(quiet, 'copy', Array.from({ length: 300 }, (_, i) => i), 300)]).toHaveLength(300);
    expect(startLoop).toHaveBeenCalledTimes(1);
    startLoop.mockRestore();
    expect(itemsReported()).toBe(300);
    const done: number[] = [];
    const watched = { options: { progress: (_label: string, n: number) => done.push(n) } } as unknown as Context;
    expect([...counted(watched, 'copy', ['a', 'b'], 2)]).toEqual(['a', 'b']);
    expect(itemsReported()).toBe(302);
    expect(done).toEqual([1, 2, 2]);

    // A cold catalog read by a list: every file is read, and the list goes on from the clean index
    // the scan wrote, keeping no header.
    rmSync(join(dir, CATALOG_FILE));
    const open = markdown.open(dir, {});
    expect(open.list({}).memories).toHaveLength(5);
    open.close();
    expect(itemsReported()).toBe(302 + 5);
    // Written to (a scan that keeps the headers): every file is read, then each header moves to the catalog the scan wrote.
    rmSync(join(dir, CATALOG_FILE));
    const written = markdown.open(dir, {});
    written.insertMany([sampleMemory({ title: 'Memory 5' })]);
    expect(itemsReported()).toBe(302 + 5 + 5 + 5);
    written.close();

    // A backup's check: each file its manifest lists (before any entry is read), then each entry.
    const archive = join(dir, 'b.tar.gz');
    await writeArchive(
      Array.from({ length: 4 }, (_, i) => sampleMemory({ title: `Archived ${i}` })),
      { context: { name: 'c', path: '/c' }, backend: 'markdown', kind: 'backup' },
      archive,
    );
    const beforeCheck = itemsReported();
    expect((await verifyBackup(archive)).ok).toBe(true);
    expect(itemsReported() - beforeCheck).toBe(4 + 5); // the entries: the manifest and four memories

    // The search index: each file its sync reads (the first search in a context, or after files
    // changed, which no progress is watched for), and each memory a rebuild indexes.
    const beforeSearch = itemsReported();
    const searched = markdown.open(dir, {});
    expect(searched.search({ query: parseQuery('memory') }).total).toBe(6);
    expect(itemsReported() - beforeSearch).toBe(6);
    expect(searched.reindex().indexed).toBe(6);
    expect(itemsReported() - beforeSearch).toBe(12);
    searched.close();
    // A list read in pages: a list of one page (the everyday one) reports nothing, a longer one
    // each memory past its first page.
    const listed = markdown.open(dir, {});
    const everyType: ListQuery = { types: ['short_term', 'long_term', 'archive'] };
    const beforeList = itemsReported();
    expect([...listPages(listed, { ...everyType, limit: 3 }, 10)].flatMap((p) => p.memories)).toHaveLength(3);
    expect(itemsReported() - beforeList).toBe(0);
    expect([...listPages(listed, { ...everyType }, 4)].flatMap((p) => p.memories)).toHaveLength(6);
    expect(itemsReported() - beforeList).toBe(2);
    listed.close();
    const sqliteDir = join(dir, 'sqlite');
    mkdirSync(sqliteDir);
    sqlite.create(sqliteDir);
    const db = sqlite.open(sqliteDir, {});
    db.insertMany(Array.from({ length: 3 }, (_, i) => sampleMemory({ title: `Row ${i}` })));
    const beforeRows = itemsReported();
    expect(db.reindex().indexed).toBe(3);
    expect(itemsReported() - beforeRows).toBe(3);
    db.close();
  });
});
