import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ROOT, makeHome, type Home } from '../helpers/cli.js';

// The command line runs its bundle through V8's code cache, kept in the temporary folder.
describe('the code cache of the command line', () => {
  let h: Home;
  let tmp: string;
  beforeEach(() => {
    h = makeHome();
    tmp = join(h.home, 'tmp');
    mkdirSync(tmp);
  });
  afterEach(() => h.cleanup());

  const cacheFolder = () => join(tmp, `whitemagic-code-cache-${process.getuid?.() ?? 0}`);

  it('is written by the first run of a command and used by the next, with the same results', () => {
    const env = { TMPDIR: tmp };
    // The first create makes the context: a run on no context yet has a file of its own (below).
    expect(h.run(['create', '--title', 'Makes the context', '--content', 'c'], { env }).code).toBe(0);
    const made = readdirSync(cacheFolder());
    const first = h.run(['create', '--title', 'Cached', '--content', 'c', '--json'], { env });
    expect(first.code).toBe(0);
    expect(first.stderr).toBe('');
    const files = readdirSync(cacheFolder()).filter((f) => !made.includes(f));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/\.create\.markdown$/);
    const written = readFileSync(join(cacheFolder(), files[0]));
    const second = h.run(['create', '--title', 'Second', '--content', 'c', '--json'], { env });
    expect(second.code).toBe(0);
    expect(second.stderr).toBe('');
    expect(readdirSync(cacheFolder()).filter((f) => !made.includes(f))).toEqual(files);
    expect(readFileSync(join(cacheFolder(), files[0]))).toEqual(written); // used, not written again
    expect(JSON.parse(h.run(['list', '--json'], { env }).stdout).memories.map((m: { title: string }) => m.title).sort()).toEqual(['Cached', 'Makes the context', 'Second']);
  });

  it('keeps one file per command and kind of context, so a run never loads the functions of the others', () => {
    const env = { TMPDIR: tmp };
    const files = () => readdirSync(cacheFolder()).sort();
    const suffix = (f: string) => f.slice(f.indexOf('_cjs.') + 4); // what follows the bundle's key
    expect(h.run(['create', '--title', 'Learnt', '--content', 'c'], { env }).code).toBe(0);
    expect(h.run(['search', 'learnt'], { env }).stdout).toContain('Learnt');
    expect(h.run(['ls'], { env }).stdout).toContain('Learnt');
    const [create, ls, search] = files();
    // The create made the context: it ran on none, and has the file of runs on a context not made yet.
    expect([create, ls, search].map(suffix)).toEqual(['.create', '.ls.markdown', '.search.markdown']);
    expect(create).toBe(search.slice(0, search.indexOf('_cjs.') + 4) + '.create');
    // Known now: not written again (a marker written over the data would survive).
    const marked = Buffer.concat([readFileSync(join(cacheFolder(), search)), Buffer.from('marker')]);
    writeFileSync(join(cacheFolder(), search), marked);
    expect(h.run(['search', 'learnt'], { env }).code).toBe(0);
    expect(readFileSync(join(cacheFolder(), search))).toEqual(marked);
    // A SQLite context's runs, and a federated search, have files of their own.
    expect(h.run(['--context', 'sq', '--backend', 'sqlite', 'create', '--title', 'In SQLite', '--content', 'c'], { env }).code).toBe(0);
    expect(h.run(['--context', 'sq', 'create', '--title', 'Again', '--content', 'c'], { env }).code).toBe(0);
    expect(h.run(['--context', 'sq', 'search', 'again'], { env }).stdout).toContain('Again');
    expect(h.run(['search', 'learnt', '--all-contexts'], { env }).stdout).toContain('Learnt');
    expect(files().map(suffix)).toEqual(['.create', '.create.sqlite', '.ls.markdown', '.search.federated-markdown-sqlite', '.search.markdown', '.search.sqlite']);
    // A word that is no command shares one file with runs that name none: typos do not fill the folder.
    const known = files();
    expect(h.run(['serach', 'x'], { env }).code).toBe(2);
    expect(h.run(['lsit'], { env }).code).toBe(2);
    expect(h.run(['--help'], { env }).code).toBe(0);
    expect(files().filter((f) => !known.includes(f)).map(suffix)).toEqual(['.none']);
  });

  it("replaces the caches of an earlier build of the same bundle, and keeps other Node.js versions' and bundles'", () => {
    const env = { TMPDIR: tmp };
    expect(h.run(['list'], { env }).code).toBe(0);
    const [current] = readdirSync(cacheFolder());
    const [version, arch, , , keyAndCommand] = current.split('-');
    const key = keyAndCommand.slice(0, keyAndCommand.indexOf('.'));
    const olderBuild = [`${version}-${arch}-1234-1700000000000-${key}.list`, `${version}-${arch}-1234-1700000000000-${key}.search`];
    const earlierFormat = `${version}-${arch}-1234-1700000000000-${key}`; // one file for every command
    const otherNode = `v18.0.0-${arch}-1234-1700000000000-${key}.list`;
    const otherBundle = `${version}-${arch}-1234-1700000000000-_elsewhere_dist_cli_main_cjs.list`;
    const sameBuild = `${current.slice(0, current.lastIndexOf('.'))}.show`;
    for (const f of [...olderBuild, earlierFormat, otherNode, otherBundle, sameBuild]) writeFileSync(join(cacheFolder(), f), 'old');
    rmSync(join(cacheFolder(), current)); // so the next command writes its cache again
    expect(h.run(['list'], { env }).code).toBe(0);
    expect(readdirSync(cacheFolder()).sort()).toEqual([current, otherBundle, otherNode, sameBuild].sort());
  });

  it('a damaged cache file is refused by V8 and replaced; the command still works', () => {
    const env = { TMPDIR: tmp };
    expect(h.run(['create', '--title', 'Makes the context', '--content', 'c'], { env }).code).toBe(0);
    expect(h.run(['create', '--title', 'Before damage', '--content', 'c'], { env }).code).toBe(0);
    const [file] = readdirSync(cacheFolder()).filter((f) => f.endsWith('.create.markdown'));
    writeFileSync(join(cacheFolder(), file), 'not a code cache');
    const r = h.run(['create', '--title', 'After damage', '--content', 'c'], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(readFileSync(join(cacheFolder(), file), 'latin1')).not.toBe('not a code cache');
    expect(h.run(['list'], { env }).stdout).toContain('After damage');
  });

  it('a cache folder others can write to is not used', () => {
    const env = { TMPDIR: tmp };
    mkdirSync(cacheFolder(), { mode: 0o700 });
    chmodSync(cacheFolder(), 0o777);
    const r = h.run(['create', '--title', 'T', '--content', 'c'], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(readdirSync(cacheFolder())).toEqual([]);
  });

  it('reads an ASCII bundle, and the characters its code writes beyond ASCII come out whole', () => {
    // The launcher reads dist/cli-main.cjs as Latin-1 (src/util/code-cache.ts): right only for ASCII.
    expect(readFileSync(join(ROOT, 'dist', 'cli-main.cjs'), 'latin1')).not.toMatch(/[^\x00-\x7f]/);
    const env = { TMPDIR: tmp };
    const long = `${'filler words '.repeat(30)}needle ${'more words '.repeat(30)}`;
    expect(h.run(['create', '--title', 'Café 🚀', '--content', long], { env }).code).toBe(0);
    for (let run = 0; run < 2; run++) {
      // The snippet's ellipses are the bundle's own characters; the title is the file's.
      const hit = h.run(['search', 'needle'], { env }).stdout.split('\t');
      expect(hit[2]).toBe('Café 🚀');
      expect(hit[4].trim()).toMatch(/^….*\[needle\].*…$/);
    }
  });
});

