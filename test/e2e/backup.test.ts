import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { variedMemories } from '../storage/conformance.js';
import { BIN, json, makeHome, type Home } from '../helpers/cli.js';
import { archiveEntries, availableBackends, comparable, craftArchive, oldMemory, readContext, seedContext } from '../helpers/lifecycle.js';
import type { BackendName } from '../../src/storage/types.js';

const backends = await availableBackends();
const pairs = backends.flatMap((from) => backends.map((to) => [from, to] as [BackendName, BackendName]));

let home: Home;
beforeEach(() => {
  home = makeHome('wm-backup-');
});
afterEach(() => home.cleanup());

/** A context with the varied memories of the conformance suite; returns its path. */
async function sourceContext(backend: BackendName, name = 'src'): Promise<string> {
  const dir = join(home.home, name);
  await seedContext(home, dir, backend, variedMemories());
  return dir;
}

function backupOf(dir: string, extra: string[] = []): string {
  const r = home.run(['--base-dir', dir, '--json', 'backup', ...extra]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return json(r).path;
}

describe.each(pairs)('backup and restore-backup (%s to %s)', (from, to) => {
  it('round-trips every memory exactly: ids, times, tags, extra keys, bodies, types', async () => {
    const src = await sourceContext(from);
    const file = backupOf(src);
    expect(file).toMatch(/backups\/backup-\d{8}-\d{6}\.tar\.gz$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(src, 'backups')).mode & 0o777).toBe(0o700);

    const target = join(home.home, 'restored');
    const r = home.run(['--backend', to, '--json', 'restore-backup', file, '--target-dir', target]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(json(r)).toMatchObject({ backend: to, replaced: [], skipped: [], unchanged: [] });
    expect(json(r).inserted).toHaveLength(variedMemories().length);

    const original = await readContext(src, from);
    const restored = await readContext(target, to);
    expect(restored.problems).toEqual([]);
    expect(restored.memories.map(comparable)).toEqual(original.memories.map(comparable));

    // A rerun finds everything there already and changes nothing.
    const again = home.run(['--json', 'restore-backup', file, '--target-dir', target, '--on-conflict', 'fail']);
    expect(again.code).toBe(0);
    expect(json(again).unchanged).toHaveLength(variedMemories().length);
  });
});

describe('backup', () => {
  it('names the archive layout in its manifest: sha256 and size of every file, counts, source backend', async () => {
    const src = await sourceContext('markdown');
    const file = backupOf(src);
    const entries = await archiveEntries(file);
    expect(entries[0].path).toBe('manifest.json');
    const manifest = JSON.parse(entries[0].data.toString());
    expect(manifest).toMatchObject({ format: 1, tool: 'whitemagic', source_backend: 'markdown', counts: { short_term: 4, long_term: 1, archive: 1, total: 6 } });
    expect(typeof manifest.version).toBe('string');
    expect(manifest.files).toHaveLength(6);
    for (const e of entries.slice(1)) {
      expect(e.path).toMatch(/^memory\/(short_term|long_term|archive)\/[^/]+\.md$/);
      expect(manifest.files).toContainEqual(expect.objectContaining({ path: e.path, size: e.data.length }));
    }
  });

  it('--output takes a file or a directory, --keep N keeps the newest N, --quiet prints nothing', async () => {
    const src = await sourceContext('markdown');
    const out = join(home.home, 'out');
    mkdirSync(out);
    for (let i = 0; i < 3; i++) {
      const r = home.run(['--base-dir', src, 'backup', '--output', out, '--keep', '2', '--quiet']);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('');
    }
    expect(readdirSync(out).filter((f) => f.endsWith('.tar.gz'))).toHaveLength(2);
    // Another context's backups in the same directory are not this context's to delete.
    const other = await sourceContext('markdown', 'other');
    expect(home.run(['--base-dir', other, 'backup', '--output', out + '/', '--keep', '1']).code).toBe(0);
    expect(readdirSync(out).filter((f) => f.endsWith('.tar.gz'))).toHaveLength(3);

    const named = join(home.home, 'named.tar.gz');
    const r = home.run(['--base-dir', src, 'backup', '--output', named]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(named);
    expect(statSync(named).mode & 0o777).toBe(0o600);
    expect(home.run(['verify-backup', named]).code).toBe(0);
  });

  it('lists backups with their counts, and fails on a missing context', async () => {
    const src = await sourceContext('markdown');
    backupOf(src);
    const r = home.run(['--base-dir', src, '--json', 'backups']);
    expect(r.code).toBe(0);
    expect(json(r).backups).toHaveLength(1);
    expect(json(r).backups[0]).toMatchObject({ backend: 'markdown', kind: 'backup', counts: { total: 6 } });
    const missing = home.run(['--base-dir', join(home.home, 'nope'), 'backup']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^whitemagic: error: context not found: /);
    expect(missing.stdout).toBe('');
  });

  it('runs in the documented cron loop over every context of $WHITEMAGIC_HOME', async () => {
    for (const name of ['alpha', 'beta', 'gamma']) await seedContext(home, join(home.wmHome, name), 'markdown', [oldMemory(1, { title: name })]);
    const script = `set -e; whitemagic() { "${process.execPath}" "${BIN}" "$@"; }\nfor project in "$WHITEMAGIC_HOME"/*/; do whitemagic --base-dir "$project" backup; done`;
    const r = spawnSync('bash', ['-c', script], { env: { ...home.env }, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toHaveLength(3);
    for (const name of ['alpha', 'beta', 'gamma']) {
      const files = readdirSync(join(home.wmHome, name, 'backups'));
      expect(files).toHaveLength(1);
      expect(home.run(['verify-backup', join(home.wmHome, name, 'backups', files[0])]).code).toBe(0);
    }
  });
});

describe('verify-backup and restore-backup refuse a tampered archive, writing nothing', () => {
  let good: Awaited<ReturnType<typeof archiveEntries>>;
  let src: string;

  beforeEach(async () => {
    src = await sourceContext('markdown');
    good = await archiveEntries(backupOf(src));
  });

  const cases: [string, () => Parameters<typeof craftArchive>[0], RegExp][] = [
    [
      'a changed byte',
      () => good.map((e, i) => (i === 2 ? { path: e.path, data: Buffer.concat([e.data.subarray(0, 10), Buffer.from('X'), e.data.subarray(11)]) } : e)),
      /sha256 differs/,
    ],
    ['an extra file', () => [...good, { path: 'memory/short_term/extra.md', data: Buffer.from('---\ntitle: x\n---\n') }], /extra\.md: not in the manifest/],
    ['a ../ entry', () => [...good, { path: '../escape.md', data: Buffer.from('x') }], /\.\.\/escape\.md: '\.\.' in path refused/],
    ['a nested .. entry', () => [...good, { path: 'memory/short_term/../../escape.md', data: Buffer.from('x') }], /'\.\.' in path refused/],
    ['an absolute path', () => [...good, { path: '/tmp/abs.md', data: Buffer.from('x') }], /\/tmp\/abs\.md: absolute path refused/],
    ['a symlink entry', () => [...good, { path: 'memory/short_term/link.md', type: 'SymbolicLink' as const, linkpath: '/etc/passwd' }], /a link \(SymbolicLink/],
    ['a hard link entry', () => [...good, { path: 'memory/short_term/hard.md', type: 'Link' as const, linkpath: 'manifest.json' }], /a link \(Link/],
    ['a missing file', () => good.filter((_, i) => i !== 1), /missing from the archive/],
  ];

  it.each(cases)('%s', (_name, make, reason) => {
    const file = join(home.home, 'tampered.tar.gz');
    writeFileSync(file, craftArchive(make()));
    const v = home.run(['verify-backup', file]);
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/^whitemagic: error: backup tampered\.tar\.gz failed verification/);
    expect(v.stdout).toMatch(reason);

    const target = join(home.home, 'target');
    const r = home.run(['restore-backup', file, '--target-dir', target]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^whitemagic: error: backup tampered\.tar\.gz failed verification: /);
    expect(r.stdout).toBe('');
    expect(existsSync(target)).toBe(false);
    expect(existsSync(join(home.home, 'escape.md'))).toBe(false);
  });

  it('a file that is not a gzip archive', () => {
    const file = join(home.home, 'garbage.tar.gz');
    writeFileSync(file, 'not an archive at all');
    const r = home.run(['--base-dir', src, 'restore-backup', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^whitemagic: error: backup garbage\.tar\.gz failed verification/);
  });
});

describe('restore-backup conflicts', () => {
  it('skip by default; fail refuses with nothing written; replace writes a pre-restore backup first; --dry-run writes nothing', async () => {
    const src = await sourceContext('markdown');
    const file = backupOf(src);
    const all = json(home.run(['--base-dir', src, '--json', 'list', '--include-archived'])).memories;
    const victim = all[0].id;
    expect(home.run(['--base-dir', src, 'update', victim, '--title', 'Changed since the backup']).code).toBe(0);
    expect(home.run(['--base-dir', src, 'create', '--title', 'Newer', '--content', 'x']).code).toBe(0);

    const dry = home.run(['--base-dir', src, '--json', 'restore-backup', file, '--dry-run', '--on-conflict', 'replace']);
    expect(dry.code).toBe(0);
    expect(json(dry)).toMatchObject({ dryRun: true, replaced: [victim], inserted: [] });
    expect(json(home.run(['--base-dir', src, '--json', 'show', victim])).title).toBe('Changed since the backup');

    const skip = home.run(['--base-dir', src, '--json', 'restore-backup', file]);
    expect(skip.code).toBe(0);
    expect(json(skip)).toMatchObject({ onConflict: 'skip', skipped: [victim], inserted: [] });
    expect(json(home.run(['--base-dir', src, '--json', 'show', victim])).title).toBe('Changed since the backup');

    const fail = home.run(['--base-dir', src, 'restore-backup', file, '--on-conflict', 'fail']);
    expect(fail.code).toBe(1);
    expect(fail.stderr).toMatch(new RegExp(`^whitemagic: error: 1 memory of the backup differ.*${victim}`));
    expect(json(home.run(['--base-dir', src, '--json', 'show', victim])).title).toBe('Changed since the backup');

    const replace = home.run(['--base-dir', src, '--json', 'restore-backup', file, '--on-conflict', 'replace']);
    expect(replace.code).toBe(0);
    const pre = json(replace).preRestoreBackup;
    expect(pre).toMatch(/backups\/pre-restore-\d{8}-\d{6}\.tar\.gz$/);
    expect(json(home.run(['--base-dir', src, '--json', 'show', victim])).title).not.toBe('Changed since the backup');
    // The pre-restore backup holds the replaced version and the newer memory.
    const before = join(home.home, 'before');
    expect(home.run(['restore-backup', pre, '--target-dir', before]).code).toBe(0);
    expect(json(home.run(['--base-dir', before, '--json', 'show', victim])).title).toBe('Changed since the backup');
    expect(json(home.run(['--base-dir', before, '--json', 'list'])).memories.map((m: { title: string }) => m.title)).toContain('Newer');
  });
});

describe('names through backup, restore and clone', () => {
  it('a file named by hand keeps its name, and its memory its id, in a restored backup and in a clone', () => {
    const src = join(home.home, 'named');
    expect(home.run(['--base-dir', src, 'create', '--title', 'Regular', '--content', 'x']).code).toBe(0);
    writeFileSync(join(src, 'memory', 'short_term', 'my-idea.md'), '---\ntitle: Named by hand\n---\nbody\n');
    const id = json(home.run(['--base-dir', src, '--json', 'show', 'my-idea'])).id;

    const restored = join(home.home, 'restored');
    expect(home.run(['--base-dir', restored, 'restore-backup', backupOf(src)]).code).toBe(0);
    const cloned = join(home.home, 'cloned');
    expect(home.run(['--base-dir', src, 'clone', cloned]).code).toBe(0);
    for (const dir of [restored, cloned]) {
      expect(readdirSync(join(dir, 'memory', 'short_term'))).toContain('my-idea.md');
      expect(json(home.run(['--base-dir', dir, '--json', 'show', 'my-idea']))).toMatchObject({ id, title: 'Named by hand', content: 'body' });
    }
  });
});
