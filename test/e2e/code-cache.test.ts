import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeHome, type Home } from '../helpers/cli.js';

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

  it('is written by the first command and used by the next, with the same results', () => {
    const env = { TMPDIR: tmp };
    const first = h.run(['create', '--title', 'Cached', '--content', 'c', '--json'], { env });
    expect(first.code).toBe(0);
    expect(first.stderr).toBe('');
    const files = readdirSync(cacheFolder());
    expect(files).toHaveLength(1);
    const second = h.run(['list', '--json'], { env });
    expect(second.code).toBe(0);
    expect(second.stderr).toBe('');
    expect(JSON.parse(second.stdout).memories.map((m: { title: string }) => m.title)).toEqual(['Cached']);
    expect(readdirSync(cacheFolder())).toEqual(files);
  });

  it('learns each command once: a command it has not seen writes it again with its own functions', () => {
    const env = { TMPDIR: tmp };
    const learnt = () => {
      const [file] = readdirSync(cacheFolder());
      const bytes = readFileSync(join(cacheFolder(), file));
      return { head: bytes.toString('latin1', 0, bytes.indexOf(10)), size: bytes.length };
    };
    expect(h.run(['create', '--title', 'Learnt', '--content', 'c'], { env }).code).toBe(0);
    const first = learnt();
    expect(first.head).toBe('wmcc1 create');
    expect(h.run(['search', 'learnt'], { env }).stdout).toContain('Learnt');
    const second = learnt();
    expect(second.head).toBe('wmcc1 create search');
    expect(second.size).toBeGreaterThan(first.size); // search's functions too
    // Known now: not written again (a marker written over the data would survive).
    const [file] = readdirSync(cacheFolder());
    const marked = Buffer.concat([readFileSync(join(cacheFolder(), file)), Buffer.from('marker')]);
    writeFileSync(join(cacheFolder(), file), marked);
    expect(h.run(['search', 'learnt'], { env }).code).toBe(0);
    expect(readFileSync(join(cacheFolder(), file))).toEqual(marked);
  });

  it("replaces the cache of an earlier build of the same bundle, and keeps other Node.js versions' and bundles'", () => {
    const env = { TMPDIR: tmp };
    expect(h.run(['list'], { env }).code).toBe(0);
    const [current] = readdirSync(cacheFolder());
    const [version, arch, , , key] = current.split('-');
    const olderBuild = `${version}-${arch}-1234-1700000000000-${key}`;
    const otherNode = `v18.0.0-${arch}-1234-1700000000000-${key}`;
    const otherBundle = `${version}-${arch}-1234-1700000000000-_elsewhere_dist_cli_main_cjs`;
    for (const f of [olderBuild, otherNode, otherBundle]) writeFileSync(join(cacheFolder(), f), 'old');
    rmSync(join(cacheFolder(), current)); // so the next command writes its cache again
    expect(h.run(['list'], { env }).code).toBe(0);
    expect(readdirSync(cacheFolder()).sort()).toEqual([current, otherBundle, otherNode].sort());
  });

  it('a damaged cache file is refused by V8 and replaced; the command still works', () => {
    const env = { TMPDIR: tmp };
    expect(h.run(['list'], { env }).code).toBe(0);
    const [file] = readdirSync(cacheFolder());
    writeFileSync(join(cacheFolder(), file), 'not a code cache');
    const r = h.run(['create', '--title', 'After damage', '--content', 'c'], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
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
});
