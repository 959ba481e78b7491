import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryManager, WhitemagicError } from '../../src/index.js';

let root: string;
let env: NodeJS.ProcessEnv;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'wm-lib-contexts-'));
  env = { HOME: root, WHITEMAGIC_HOME: join(root, 'wm'), WHITEMAGIC_MAX_CONTEXTS: '2' };
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('MemoryManager: many contexts', () => {
  it('creates, lists, describes, switches, renames and deletes contexts', async () => {
    const wm = new MemoryManager({ env });
    expect((await wm.createContext('one', { description: 'First' })).description).toBe('First');
    await wm.createContext('two');
    expect((await wm.listContexts()).contexts.map((c) => c.name)).toEqual(['one', 'two']);
    await expect(wm.createContext('three')).rejects.toMatchObject({ code: 'capacity', exitCode: 1 });
    expect(existsSync(join(root, 'wm', 'three'))).toBe(false);

    await wm.switchContext('one');
    // A manager made afterwards resolves the switched-to context.
    const inOne = new MemoryManager({ env });
    expect(inOne.location).toMatchObject({ name: 'one', source: 'switch' });
    await inOne.createMemory({ title: 'Hello', content: 'x' });
    expect((await wm.showContext('one')).total).toBe(1);

    expect((await wm.describeContext('two', 'Second')).description).toBe('Second');
    expect(await wm.renameContext('one', 'uno')).toMatchObject({ switchUpdated: true });
    await expect(wm.deleteContext('uno', { yes: true })).rejects.toBeInstanceOf(WhitemagicError);
    expect(await wm.deleteContext('uno', { yes: true, force: true })).toMatchObject({ total: 1, switchCleared: true });
    const o = await wm.overview();
    expect(o.totals.contexts).toBe(1);
    expect(o.capacity).toEqual({ used: 1, maximum: 2, available: 1 });
  });
});
