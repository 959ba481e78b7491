import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { json, makeHome, type Home } from '../helpers/cli.js';

const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'whitemagic.json'), 'utf8'));

describe('choosing the backend of a new context', () => {
  let h: Home;
  beforeEach(() => (h = makeHome()));
  afterEach(() => h.cleanup());

  it('init --backend sqlite makes a SQLite context; status and --json show it', () => {
    const init = h.run(['--context', 'work', 'init', '--backend', 'sqlite']);
    expect(init.code).toBe(0);
    expect(init.stderr).toBe('');
    expect(init.stdout).toContain('initialised a sqlite context');
    const dir = join(h.wmHome, 'work');
    expect(manifestOf(dir).backend).toBe('sqlite');
    expect(existsSync(join(dir, 'whitemagic.db'))).toBe(true);
    expect(existsSync(join(dir, 'memory'))).toBe(false);

    const status = h.run(['--context', 'work', 'status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/backend:\s+sqlite/);
    const statusJson = h.run(['--context', 'work', '--json', 'status']);
    expect(json(statusJson).backend).toBe('sqlite');
    const stats = h.run(['--context', 'work', '--json', 'stats']);
    expect(json(stats).backend).toBe('sqlite');
  });

  it('--backend sqlite on the first write creates a SQLite context, and is ignored once it exists', () => {
    const made = h.run(['--context', 'w', '--backend', 'sqlite', 'create', '--title', 'First', '--content', 'body']);
    expect(made.code).toBe(0);
    expect(manifestOf(join(h.wmHome, 'w')).backend).toBe('sqlite');
    const again = h.run(['--context', 'w', 'create', '--title', 'Second', '--content', 'x', '--backend', 'markdown']);
    expect(again.code).toBe(0);
    expect(manifestOf(join(h.wmHome, 'w')).backend).toBe('sqlite');
    const list = h.run(['--context', 'w', '--json', 'list']);
    expect(json(list).memories.map((m: { title: string }) => m.title)).toEqual(['Second', 'First']);
  });

  it('WHITEMAGIC_BACKEND=sqlite is the default for new contexts; --backend wins over it', () => {
    const env = { WHITEMAGIC_BACKEND: 'sqlite' };
    expect(h.run(['--context', 'a', 'create', '--title', 'T', '--content', 'c'], { env }).code).toBe(0);
    expect(manifestOf(join(h.wmHome, 'a')).backend).toBe('sqlite');
    expect(h.run(['--context', 'b', '--backend', 'markdown', 'init'], { env }).code).toBe(0);
    expect(manifestOf(join(h.wmHome, 'b')).backend).toBe('markdown');
    const status = h.run(['--context', 'c', '--json', 'status'], { env });
    expect(status.code).toBe(0);
    expect(json(status).backend).toBe('sqlite');
  });

  it('loads the SQLite driver only for a SQLite context', () => {
    // Reports on exit whether any part of better-sqlite3 was loaded: a CommonJS file required, or
    // its native module loaded with process.dlopen (its JavaScript is bundled into the command line).
    const probe = join(h.home, 'probe.mjs');
    writeFileSync(
      probe,
      "import { createRequire } from 'node:module';\nconst req = createRequire(import.meta.url);\n" +
        'const dlopen = process.dlopen;\nconst natives = [];\n' +
        'process.dlopen = function (m, file, ...rest) { natives.push(String(file)); return dlopen.call(this, m, file, ...rest); };\n' +
        "process.on('exit', () => process.stderr.write('sqlite loaded: ' + [...Object.keys(req.cache), ...natives].some((k) => k.includes('better-sqlite3')) + '\\n'));\n",
    );
    const env = { NODE_OPTIONS: `--import=${probe}` };
    expect(h.run(['--context', 'md', 'create', '--title', 'T', '--content', 'c'], { env }).stderr).toBe('sqlite loaded: false\n');
    expect(h.run(['--context', 'md', 'list'], { env }).stderr).toBe('sqlite loaded: false\n');
    expect(h.run(['--context', 'md', 'status'], { env }).stderr).toBe('sqlite loaded: false\n');
    expect(h.run(['--context', 'sq', '--backend', 'sqlite', 'init'], { env }).stderr).toBe('sqlite loaded: true\n');
  });

  it('a backend that does not exist is a usage error listing the valid names', () => {
    const bad = h.run(['--context', 'x', 'init', '--backend', 'postgres']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("whitemagic: error: --backend: unknown backend 'postgres' (hint: use one of: markdown, sqlite)\n");
    expect(bad.stdout).toBe('');
    expect(existsSync(join(h.wmHome, 'x'))).toBe(false);

    const badEnv = h.run(['--context', 'x', 'create', '--title', 'T', '--content', 'c'], { env: { WHITEMAGIC_BACKEND: 'mongo' } });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toContain("WHITEMAGIC_BACKEND: unknown backend 'mongo'");
    expect(badEnv.stderr).toContain('markdown, sqlite');

    const badJson = h.run(['--json', '--context', 'x', 'init', '--backend', 'nope']);
    expect(badJson.code).toBe(2);
    expect(JSON.parse(badJson.stderr).error).toMatchObject({ code: 'usage', exitCode: 2, hint: 'use one of: markdown, sqlite' });
  });
});

describe('a SQLite context', () => {
  let h: Home;
  beforeEach(() => (h = makeHome()));
  afterEach(() => h.cleanup());

  it('does every memory command as the markdown backend does', () => {
    const ctx = ['--context', 'q', '--backend', 'sqlite'];
    const id = h.run([...ctx, 'create', '--title', 'Note', '--content', 'hello', '--tag', 'A', '--meta', 'k=v']).stdout.trim();
    expect(h.run([...ctx, 'update', id.slice(0, 8), '--add-tag', 'b', '--type', 'long_term']).code).toBe(0);
    const shown = json(h.run([...ctx, '--json', 'show', id]));
    expect(shown).toMatchObject({ id, title: 'Note', type: 'long_term', tags: ['a', 'b'], meta: { k: 'v' }, content: 'hello' });
    expect(h.run([...ctx, 'delete', id]).code).toBe(0);
    expect(json(h.run([...ctx, '--json', 'list'])).memories).toEqual([]);
    expect(h.run([...ctx, 'restore', id]).code).toBe(0);
    expect(json(h.run([...ctx, '--json', 'tags'])).tags).toEqual([
      { tag: 'a', count: 1 },
      { tag: 'b', count: 1 },
    ]);
    const missing = h.run([...ctx, 'show', 'zzzzzz']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('memory not found: zzzzzz');
  });

  it('8 processes writing at once lose nothing and never show SQLITE_BUSY', async () => {
    // Twice: racing to create the context itself, then into the existing one.
    for (const round of [1, 2]) {
      const runs = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          h.spawnRun(['--context', 'busy', '--backend', 'sqlite', 'create', '--title', `round ${round} writer ${i}`, '--content', `body ${i}`, '--tag', `w${i}`]),
        ),
      );
      for (const r of runs) {
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toBe('');
        expect(r.stdout).toMatch(/^[0-9a-z]{26}\n$/);
      }
    }
    const list = h.run(['--context', 'busy', '--json', 'list']);
    expect(list.code).toBe(0);
    const titles = json(list).memories.map((m: { title: string }) => m.title).sort();
    expect(titles).toEqual([1, 2].flatMap((r) => Array.from({ length: 8 }, (_, i) => `round ${r} writer ${i}`)).sort());
    for (const m of json(list).memories) {
      const shown = h.run(['--context', 'busy', '--json', 'show', m.id]);
      expect(shown.code).toBe(0);
      expect(json(shown).content).toMatch(/^body \d$/);
    }
  });

  it('a corrupt whitemagic.db gives one line naming the file and suggesting restore-backup, exit 1', () => {
    expect(h.run(['--context', 'bad', '--backend', 'sqlite', 'create', '--title', 'T', '--content', 'c']).code).toBe(0);
    const db = join(h.wmHome, 'bad', 'whitemagic.db');
    writeFileSync(db, 'not a database '.repeat(100));
    for (const args of [['list'], ['status'], ['create', '--title', 'x', '--content', 'y']]) {
      const r = h.run(['--context', 'bad', ...args]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^whitemagic: error: .*whitemagic\.db is corrupt or not a whitemagic database .*restore-backup.*\n$/);
      expect(r.stderr).toContain(db);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe('');
    }
    const asJson = h.run(['--context', 'bad', '--json', 'list']);
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.stderr).error.code).toBe('corrupt');
  });

  it('a truncated whitemagic.db is an error, not an empty context', () => {
    expect(h.run(['--context', 'cut', '--backend', 'sqlite', 'create', '--title', 'T', '--content', 'c']).code).toBe(0);
    writeFileSync(join(h.wmHome, 'cut', 'whitemagic.db'), '');
    const r = h.run(['--context', 'cut', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('whitemagic.db is empty or truncated');
    expect(r.stderr).toContain('restore-backup');
  });
});
