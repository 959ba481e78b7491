import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Catalog, mergeLines, type CatalogPart } from '../../src/storage/markdown/catalog.js';
import { LineSpool } from '../../src/storage/markdown/line-spool.js';

/** A catalog line of `key` (`type/file`); `what` tells the versions of one file apart. */
const line = (key: string, what: string) => `${key}\t${what}\n`;

describe('the catalog lines merged on close (mergeLines)', () => {
  let dir: string;
  let spool: LineSpool;
  let catalog: Catalog;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wm-merge-'));
    spool = LineSpool.create(dir)!;
    catalog = Catalog.open(dir); // none on disk: the scanned lines below are given as text
  });
  afterEach(() => {
    spool.close();
    catalog.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The merged catalog's text, and its parts. */
  const merged = (scanned: CatalogPart[], edits: Map<string, string | null>, spooledFrom = 0) => {
    const parts = [...mergeLines(scanned, catalog, edits, spool, spooledFrom)];
    const text = parts.map((p) => (typeof p === 'string' ? p : p.spool!.read(p.from, p.to))).join('');
    return { parts, text };
  };

  it('keeps the newest line of each file, in reading order: an edit over a spooled line over a scanned one, a later spooled line over an earlier', () => {
    const scanned = [line('short_term/a.md', 'scanned') + line('short_term/b.md', 'scanned') + line('short_term/c.md', 'scanned') + line('archive/z.md', 'scanned')];
    // Spooled in the order a restore writes them (the backup's), not the catalog's.
    spool.append(line('long_term/m.md', 'spooled'));
    spool.append(line('short_term/c.md', 'spooled first'));
    spool.append(line('short_term/a.md', 'spooled'));
    spool.append(line('short_term/c.md', 'spooled last'));
    spool.append(line('short_term/b.md', 'spooled'));
    const edits = new Map<string, string | null>([
      ['short_term/b.md', line('short_term/b.md', 'edited')],
      ['archive/z.md', null],
    ]);
    expect(merged(scanned, edits).text).toBe(
      line('short_term/a.md', 'spooled') + line('short_term/b.md', 'edited') + line('short_term/c.md', 'spooled last') + line('long_term/m.md', 'spooled'),
    );
  });

  it('reads the spool only from where this object began writing, and copies lines that follow each other there as one range', () => {
    spool.append(line('short_term/old.md', 'a scan spooled it'));
    const from = spool.size;
    spool.append(line('short_term/p.md', 'spooled'));
    spool.append(line('short_term/q.md', 'spooled'));
    spool.append(line('short_term/o.md', 'spooled'));
    const { parts, text } = merged([], new Map(), from);
    expect(text).toBe(line('short_term/o.md', 'spooled') + line('short_term/p.md', 'spooled') + line('short_term/q.md', 'spooled'));
    expect(parts).toHaveLength(2); // o alone, then p and q as one range
  });

  it('keeps every line of a merge longer than its columns start (they grow as lines come)', () => {
    const keys = Array.from({ length: 3000 }, (_, i) => `short_term/f${String(i).padStart(5, '0')}.md`);
    // Spooled last first, so that no two neighbours join and each is placed by the sort.
    for (const key of [...keys].reverse()) spool.append(line(key, 'spooled'));
    expect(merged([], new Map()).text).toBe(keys.map((key) => line(key, 'spooled')).join(''));
  });
});

