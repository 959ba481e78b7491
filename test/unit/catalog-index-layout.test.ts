import { describe, expect, it } from 'vitest';
import { CatalogIndex } from '../../src/storage/markdown/catalog.js';
import { FIELDS, type FolderListing } from '../../src/storage/markdown/folder-listing.js';

/** A listing of `names` with made-up stats (FIELDS numbers a name). */
const listing = (names: string[]): FolderListing => ({ names, stats: Float64Array.from({ length: names.length * FIELDS }, (_, i) => i * 1.5) });

describe('the catalog index as bytes', () => {
  it('is the same bytes as one buffer (kept by a catalog reopened on its file) as in parts (written and let go)', () => {
    // Names of more bytes than characters, a missing folder, an empty one.
    const listings = [listing(['2024-01-01-café-0a1b.md', '2024-01-02-日本語-0c2d.md', 'plain.md']), undefined, listing([])];
    const summary = { counts: { short_term: 3, long_term: 0, archive: 0 }, tags: { été: 2 }, bytes: 1234 };
    const lines = Uint32Array.from([100, 180, 260]);
    const types = Uint8Array.from([0, 0, 0]);
    const byCreated = Uint32Array.from([2, 0, 1]);
    const byId = Uint32Array.from([0, 1, 2]);
    const parts = CatalogIndex.rebuiltBytes(listings, summary, [1], lines, types, byCreated, byId, false);
    const whole = CatalogIndex.rebuiltBytes(listings, summary, [1], lines, types, byCreated, byId, true);
    expect(parts.length).toBeGreaterThan(1);
    expect(whole).toHaveLength(1);
    expect(Buffer.from(whole[0])).toEqual(Buffer.concat(parts));
    // And it reads back as the index it describes.
    const index = CatalogIndex.parse(Buffer.from(whole[0]), 300)!;
    expect(index.records).toBe(3);
    expect(index.matches(listings)).toBe(true);
    expect(index.byId(2)).toBe(2);
  });
});

describe("the catalog index's record of each folder's own stat", () => {
  /** A listing whose folder has inode 42 and these times, read at `listedAt`. */
  const withFolder = (names: string[], mtimeMs: number, ctimeMs: number, listedAt: number): FolderListing => ({
    ...listing(names),
    folder: Float64Array.from([42, mtimeMs, ctimeMs, listedAt]),
  });
  const indexOf = (listings: Array<FolderListing | undefined>) => {
    const n = listings.reduce((sum, l) => sum + (l?.names.length ?? 0), 0);
    const summary = { counts: { short_term: n, long_term: 0, archive: 0 }, tags: {}, bytes: 0 };
    const records = Uint32Array.from({ length: n }, (_, r) => 100 * r);
    const [whole] = CatalogIndex.rebuiltBytes(listings, summary, [], records, new Uint8Array(n), records.map((_, r) => r), records.map((_, r) => r), true);
    const bytes = Buffer.from(whole);
    return { index: CatalogIndex.parse(bytes, 1000)!, head: bytes.toString('latin1', 4, 4 + bytes.readUInt32LE(0)) };
  };
  const hex = (ms: number) => {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, ms);
    return view.getBigUint64(0).toString(16).padStart(16, '0');
  };

  it('records a folder that had settled when it was read, as native/folder.c reads it, and only then', () => {
    const listedAt = 1_700_000_000_123.25;
    const settled = withFolder(['a.md'], listedAt - 5000.5, listedAt - 4000.75, listedAt);
    // Changed within the racy window before the read (file-times.ts): a change after it could keep those times.
    const racy = withFolder(['b.md'], listedAt - 5000.5, listedAt - 10, listedAt);
    const { index, head } = indexOf([settled, racy, undefined]);
    expect(JSON.parse(head).folders).toEqual([
      { present: true, names: 4, stats: 40, folder: hex(42) + hex(listedAt - 5000.5) + hex(listedAt - 4000.75) },
      { present: true, names: 4, stats: 40 },
      { present: false, names: 0, stats: 0 },
    ]);
    // The addon finds the folders before the summary, whose tags may hold any text.
    expect(head.indexOf('"folders":[')).toBeLessThan(head.indexOf('"summary"'));
    expect(index.matches([settled, racy, undefined])).toBe(true);
    // Nothing more to record: no rewrite of the catalog for it.
    expect(index.lacksFolderRecord([settled, racy, undefined])).toBe(false);
  });

  it('asks for the index to be written again when a folder it lacks or has out of date could be recorded now', () => {
    const listedAt = 1_700_000_000_000;
    const old = withFolder(['a.md'], listedAt - 9000, listedAt - 9000, listedAt);
    const { index: unrecorded } = indexOf([listing(['a.md']), undefined, undefined]);
    expect(unrecorded.lacksFolderRecord([old, undefined, undefined])).toBe(true);
    const { index } = indexOf([old, undefined, undefined]);
    // An entry added and removed again: the same names, other times.
    expect(index.lacksFolderRecord([withFolder(['a.md'], listedAt - 100, listedAt - 100, listedAt + 1000), undefined, undefined])).toBe(true);
    // A read without the addon gives no folder stat: nothing to record.
    expect(index.lacksFolderRecord([listing(['a.md']), undefined, undefined])).toBe(false);
  });
});
