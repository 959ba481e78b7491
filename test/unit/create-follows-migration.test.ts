import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { followMigration } from '../../src/commands/create.js';
import { migrateContext } from '../../src/commands/migrate.js';
import { Context } from '../../src/context/context.js';
import { resolveContext } from '../../src/context/resolve.js';
import { sampleMemory } from '../storage/conformance.js';

// A create takes no lock: a migration may move the data it is writing to. It writes, then follows
// any migration that happened meanwhile by writing the memory again into the backend in use.
describe('a create that a migration overtook', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'wm-create-follows-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const contextAt = (backend?: 'sqlite' | 'markdown') => new Context(resolveContext({ baseDir: join(dir, 'c'), env: {} }), { backend, env: {} });
  const titles = async () => {
    const ctx = contextAt();
    try {
      const storage = await ctx.open();
      return storage.list({ types: ['short_term', 'long_term', 'archive'] }).memories.map((m) => m.title).sort();
    } finally {
      ctx.close();
    }
  };
  const migrate = async (backend: 'sqlite' | 'markdown') => {
    const ctx = contextAt();
    try {
      await migrateContext(ctx, { backend });
    } finally {
      ctx.close();
    }
  };

  it('keeps the memory when two migrations came back to the same backend before it was written', async () => {
    const first = contextAt('sqlite');
    (await first.openForWrite()).insert(sampleMemory({ title: 'Before' }), { freshId: true });
    first.close();

    // A slow create: its storage opened on the SQLite database of now...
    const slow = contextAt();
    const storage = await slow.openForWrite();
    // ...while two migrations run: the database it holds moves into the first one's backup.
    await migrate('markdown');
    await migrate('sqlite');
    const late = sampleMemory({ title: 'Written late' });
    storage.insert(late, { freshId: true }); // lands in the moved database
    await followMigration(slow, late);
    slow.close();

    expect(await titles()).toEqual(['Before', 'Written late']);
  });

  it('opens the backend the manifest names when it opens, not one it read before a migration', async () => {
    const first = contextAt('markdown');
    (await first.openForWrite()).insert(sampleMemory({ title: 'Before' }), { freshId: true });
    first.close();

    const slow = contextAt();
    expect(slow.backendName()).toBe('markdown'); // read (and kept) before the migration
    await migrate('sqlite');
    const storage = await slow.openForWrite();
    expect(storage.name).toBe('sqlite');
    const late = sampleMemory({ title: 'Written after' });
    storage.insert(late, { freshId: true });
    await followMigration(slow, late);
    slow.close();
    expect(await titles()).toEqual(['Before', 'Written after']);
  });

  it('writes nothing again when no migration happened', async () => {
    const ctx = contextAt('sqlite');
    const storage = await ctx.openForWrite();
    const memory = sampleMemory({ title: 'Only once' });
    storage.insert(memory, { freshId: true });
    await followMigration(ctx, memory);
    ctx.close();
    expect(await titles()).toEqual(['Only once']);
  });
});
