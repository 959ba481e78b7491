import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { json, makeHome, type Home } from '../helpers/cli.js';

let h: Home;
beforeEach(() => {
  h = makeHome();
});
afterEach(() => h.cleanup());

const statusOf = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const r = h.run([...args, 'status', '--json'], { env });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return json(r);
};

describe('context resolution (SPEC section 2)', () => {
  it('rule 6: the implicit default reads as empty and creates nothing', () => {
    const s = statusOf([]);
    expect(s).toMatchObject({ name: 'default', source: 'default', path: join(h.wmHome, 'default'), state: 'missing', total: 0 });
    expect(h.run(['list']).code).toBe(0);
    expect(h.run(['list']).stdout).toBe('');
    expect(existsSync(h.wmHome)).toBe(false);
  });

  it('applies the rules in order: --base-dir, --context, WHITEMAGIC_BASE_DIR, WHITEMAGIC_CONTEXT, switch, default', () => {
    const dir = join(h.home, 'project', '.whitemagic');
    writeFileSync(join(h.home, 'marker'), '');
    mkdirSync(h.wmHome, { recursive: true });
    writeFileSync(join(h.wmHome, 'active-context'), 'switched\n');
    const env = { WHITEMAGIC_BASE_DIR: join(h.home, 'from-env'), WHITEMAGIC_CONTEXT: 'envname' };

    expect(statusOf(['--base-dir', dir, '--lock-timeout', '1'], env)).toMatchObject({ source: '--base-dir', path: dir });
    expect(statusOf(['--context', 'named'], env)).toMatchObject({ source: '--context', name: 'named', path: join(h.wmHome, 'named') });
    expect(statusOf([], env)).toMatchObject({ source: 'WHITEMAGIC_BASE_DIR', path: join(h.home, 'from-env') });
    expect(statusOf([], { WHITEMAGIC_CONTEXT: 'envname' })).toMatchObject({ source: 'WHITEMAGIC_CONTEXT', name: 'envname' });
    expect(statusOf([])).toMatchObject({ source: 'switch', name: 'switched' });
  });

  it('accepts global options after the subcommand too, and expands ~', () => {
    const r = h.run(['status', '--json', '--base-dir', '~/notes']);
    expect(r.code).toBe(0);
    expect(json(r)).toMatchObject({ source: '--base-dir', path: join(h.home, 'notes') });
    expect(statusOf([], { WHITEMAGIC_BASE_DIR: '~/env-notes' }).path).toBe(join(h.home, 'env-notes'));
    expect(statusOf([], { WHITEMAGIC_HOME: '~/elsewhere' }).path).toBe(join(h.home, 'elsewhere', 'default'));
  });

  it('says which rule chose the context in words', () => {
    const r = h.run(['status', '--context', 'work']);
    expect(r.stdout).toMatch(/context: +work/);
    expect(r.stdout).toMatch(/chosen by: the --context option/);
    expect(r.stdout).toMatch(/backend: +markdown/);
  });

  it('refuses --base-dir with --context (exit 2) and bad context names with the rule', () => {
    const both = h.run(['list', '--base-dir', h.home, '--context', 'x']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--base-dir and --context cannot be used together/);
    for (const name of ['Upper', '../escape', '-dash', 'a/b', '', 'x'.repeat(64)]) {
      const r = h.run(['list', '--context', name]);
      expect(r.code, name).toBe(2);
      expect(r.stderr).toMatch(/invalid context name/);
      expect(r.stderr).toMatch(/lowercase letters, digits/);
    }
    expect(h.run(['list'], { env: { WHITEMAGIC_CONTEXT: 'Bad Name' } }).code).toBe(2);
  });

  it('an explicit context that does not exist fails reads with exit 1, and a write creates it', () => {
    for (const args of [['--context', 'nope'], ['--base-dir', join(h.home, 'nope')]]) {
      const r = h.run([...args, 'list']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^whitemagic: error: context not found: .*nope \(hint: /);
    }
    const env = h.run(['show', 'abcd'], { env: { WHITEMAGIC_BASE_DIR: join(h.home, 'envdir') } });
    expect(env.code).toBe(1);
    expect(env.stderr).toMatch(/context not found/);
    // A directory that exists but holds no context is not one either.
    mkdirSync(join(h.home, 'empty'));
    expect(h.run(['--base-dir', join(h.home, 'empty'), 'list']).code).toBe(1);
    expect(h.run(['--base-dir', join(h.home, 'empty'), 'create', '--title', 't', '--content', 'c']).code).toBe(0);
    expect(h.run(['--base-dir', join(h.home, 'empty'), 'list']).stdout).toMatch(/\tt\t/);
  });

  it('update, delete and restore on a missing context fail and create nothing', () => {
    for (const args of [['update', 'abcd', '--title', 'x'], ['delete', 'abcd'], ['restore', 'abcd']]) {
      const named = h.run(['--context', 'ghost', ...args]);
      expect(named.code, args[0]).toBe(1);
      expect(named.stderr).toMatch(/context not found/);
      const implicit = h.run(args);
      expect(implicit.code, args[0]).toBe(1);
      expect(implicit.stderr).toMatch(/no memories yet/);
    }
    expect(existsSync(h.wmHome)).toBe(false);
  });

  it('a context path that is a file fails clearly', () => {
    writeFileSync(join(h.home, 'afile'), 'x');
    const r = h.run(['--base-dir', join(h.home, 'afile'), 'create', '--title', 't', '--content', 'c']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not a directory: .*afile/);
  });

  it('keeps contexts isolated from each other', () => {
    const a = h.run(['--context', 'a', 'create', '--title', 'in a', '--content', 'x']).stdout.trim();
    const b = h.run(['--context', 'b', 'create', '--title', 'in b', '--content', 'x']).stdout.trim();
    const ids = (ctx: string) => json(h.run(['--context', ctx, 'list', '--json'])).memories.map((m: { id: string }) => m.id);
    expect(ids('a')).toEqual([a]);
    expect(ids('b')).toEqual([b]);
    expect(h.run(['--context', 'a', 'show', b]).code).toBe(1);
    expect(h.run(['--context', 'b', 'delete', a]).code).toBe(1);
    expect(ids('a')).toEqual([a]);
  });

  it('init makes the context explicitly, and again is a no-op', () => {
    const first = h.run(['--context', 'fresh', 'init', '--description', 'for tests']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/initialised a markdown context/);
    expect(statusOf(['--context', 'fresh'])).toMatchObject({ state: 'context', description: 'for tests', backend: 'markdown' });
    const again = h.run(['--context', 'fresh', 'init', '--json']);
    expect(json(again)).toMatchObject({ created: false, backend: 'markdown' });
  });
});

describe('errors', () => {
  it('are one line with exit 2 for unknown commands and flags, and JSON with --json', () => {
    const unknown = h.run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^whitemagic: error: unknown command 'frobnicate'/);
    const flag = h.run(['list', '--limt', '3']);
    expect(flag.code).toBe(2);
    expect(flag.stderr.trim().split('\n')).toHaveLength(1);
    expect(flag.stderr).toMatch(/unknown option '--limt'.*--limit/);
    const asJson = h.run(['show', 'nothing', '--json']);
    expect(asJson.code).toBe(1);
    expect(asJson.stdout).toBe('');
    expect(JSON.parse(asJson.stderr)).toMatchObject({ error: { code: 'not_found', exitCode: 1 } });
  });

  it('never print a stack trace', () => {
    const results = [h.run(['show', '../x']), h.run(['list', '--since', 'nope']), h.run(['--context', 'nope', 'stats'])];
    for (const r of results) {
      expect(r.code).not.toBe(0);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('print help and the version with exit 0', () => {
    const v = h.run(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^\d+\.\d+\.\d+/);
    const help = h.run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: whitemagic/);
    expect(h.run(['create', '--help']).stdout).toMatch(/--title/);
  });
});
