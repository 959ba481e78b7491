import { existsSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseMemoryFile } from '../../src/storage/markdown/file-format.js';
import { makeHome, type Home } from '../helpers/cli.js';
import { expectOk, inspectContext, printedId } from './helpers.js';

/** SPEC section 9: every write is atomic; temporary files never show as memories and are cleaned. */
describe('promises: atomic writes and temporary files', () => {
  let h: Home;
  let dir: string;
  let id: string;
  beforeEach(() => {
    h = makeHome('wm-atomic-');
    dir = join(h.home, 'ctx');
    const r = h.run(['--base-dir', dir, 'create', '--title', 'version 0', '--content', 'v0']);
    expectOk(r);
    id = printedId(r.stdout)!;
  });
  afterEach(() => h.cleanup());

  it('leftover temporary files are never memories, and old ones are removed by the next command', async () => {
    const folder = join(dir, 'memory', 'short_term');
    const [file] = readdirSync(folder);
    const old = Date.now() / 1000 - 120;
    const leftovers = {
      stale: join(folder, `${file}.1234567`),
      staleRoot: join(dir, 'whitemagic.json.99887766'),
      staleCatalog: join(dir, '.whitemagic-catalog.tsv.4242'),
      fresh: join(folder, `${file}.7654321`),
    };
    for (const path of Object.values(leftovers)) writeFileSync(path, '---\nid: half-written\ntitle: torn');
    for (const path of [leftovers.stale, leftovers.staleRoot, leftovers.staleCatalog]) utimesSync(path, old, old);
    const state = await inspectContext(h.spawnRun, dir);
    expect(state.ids).toEqual([id]);
    expect(state.problems).toEqual([]);
    expect(existsSync(leftovers.stale), 'an old temporary file is cleaned').toBe(false);
    expect(existsSync(leftovers.staleRoot)).toBe(false);
    expect(existsSync(leftovers.staleCatalog)).toBe(false);
    expect(existsSync(leftovers.fresh), 'a fresh one may belong to a live writer: kept').toBe(true);
  });

  it('a reader sees the old or the new file while updates rewrite it, never a part', async () => {
    const folder = join(dir, 'memory', 'short_term');
    const path = join(folder, readdirSync(folder)[0]);
    const bodies = Array.from({ length: 8 }, (_, i) => `v${i + 1} `.repeat(20_000 + i * 3_000).trim());
    let done = false;
    const writer = (async () => {
      for (let i = 0; i < bodies.length; i++) {
        const r = await h.spawnRun(['--base-dir', dir, 'update', id, '--title', `version ${i + 1}`, '--content-file', '-'], { input: bodies[i] });
        expectOk(r);
      }
      done = true;
    })();
    let reads = 0;
    const seen = new Set<string>();
    while (!done) {
      const text = await readFile(path, 'utf8');
      const memory = parseMemoryFile(text, 'x.md', 'short_term', new Date()).memory;
      const version = Number(memory.title.replace('version ', ''));
      expect(memory.content).toBe(version === 0 ? 'v0' : bodies[version - 1]);
      seen.add(memory.title);
      reads++;
    }
    await writer;
    expect(reads).toBeGreaterThan(0);
  });
});
