import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { variedMemories } from '../storage/conformance.js';
import { json, makeHome, type Home } from '../helpers/cli.js';
import { availableBackends, comparable, readContext, seedContext } from '../helpers/lifecycle.js';
import type { BackendName } from '../../src/storage/types.js';

const backends = await availableBackends();
const pairs = backends.flatMap((from) => backends.map((to) => [from, to] as [BackendName, BackendName]));

let home: Home;
beforeEach(() => {
  home = makeHome('wm-clone-');
});
afterEach(() => home.cleanup());

describe.each(pairs)('clone (%s to %s)', (from, to) => {
  it('deep-copies every memory with ids, times and extra keys to a context name', async () => {
    const src = join(home.home, 'src');
    await seedContext(home, src, from, variedMemories());
    const manifestPath = join(src, 'whitemagic.json');
    writeFileSync(manifestPath, JSON.stringify({ ...JSON.parse(readFileSync(manifestPath, 'utf8')), description: 'the source', retention_days: 14 }));

    const r = home.run(['--base-dir', src, '--backend', to, '--json', 'clone', 'copy']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(json(r)).toMatchObject({ dest: join(home.wmHome, 'copy'), backend: to, memories: variedMemories().length });

    const copy = join(home.wmHome, 'copy');
    const manifest = JSON.parse(readFileSync(join(copy, 'whitemagic.json'), 'utf8'));
    expect(manifest).toMatchObject({ backend: to, description: 'the source', retention_days: 14, format: 1 });
    const a = await readContext(src, from);
    const b = await readContext(copy, to);
    expect(b.problems).toEqual([]);
    expect(b.memories.map(comparable)).toEqual(a.memories.map(comparable));
    // Nothing left beside it.
    expect(readdirSync(home.wmHome)).toEqual(['copy']);
    const status = json(home.run(['--context', 'copy', '--json', 'status']));
    expect(status).toMatchObject({ backend: to, total: variedMemories().length });
  });
});

describe('clone', () => {
  it('takes a path (./x, ~/x, a/b) and --description', async () => {
    const src = join(home.home, 'src');
    await seedContext(home, src, 'markdown', variedMemories());
    const r = home.run(['--base-dir', src, 'clone', './rel-copy', '--description', 'mine']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`to ${join(home.home, 'rel-copy')}`);
    expect(JSON.parse(readFileSync(join(home.home, 'rel-copy', 'whitemagic.json'), 'utf8')).description).toBe('mine');
    expect(home.run(['--base-dir', src, 'clone', '~/tilde/copy']).code).toBe(0);
    expect(json(home.run(['--base-dir', join(home.home, 'tilde', 'copy'), '--json', 'status'])).total).toBe(6);
  });

  it('refuses a non-empty DEST, an invalid name and a missing source, leaving DEST as it was', async () => {
    const src = join(home.home, 'src');
    await seedContext(home, src, 'markdown', variedMemories());
    const busy = join(home.home, 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'keep.txt'), 'mine');
    const r = home.run(['--base-dir', src, 'clone', busy]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`whitemagic: error: ${busy} is not empty (hint: clone into a new or empty directory)\n`);
    expect(readdirSync(busy)).toEqual(['keep.txt']);
    expect(readdirSync(home.home).filter((n) => n.includes('.clone-'))).toEqual([]);

    const empty = join(home.home, 'empty');
    mkdirSync(empty);
    expect(home.run(['--base-dir', src, 'clone', empty]).code).toBe(0);

    const bad = home.run(['--base-dir', src, 'clone', 'Bad Name']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^whitemagic: error: invalid context name 'Bad Name' \(hint: a context name is/);

    const missing = home.run(['--base-dir', join(home.home, 'nothing'), 'clone', 'x']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^whitemagic: error: context not found: /);
  });
});

describe('clone and the context capacity', () => {
  it('refuses a clone into $WHITEMAGIC_HOME past WHITEMAGIC_MAX_CONTEXTS and creates nothing', () => {
    const env = { WHITEMAGIC_MAX_CONTEXTS: '2' };
    expect(home.run(['--context', 'one', 'create', '--title', 't', '--content', 'c'], { env }).code).toBe(0);
    expect(home.run(['--context', 'one', 'clone', 'two'], { env }).code).toBe(0);
    const r = home.run(['--context', 'one', 'clone', 'three'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^whitemagic: error: cannot create context 'three'.*maximum is 2/);
    expect(readdirSync(home.wmHome).filter((n) => !n.startsWith('.')).sort()).toEqual(['one', 'two']);
    // A path outside the home is not a context of the home: no limit.
    expect(home.run(['--context', 'one', 'clone', join(home.home, 'elsewhere')], { env }).code).toBe(0);
  });
});
