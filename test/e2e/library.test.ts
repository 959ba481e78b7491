import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AmbiguousRefError, MemoryManager, NotFoundError, UsageError, WhitemagicError, type Memory } from 'whitemagic';
import { ROOT, json, makeHome, type Home } from '../helpers/cli.js';

let h: Home;
beforeEach(() => {
  h = makeHome('wm-lib-');
});
afterEach(() => h.cleanup());

describe("import { MemoryManager } from 'whitemagic'", () => {
  it('ships type declarations where package.json says', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const types = join(ROOT, pkg.exports['.'].types);
    expect(existsSync(types)).toBe(true);
    expect(readFileSync(types, 'utf8')).toMatch(/export declare class MemoryManager/);
    expect(pkg.bin['whitemagic-mcp']).toBe('bin/whitemagic-mcp.js');
  });

  it('runs the same operations as the CLI, on the same files', async () => {
    const base = join(h.home, 'lib');
    const wm = new MemoryManager({ baseDir: base, env: h.env });
    const created: Memory = await wm.createMemory({ title: 'From code', content: 'body', tags: ['Lib'] });
    expect(created.tags).toEqual(['lib']);
    const shown = h.run(['--base-dir', base, 'show', created.id, '--json']);
    expect(shown.code).toBe(0);
    expect(json(shown)).toMatchObject({ id: created.id, title: 'From code' });
    expect((await wm.updateMemory(created.id, { addTags: ['more'] })).tags).toEqual(['lib', 'more']);
    expect((await wm.listMemories()).total).toBe(1);
    expect(await wm.listTags()).toEqual([
      { tag: 'lib', count: 1 },
      { tag: 'more', count: 1 },
    ]);
    expect((await wm.deleteMemory(created.id)).permanent).toBe(false);
    expect((await wm.restoreMemory(created.id)).type).toBe('short_term');
    expect((await wm.contextPackage(0)).shortTerm[0]).toMatchObject({ id: created.id, text: 'body' });
    expect((await wm.status()).source).toBe('--base-dir');
  });

  it('throws typed errors with exit codes', async () => {
    const wm = new MemoryManager({ baseDir: join(h.home, 'lib'), env: h.env });
    await wm.createMemory({ title: 'a', content: 'x' });
    const missing = await wm.readMemory('zzzzzzzz').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toBeInstanceOf(WhitemagicError);
    expect((missing as WhitemagicError).exitCode).toBe(1);
    const usage = await wm.createMemory({ title: '' }).catch((e: unknown) => e);
    expect(usage).toBeInstanceOf(UsageError);
    expect((usage as UsageError).exitCode).toBe(2);
    expect(AmbiguousRefError.prototype).toBeInstanceOf(WhitemagicError);
    expect(() => new MemoryManager({ baseDir: 'x', context: 'y', env: h.env })).toThrow(UsageError);
  });

  describe('a SQLite context kept open between calls', () => {
    const titles = (h2: Home, base: string) => json(h2.run(['--base-dir', base, 'list', '--json'])).memories.map((m: { title: string }) => m.title).sort();

    it('sees what other processes wrote, and follows a migration made by one', async () => {
      const base = join(h.home, 'kept');
      const wm = new MemoryManager({ baseDir: base, backend: 'sqlite', env: h.env });
      try {
        await wm.createMemory({ title: 'First' });
        expect(h.run(['--base-dir', base, 'create', '--title', 'From the CLI', '--content', 'x']).code).toBe(0);
        expect((await wm.listMemories()).memories.map((m) => m.title).sort()).toEqual(['First', 'From the CLI']);
        expect(h.run(['--base-dir', base, 'migrate', '--backend', 'markdown']).code).toBe(0);
        // The connection it kept is on the old database, moved away: this write must reach the new files.
        await wm.createMemory({ title: 'After the migration' });
        expect(titles(h, base)).toEqual(['After the migration', 'First', 'From the CLI']);
        expect((await wm.status()).backend).toBe('markdown');
      } finally {
        wm.close();
      }
    });

    it('writes into a context deleted and made again by another process, not into the old file', async () => {
      const env = { ...h.env };
      const wm = new MemoryManager({ context: 'again', backend: 'sqlite', env });
      try {
        await wm.createMemory({ title: 'Before' });
        expect(h.run(['contexts', 'delete', 'again', '--yes', '--force']).code).toBe(0);
        expect(h.run(['contexts', 'create', 'again', '--backend', 'sqlite']).code).toBe(0);
        await wm.createMemory({ title: 'After' });
        expect(titles(h, join(h.home, '.whitemagic', 'again'))).toEqual(['After']);
      } finally {
        wm.close();
      }
    });
  });
});

