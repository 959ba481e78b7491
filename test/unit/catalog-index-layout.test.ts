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
