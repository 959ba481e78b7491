import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { json, makeHome, type Home } from '../helpers/cli.js';

/** The markdown catalog through the real bin: a cache the user never has to think about. */
describe('markdown catalog, end to end', () => {
  let h: Home;
  beforeEach(() => {
    h = makeHome();
  });
  afterEach(() => h.cleanup());

  it('the next command sees a hand edit, and a deleted catalog loses nothing', () => {
    const ctx = join(h.home, 'ctx');
    for (const title of ['Alpha', 'Beta']) {
      const r = h.run(['--base-dir', ctx, 'create', '--title', title, '--content', 'body']);
      expect(r.code).toBe(0);
    }
    let r = h.run(['--base-dir', ctx, 'list', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(json(r).memories.map((m: { title: string }) => m.title).sort()).toEqual(['Alpha', 'Beta']);
    expect(readdirSync(ctx)).toContain('.whitemagic-catalog.tsv');

    const folder = join(ctx, 'memory', 'short_term');
    const file = join(folder, readdirSync(folder).find((f) => f.includes('alpha'))!);
    writeFileSync(file, readFileSync(file, 'utf8').replace('title: Alpha', 'title: Gamma'));
    r = h.run(['--base-dir', ctx, 'list', '--json']);
    expect(r.code).toBe(0);
    const after = json(r).memories;
    expect(after.map((m: { title: string }) => m.title).sort()).toEqual(['Beta', 'Gamma']);

    rmSync(join(ctx, '.whitemagic-catalog.tsv'));
    r = h.run(['--base-dir', ctx, 'list', '--json']);
    expect(r.code).toBe(0);
    expect(json(r).memories).toEqual(after);
  });
});
