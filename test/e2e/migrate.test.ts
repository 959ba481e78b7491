import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MemoryManager } from '../../src/index.js';
import type { Memory } from '../../src/memory/types.js';
import { loadBackend } from '../../src/storage/registry.js';
import type { BackendName } from '../../src/storage/types.js';
import { json, makeHome, type Home } from '../helpers/cli.js';
import { sampleMemory, variedMemories } from '../storage/conformance.js';

/** A file made by hand (no id) the way whitemagic 2.x wrote them: comma tags, type from the folder. */
const HAND_FILE = '---\ntitle: Written by hand\ncreated: 2023-05-06T07:08:09\ntags: Legacy, notes\nsource: wiki\n---\n\n# Heading\n\nText.\n';

/** Every memory of the context at `dir`, read through its backend, in id order. */
async function memoriesIn(dir: string, backend: BackendName): Promise<Memory[]> {
  const storage = (await loadBackend(backend)).open(dir, {});
  try {
    return [...storage.readAll()];
  } finally {
    storage.close();
  }
}

/** Paths of the memory files under `dir/memory`, relative to it. */
function memoryFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(dir, join(d, e.name)));
    }
  };
  walk(join(dir, 'memory'));
  return out.sort();
}

/** `list --json` of everything, without the backend-specific `bytes`. */
function listing(h: Home, dir: string): string {
  const r = h.run(['--base-dir', dir, '--json', 'list', '--include-archived']);
  expect(r.code, r.stderr).toBe(0);
  const parsed = json(r);
  for (const m of parsed.memories) delete m.bytes;
  return JSON.stringify(parsed);
}

/** A markdown context in `home` with the varied fixture, a hand-made file, and no manifest yet (as 2.x left it). */
async function makeMarkdownContext(home: Home): Promise<{ dir: string; original: Memory[] }> {
  const dir = join(home.home, 'ctx');
  mkdirSync(dir, { recursive: true });
  const markdown = await loadBackend('markdown');
  markdown.create(dir);
  const storage = markdown.open(dir, {});
  storage.insertMany(variedMemories());
  storage.close();
  writeFileSync(join(dir, 'memory', 'long_term', 'hand notes.md'), HAND_FILE);
  return { dir, original: await memoriesIn(dir, 'markdown') };
}

/**
 * A killed migration leaves its lock behind; the next locking command takes it over once it is
 * stale (10 s), so the rerun after a kill waits longer than the default timeout allows for sure.
 */
const AFTER_KILL = ['--lock-timeout', '30'];

describe('migrate', () => {
  let h: Home;
  let dir: string;

  async function markdownContext(): Promise<Memory[]> {
    const made = await makeMarkdownContext(h);
    dir = made.dir;
    return made.original;
  }

  beforeEach(() => (h = makeHome()));
  afterEach(() => h.cleanup());

  it('round trip markdown → sqlite → markdown keeps every memory, name and file exactly', async () => {
    const original = await markdownContext();
    expect(original).toHaveLength(7);
    const files = memoryFiles(dir);
    const before = listing(h, dir);
    // A search made the markdown index (and kept its -wal and -shm files where the extension is built).
    expect(h.run(['--base-dir', dir, 'search', 'hand']).code).toBe(0);
    expect(existsSync(join(dir, '.index.db'))).toBe(true);

    const toSqlite = h.run(['--base-dir', dir, 'migrate', '--backend', 'sqlite']);
    expect(toSqlite.code, toSqlite.stderr).toBe(0);
    expect(toSqlite.stderr).toBe('');
    expect(toSqlite.stdout).toMatch(/^migrated .* from markdown to sqlite \(7 memories\)\nthe old markdown data is kept in backups\/pre-migrate-\d{8}-\d{6}\//);
    expect(JSON.parse(readFileSync(join(dir, 'whitemagic.json'), 'utf8')).backend).toBe('sqlite');
    expect(existsSync(join(dir, 'memory'))).toBe(false);
    // The markdown catalog went with the memories it describes, into the backup; the search index,
    // which nothing reads now, is gone.
    expect(existsSync(join(dir, '.whitemagic-catalog.tsv'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('.index.db'))).toEqual([]);
    expect(await memoriesIn(dir, 'sqlite')).toEqual(original);
    expect(listing(h, dir)).toBe(before);
    // A REF by file name still finds the memory.
    expect(json(h.run(['--base-dir', dir, '--json', 'show', 'hand notes'])).title).toBe('Written by hand');

    const back = h.run(['--base-dir', dir, '--json', 'migrate', '--backend', 'markdown']);
    expect(back.code, back.stderr).toBe(0);
    expect(json(back)).toMatchObject({ path: dir, from: 'sqlite', to: 'markdown', changed: true, memories: 7 });
    expect(json(back).backup).toMatch(/^backups\/pre-migrate-/);
    // The copy's catalog came with it, with its clean index: the next command reads no file.
    expect(readFileSync(join(dir, '.whitemagic-catalog.tsv'), 'latin1').split('\n')[0]).toMatch(/^whitemagic-catalog \d+ \d+ 0*[1-9]\d*$/);
    expect(await memoriesIn(dir, 'markdown')).toEqual(original);
    expect(memoryFiles(dir)).toEqual(files);
    expect(listing(h, dir)).toBe(before);
    expect(existsSync(join(dir, 'whitemagic.db'))).toBe(false);

    // Both old copies are kept, each readable as a context of its own.
    const backups = readdirSync(join(dir, 'backups')).sort();
    expect(backups).toHaveLength(2);
    expect(await memoriesIn(join(dir, 'backups', backups[0]), 'markdown')).toEqual(original);
    expect(await memoriesIn(join(dir, 'backups', backups[1]), 'sqlite')).toEqual(original);
  });

  it('to the backend in use is a no-op with a message, exit 0', async () => {
    await markdownContext();
    const r = h.run(['--base-dir', dir, 'migrate', '--backend', 'markdown']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${dir} already uses the markdown backend; nothing to do\n`);
    expect(existsSync(join(dir, 'backups'))).toBe(false);
    const asJson = h.run(['--base-dir', dir, '--json', 'migrate', '--backend', 'markdown']);
    expect(json(asJson)).toMatchObject({ changed: false, from: 'markdown', to: 'markdown', memories: 7 });
  });

  it('refuses bad input: no backend, an unknown one, a missing context, unreadable files', async () => {
    const none = h.run(['--context', 'x', 'migrate']);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe('whitemagic: error: migrate needs --backend (hint: use one of: markdown, sqlite)\n');
    const unknown = h.run(['--context', 'x', 'migrate', '--backend', 'csv']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown backend 'csv' (hint: use one of: markdown, sqlite)");
    const missing = h.run(['--context', 'nowhere', 'migrate', '--backend', 'sqlite']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('context not found');
    expect(existsSync(join(h.wmHome, 'nowhere'))).toBe(false);

    const original = await markdownContext();
    writeFileSync(join(dir, 'memory', 'short_term', 'broken.md'), '---\ntitle: [unclosed\n---\nbody\n');
    const r = h.run(['--base-dir', dir, 'migrate', '--backend', 'sqlite']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot migrate: 1 entry cannot be read (memory/short_term/broken.md');
    expect(r.stdout).toBe('');
    expect(JSON.parse(readFileSync(join(dir, 'whitemagic.json'), 'utf8')).backend).toBe('markdown');
    expect(existsSync(join(dir, 'whitemagic.db'))).toBe(false);
    expect(await memoriesIn(dir, 'markdown')).toEqual(original);
  });

  it('is a MemoryManager method', async () => {
    const original = await markdownContext();
    const manager = new MemoryManager({ baseDir: dir, env: { WHITEMAGIC_HOME: h.wmHome } });
    const result = await manager.migrate('sqlite');
    expect(result).toMatchObject({ from: 'markdown', to: 'sqlite', changed: true, memories: 7 });
    expect((await manager.status()).backend).toBe('sqlite');
    expect((await manager.listMemories({ includeArchived: true })).total).toBe(original.length);
  });

  it('reads its SQLite source for one pass: the check reads every memory once, by id', async () => {
    const original = await markdownContext();
    const manager = new MemoryManager({ baseDir: dir, env: { WHITEMAGIC_HOME: h.wmHome } });
    await manager.migrate('sqlite');
    manager.close();
    const sqlite = await loadBackend('sqlite');
    const opened = vi.spyOn(sqlite, 'open');
    try {
      const back = new MemoryManager({ baseDir: dir, env: { WHITEMAGIC_HOME: h.wmHome } });
      expect(await back.migrate('markdown')).toMatchObject({ from: 'sqlite', to: 'markdown', changed: true, memories: original.length });
      back.close();
      // The source, opened in the context; every other open of SQLite data there reads all or writes in bulk.
      expect(opened.mock.calls.filter(([at, options]) => at === dir && options.onePass)).toHaveLength(1);
    } finally {
      opened.mockRestore();
    }
  });

  // Concurrent (processes run asynchronously): each waits mostly for the dead process's lock to go
  // stale, not for the CPU.
  describe.concurrent('killed at any point, leaves a usable context, and a rerun converges', () => {
    const points = ['after-journal', 'after-copy', 'after-place', 'after-commit', 'after-move'] as const;
    const committed = new Set(['after-commit', 'after-move']);

    for (const [from, to] of [
      ['markdown', 'sqlite'],
      ['sqlite', 'markdown'],
    ] as const) {
      for (const point of points) {
        it(`${from} → ${to}, killed ${point}`, async () => {
          const home = makeHome();
          try {
            let { dir, original } = await makeMarkdownContext(home);
            if (from === 'sqlite') {
              expect((await home.spawnRun(['--base-dir', dir, 'migrate', '--backend', 'sqlite'])).code).toBe(0);
              original = await memoriesIn(dir, 'sqlite');
            }
            const killed = await home.spawnRun(['--base-dir', dir, 'migrate', '--backend', to], { env: { WHITEMAGIC_FAULT: `migrate:${point}` } });
            expect(killed.code).toBe(-1); // no exit code: killed by SIGKILL
            expect(killed.stdout).toBe('');

            // Usable at once, on the old backend before the commit and on the new one after.
            const status = await home.spawnRun(['--base-dir', dir, '--json', 'status']);
            expect(status.code, status.stderr).toBe(0);
            expect(json(status).backend).toBe(committed.has(point) ? to : from);
            expect(json(status).total).toBe(original.length);
            const made = await home.spawnRun(['--base-dir', dir, 'create', '--title', 'Written after the crash', '--content', 'kept']);
            expect(made.code, made.stderr).toBe(0);

            const rerun = await home.spawnRun(['--base-dir', dir, ...AFTER_KILL, 'migrate', '--backend', to]);
            expect(rerun.code, rerun.stderr).toBe(0);
            expect(rerun.stderr).toBe('');
            if (committed.has(point)) {
              expect(rerun.stdout).toContain(`finished an interrupted migration from ${from} to ${to}`);
              expect(rerun.stdout).toContain(`already uses the ${to} backend`);
            } else {
              expect(rerun.stdout).toContain(`cleaned up an interrupted migration from ${from} to ${to}`);
              expect(rerun.stdout).toContain(`migrated ${dir} from ${from} to ${to} (8 memories)`);
            }

            expect(JSON.parse(readFileSync(join(dir, 'whitemagic.json'), 'utf8')).backend).toBe(to);
            const after = await memoriesIn(dir, to);
            const madeId = made.stdout.trim();
            expect(after.filter((m) => m.id !== madeId)).toEqual(original);
            expect(after.find((m) => m.id === madeId)?.content).toBe('kept');
            expect(readdirSync(dir).filter((n) => n.startsWith('.whitemagic-migrate'))).toEqual([]);
            expect(existsSync(join(dir, from === 'markdown' ? 'memory' : 'whitemagic.db'))).toBe(false);
            const again = await home.spawnRun(['--base-dir', dir, 'migrate', '--backend', to]);
            expect(again.stdout).toBe(`${dir} already uses the ${to} backend; nothing to do\n`);
          } finally {
            home.cleanup();
          }
        });
      }
    }
  });

  it('after the switch, copies over memories written into the old files by a process that opened them before', async () => {
    await markdownContext();
    const killed = h.run(['--base-dir', dir, 'migrate', '--backend', 'sqlite'], { env: { WHITEMAGIC_FAULT: 'migrate:after-commit' } });
    expect(killed.code).toBe(-1);
    // What a create that had read the old manifest writes after the commit: a file in the old folders.
    const late = sampleMemory({ title: 'Late writer' });
    const markdown = (await loadBackend('markdown')).open(dir, {});
    markdown.insert(late);
    markdown.close();

    const rerun = h.run(['--base-dir', dir, ...AFTER_KILL, 'migrate', '--backend', 'sqlite']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect((await memoriesIn(dir, 'sqlite')).find((m) => m.id === late.id)).toEqual(late);
  });
});
