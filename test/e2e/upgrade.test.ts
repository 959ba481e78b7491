import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../src/storage/sqlite/schema.js';
import { handTo, json, makeHome, UNPRIVILEGED, type Home } from '../helpers/cli.js';

let h: Home;
let dir: string;
beforeEach(() => {
  h = makeHome('wm-upgrade-');
  dir = h.copyFixture('whitemagic-2x', '.whitemagic/old');
});
afterEach(() => {
  chmodSync(dir, 0o700);
  h.cleanup();
});

/** Every file under `root` (relative path to its bytes), the manifest and derived files left out. */
function snapshot(root: string, skip = new Set(['whitemagic.json', '.last-used', '.whitemagic-catalog.tsv'])): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel))) {
      const path = rel ? `${rel}/${name}` : name;
      if (skip.has(path)) continue;
      if (statSync(join(root, path)).isDirectory()) walk(path);
      else out[path] = readFileSync(join(root, path), 'utf8');
    }
  };
  walk('');
  return out;
}

function run(args: string[], env?: NodeJS.ProcessEnv, uid?: number) {
  const r = h.run(['--context', 'old', ...args, '--json'], { env, uid });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  return json(r);
}

describe('upgrade of a whitemagic 2.x context', () => {
  it('reads as is, then its first write upgrades it: memories, tags, types, dates and metadata.json carried over', () => {
    const before = snapshot(dir);
    const read = run(['list', '--include-archived']);
    // A read adds no manifest and changes no file of a directory without one (SPEC section 2);
    // only derived files (last use, the catalog) may appear beside them.
    expect(existsSync(join(dir, 'whitemagic.json'))).toBe(false);
    expect(snapshot(dir)).toEqual(before);

    const created = run(['create', '--title', 'After the upgrade', '--content', 'new', '--tag', 'ops']);
    const manifest = JSON.parse(readFileSync(join(dir, 'whitemagic.json'), 'utf8'));
    expect(manifest).toEqual({ format: 1, backend: 'markdown', created: '2024-01-10T08:00:00.000Z', upgraded_from: 0 });
    // No 2.x file was rewritten, and the metadata file is kept as it was.
    const after = snapshot(dir);
    for (const [path, text] of Object.entries(before)) expect(after[path], path).toBe(text);

    const list = run(['list']);
    expect(list.total).toBe(4);
    expect(list.memories.map((m: { title: string }) => m.title)).toEqual([
      'After the upgrade',
      'Deploy checklist',
      'API rate limits',
      'Database choice',
    ]);
    const api = list.memories[2];
    expect(api).toMatchObject({
      type: 'short_term',
      tags: ['api', 'backend', 'performance'],
      created: '2024-03-01T09:15:00.000Z',
      name: '20240301_091500_api_rate_limits',
    });
    expect(list.memories[3]).toMatchObject({ type: 'long_term', tags: ['decision', 'backend'], created: '2024-02-15T10:00:00.000Z' });
    // Ids derived from the 2.x file names are the same before and after the upgrade.
    const ids = (l: { memories: { id: string; title: string }[] }) => Object.fromEntries(l.memories.map((m) => [m.title, m.id]));
    const idsAfter = ids(run(['list', '--include-archived']));
    for (const [title, id] of Object.entries(ids(read))) expect(idsAfter[title], title).toBe(id);
    expect(idsAfter['Old staging host']).toBeDefined();
    expect(run(['list', '--type', 'archive']).memories[0]).toMatchObject({ title: 'Old staging host', tags: ['ops'] });

    // show by file name and by id, with the body intact.
    const shown = run(['show', '20240301_091500_api_rate_limits.md']);
    expect(shown).toMatchObject({ id: api.id, title: 'API rate limits' });
    expect(shown.content).toBe('# API rate limits\n\nThe public API allows 100 requests per minute per key. Batch endpoints count once.');
    expect(run(['show', created.id]).title).toBe('After the upgrade');

    expect(run(['tags']).tags).toEqual([
      { tag: 'ops', count: 3 },
      { tag: 'backend', count: 2 },
      { tag: 'api', count: 1 },
      { tag: 'decision', count: 1 },
      { tag: 'deploy', count: 1 },
      { tag: 'performance', count: 1 },
    ]);
    expect(run(['status'])).toMatchObject({ state: 'context', format: 1, backend: 'markdown', total: 5 });
  });

  it('is idempotent: init again changes nothing', () => {
    const ids = run(['list', '--include-archived']).memories.map((m: { id: string }) => m.id);
    expect(run(['init'])).toMatchObject({ created: true });
    const manifest = readFileSync(join(dir, 'whitemagic.json'), 'utf8');
    expect(run(['init'])).toMatchObject({ created: false });
    run(['list']);
    expect(readFileSync(join(dir, 'whitemagic.json'), 'utf8')).toBe(manifest);
    expect(run(['list', '--include-archived']).memories.map((m: { id: string }) => m.id)).toEqual(ids);
  });

  it('upgrades once when many processes write to it at the same time', async () => {
    const results = await Promise.all(
      Array.from({ length: 4 }, (_, i) => h.spawnRun(['--context', 'old', 'create', '--title', `w${i}`, '--content', 'x', '--json'])),
    );
    for (const r of results) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
    }
    expect(JSON.parse(readFileSync(join(dir, 'whitemagic.json'), 'utf8')).format).toBe(1);
    expect(run(['list', '--include-archived']).total).toBe(8);
    expect(existsSync(join(dir, '.whitemagic.lock'))).toBe(false);
  });

  // Root writes anywhere, so there the directory cannot be made read-only.
  it('reads a context it cannot write as it is', (test) => {
    // A manifest of an older format is upgraded on open, unless the directory cannot be written.
    writeFileSync(join(dir, 'whitemagic.json'), JSON.stringify({ backend: 'markdown' }));
    // Root ignores modes (the tests run as root here and in CI): then the command runs as a user without privileges.
    const asRoot = process.getuid?.() === 0;
    // Skipped only as root with a build the unprivileged user cannot read (a checkout inside a
    // private folder): root ignores modes, so only that user can show the read-only case. In CI
    // and here the build is readable and the test runs.
    if (asRoot && !handTo(UNPRIVILEGED, h.home, dir)) return test.skip('running as root, and the build is not readable by an unprivileged user');
    chmodSync(dir, 0o500);
    const list = run(['list'], undefined, asRoot ? UNPRIVILEGED : undefined);
    expect(list.total).toBe(3);
    expect(JSON.parse(readFileSync(join(dir, 'whitemagic.json'), 'utf8'))).toEqual({ backend: 'markdown' });
  });
});

describe('a SQLite database of an older schema', () => {
  it('is upgraded by the next command, or read as it is when the command may not write it', (test) => {
    const base = join(h.home, 'sq');
    expect(h.run(['--base-dir', base, '--backend', 'sqlite', 'create', '--title', 'Kept', '--content', 'x']).code).toBe(0);
    const file = join(base, 'whitemagic.db');
    const downgrade = () => {
      const raw = new Database(file);
      raw.exec('DROP INDEX IF EXISTS memories_type_bytes');
      raw.pragma('user_version = 3');
      raw.close();
    };
    const version = () => {
      const raw = new Database(file, { readonly: true });
      const v = raw.pragma('user_version', { simple: true });
      raw.close();
      return v;
    };
    downgrade();
    expect(json(h.run(['--base-dir', base, 'status', '--json'])).counts.short_term).toBe(1);
    expect(version()).toBe(SCHEMA_VERSION);

    downgrade();
    const asRoot = process.getuid?.() === 0;
    // Skipped only as root with a build the unprivileged user cannot read (see the test above);
    // the upgrade half above has run by then.
    if (asRoot && !handTo(UNPRIVILEGED, h.home, base)) return test.skip('running as root, and the build is not readable by an unprivileged user');
    // The file read-only (its folder is not: SQLite needs to make its -shm file there to read).
    chmodSync(file, 0o400);
    const r = h.run(['--base-dir', base, 'list', '--json'], { uid: asRoot ? UNPRIVILEGED : undefined });
    expect(r.stderr).toBe('');
    expect(json(r).memories.map((m: { title: string }) => m.title)).toEqual(['Kept']);
    expect(version()).toBe(3);
  });
});

describe('a SQLite context in a folder this user cannot write', () => {
  let base: string;
  afterEach(() => {
    if (existsSync(base)) chmodSync(base, 0o700);
  });

  it('is read from a copy in memory; a write is refused and the file is untouched', (test) => {
    base = join(h.home, 'sq-ro');
    for (const title of ['Kept one', 'Kept two']) {
      expect(h.run(['--base-dir', base, '--backend', 'sqlite', 'create', '--title', title, '--content', 'read from read-only media']).code).toBe(0);
    }
    const file = join(base, 'whitemagic.db');
    const before = readFileSync(file);
    const asRoot = process.getuid?.() === 0;
    // Skipped only as root with a build the unprivileged user cannot read (a checkout inside a
    // private folder): root ignores modes, so only that user meets the read-only folder. In CI and
    // here the build is readable and the test runs.
    if (asRoot && !handTo(UNPRIVILEGED, h.home, base)) return test.skip('running as root, and the build is not readable by an unprivileged user');
    const uid = asRoot ? UNPRIVILEGED : undefined;
    // SQLite reads a WAL database in place only with its -shm file beside it, which it cannot make here.
    chmodSync(base, 0o500);
    const list = h.run(['--base-dir', base, 'list', '--json'], { uid });
    expect(list.stderr).toBe('');
    expect(json(list).memories.map((m: { title: string }) => m.title).sort()).toEqual(['Kept one', 'Kept two']);
    const search = h.run(['--base-dir', base, 'search', 'media', '--json'], { uid });
    expect(search.stderr).toBe('');
    expect(json(search).total).toBe(2);
    const create = h.run(['--base-dir', base, 'create', '--title', 'New', '--content', 'x'], { uid });
    expect(create.code).toBe(1);
    expect(create.stderr).toMatch(/^whitemagic: error: cannot write .*whitemagic\.db .*\n$/);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(readdirSync(base).sort()).toEqual(['.last-used', 'whitemagic.db', 'whitemagic.json']);

    // A write-ahead log with changes the copy would miss: refused, saying why.
    chmodSync(base, 0o700);
    const writer = new Database(file);
    writer.pragma('wal_autocheckpoint = 0');
    writer.prepare("UPDATE memories SET title = title || '!'").run();
    const log = readFileSync(`${file}-wal`);
    expect(log.length).toBeGreaterThan(0);
    writer.close(); // checkpoints and removes the log; put back as a crashed writer would leave it
    writeFileSync(`${file}-wal`, log);
    if (asRoot) handTo(UNPRIVILEGED, h.home, base);
    chmodSync(base, 0o500);
    const refused = h.run(['--base-dir', base, 'list'], { uid });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/write-ahead log holds changes not yet in the database, and its folder cannot be written \(hint: /);
  });
});

describe('manifest formats', () => {
  it('refuses a context written by a newer version, naming both versions', () => {
    const future = join(h.wmHome, 'future');
    mkdirSync(join(future, 'memory', 'short_term'), { recursive: true });
    const text = JSON.stringify({ format: 7, backend: 'markdown', created: '2030-01-01T00:00:00.000Z' });
    writeFileSync(join(future, 'whitemagic.json'), text);
    for (const args of [['list'], ['create', '--title', 'x', '--content', 'y'], ['status']]) {
      const r = h.run(['--context', 'future', ...args]);
      expect(r.code, args[0]).toBe(1);
      expect(r.stderr).toMatch(/^whitemagic: error: .*future was written by a newer whitemagic \(context format 7; this version reads up to 1\) \(hint: upgrade whitemagic/);
      expect(r.stdout).toBe('');
    }
    const r = h.run(['--context', 'future', 'list', '--json']);
    expect(JSON.parse(r.stderr).error).toMatchObject({ code: 'unsupported', exitCode: 1 });
    // Untouched.
    expect(readFileSync(join(future, 'whitemagic.json'), 'utf8')).toBe(text);
    expect(readdirSync(join(future, 'memory', 'short_term'))).toEqual([]);
  });

  it('upgrades a manifest of an older format when opened by a read, keeping its other keys', () => {
    const bare = join(h.wmHome, 'bare');
    mkdirSync(bare, { recursive: true });
    writeFileSync(join(bare, 'whitemagic.json'), JSON.stringify({ backend: 'markdown', description: 'Hand made', owner: 'me' }));
    const r = h.run(['--context', 'bare', 'list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(bare, 'whitemagic.json'), 'utf8'));
    expect(manifest).toMatchObject({ format: 1, backend: 'markdown', description: 'Hand made', owner: 'me', upgraded_from: 0 });
    expect(Date.parse(manifest.created)).not.toBeNaN();
    for (const type of ['short_term', 'long_term', 'archive']) expect(existsSync(join(bare, 'memory', type))).toBe(true);
  });
});
