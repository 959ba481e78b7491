import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { writeArchive } from '../../src/backup/archive.js';
import { restoreBackup, restoreLimits } from '../../src/commands/restore-backup.js';
import { Context } from '../../src/context/context.js';
import { resolveContext } from '../../src/context/resolve.js';
import type { BackendName } from '../../src/storage/types.js';
import { sampleMemory, variedMemories } from '../storage/conformance.js';

// A restore keeps the memories its verifying pass parsed when the backup is small, and reads the
// archive again when it is large: both ways must restore the same memories.
describe('restore-backup: memories kept from the verifying pass, or read again', () => {
  let dir: string;
  const defaultLimit = restoreLimits.keepParsedUpTo;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'wm-restore-passes-'))));
  afterEach(() => {
    restoreLimits.keepParsedUpTo = defaultLimit;
    rmSync(dir, { recursive: true, force: true });
  });

  const restoreWith = async (limit: number, backend: BackendName, archive: string, into: string) => {
    restoreLimits.keepParsedUpTo = limit;
    const ctx = new Context(resolveContext({ baseDir: join(dir, into), env: {} }), { backend, env: {} });
    try {
      const result = await restoreBackup(ctx, { file: archive });
      const storage = await ctx.open();
      const all = storage.list({ types: ['short_term', 'long_term', 'archive'] }).memories.map((h) => storage.read(h.id));
      return { result, all };
    } finally {
      ctx.close();
    }
  };

  it('does not classify against an empty context: every memory is new, and none of the target is read', async () => {
    const memories = Array.from({ length: 12 }, (_, i) => sampleMemory({ title: `Into empty ${i}` }, Date.UTC(2025, 1, 1) + i));
    const archive = join(dir, 'b.tar.gz');
    await writeArchive(memories, { context: { name: 'c', path: '/c' }, backend: 'markdown', kind: 'backup', now: new Date('2026-01-01T00:00:00Z') }, archive);
    for (const backend of ['markdown', 'sqlite'] as const) {
      const ctx = new Context(resolveContext({ baseDir: join(dir, `empty-${backend}`), env: {} }), { backend, env: {} });
      try {
        const storage = await ctx.openForWrite(); // an existing context, with no memory
        const reads = vi.spyOn(Object.getPrototypeOf(storage) as { read: () => unknown }, 'read');
        const result = await restoreBackup(ctx, { file: archive });
        expect(result.inserted).toHaveLength(memories.length);
        expect(reads).not.toHaveBeenCalled();
        reads.mockRestore();
      } finally {
        ctx.close();
      }
    }
  });

  for (const backend of ['markdown', 'sqlite'] as const) {
    it(`gives the same memories and result both ways on ${backend}, into a new and into an existing context`, async () => {
      const memories = [...variedMemories(), ...Array.from({ length: 40 }, (_, i) => sampleMemory({ title: `Bulk ${i}` }, Date.UTC(2025, 1, 1) + i))];
      const archive = join(dir, 'b.tar.gz');
      await writeArchive(memories, { context: { name: 'c', path: '/c' }, backend, kind: 'backup', now: new Date('2026-01-01T00:00:00Z') }, archive);
      const kept = await restoreWith(defaultLimit, backend, archive, 'kept');
      const readAgain = await restoreWith(0, backend, archive, 'again');
      expect(kept.all).toHaveLength(memories.length);
      expect(readAgain.all).toEqual(kept.all);
      expect({ ...readAgain.result, target: '' }).toEqual({ ...kept.result, target: '' });
      // Into a context that has them all already: the classifying pass, both ways.
      const rerunKept = await restoreWith(defaultLimit, backend, archive, 'kept');
      const rerunAgain = await restoreWith(0, backend, archive, 'again');
      expect(rerunKept.result.unchanged).toHaveLength(memories.length);
      expect({ ...rerunAgain.result, target: '' }).toEqual({ ...rerunKept.result, target: '' });
    });
  }
});
