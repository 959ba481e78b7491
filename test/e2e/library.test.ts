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
});
