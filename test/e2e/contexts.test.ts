import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { json, makeHome, type Home } from '../helpers/cli.js';

let h: Home;
beforeEach(() => {
  h = makeHome('wm-contexts-');
});
afterEach(() => h.cleanup());

/** Runs a command that must succeed, and returns its parsed --json stdout. */
function ok(args: string[], env?: NodeJS.ProcessEnv) {
  const r = h.run([...args, '--json'], { env });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  return json(r);
}

function names(list: { contexts: { name: string }[] }): string[] {
  return list.contexts.map((c) => c.name);
}

describe('contexts: discovery', () => {
  it('lists markdown, sqlite and legacy contexts and nothing else', () => {
    ok(['contexts', 'create', 'work', '--description', 'Client work']);
    ok(['--context', 'work', 'create', '--title', 'One', '--content', 'x', '--tag', 'a']);
    // A SQLite context as its manifest declares it (listed even where its backend cannot open it).
    mkdirSync(join(h.wmHome, 'db'), { recursive: true });
    writeFileSync(join(h.wmHome, 'db', 'whitemagic.json'), JSON.stringify({ format: 1, backend: 'sqlite', created: '2024-01-01T00:00:00.000Z' }));
    h.copyFixture('whitemagic-2x', '.whitemagic/old');
    // Not contexts: an empty folder, a folder of other files, a name --context could not take, a file.
    mkdirSync(join(h.wmHome, 'empty'));
    mkdirSync(join(h.wmHome, 'notes'));
    writeFileSync(join(h.wmHome, 'notes', 'todo.md'), '# todo\n');
    mkdirSync(join(h.wmHome, 'Bad Name', 'memory'), { recursive: true });
    writeFileSync(join(h.wmHome, 'stray.txt'), 'x');

    const r = h.run(['contexts', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const list = json(r);
    expect(names(list)).toEqual(['db', 'old', 'work']);
    const [db, old, work] = list.contexts;
    expect(db).toMatchObject({ backend: 'sqlite', state: 'context', format: 1 });
    expect(old).toMatchObject({ backend: 'markdown', state: 'legacy', format: 0, total: 4, counts: { short_term: 2, long_term: 1, archive: 1 } });
    expect(work).toMatchObject({ backend: 'markdown', description: 'Client work', total: 1, tags: 1, active: false });
    expect(work.size).toBeGreaterThan(0);
    expect(Date.parse(work.lastUsed)).not.toBeNaN();
    // Listing reads only: the legacy context is not upgraded by being listed.
    expect(existsSync(join(h.wmHome, 'old', 'whitemagic.json'))).toBe(false);
    // `contexts list` is the same command.
    expect(names(ok(['contexts', 'list']))).toEqual(['db', 'old', 'work']);
    const r2 = h.run(['contexts', 'lsit']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toBe("whitemagic: error: unknown command 'contexts lsit' (hint: see 'whitemagic contexts --help')\n");
  });

  it('counts the memories of a real SQLite context beside a markdown one', () => {
    ok(['--backend', 'sqlite', 'contexts', 'create', 'lite']);
    ok(['--context', 'lite', 'create', '--title', 'One', '--content', 'x', '--tag', 'a']);
    ok(['--context', 'lite', 'create', '--title', 'Two', '--content', 'y', '--type', 'long_term']);
    ok(['--context', 'md', 'create', '--title', 'Three', '--content', 'z']);
    const list = ok(['contexts']);
    expect(names(list)).toEqual(['lite', 'md']);
    expect(list.contexts[0]).toMatchObject({ backend: 'sqlite', total: 2, counts: { short_term: 1, long_term: 1, archive: 0 }, tags: 1 });
    expect(list.contexts[0].size).toBeGreaterThan(0);
    expect(list.contexts[1]).toMatchObject({ backend: 'markdown', total: 1 });
    expect(ok(['overview']).totals).toMatchObject({ contexts: 2, memories: 3, counts: { short_term: 2, long_term: 1, archive: 0 } });
  });

  it('marks the active context, in --json and in tab-separated lines off a terminal', () => {
    ok(['contexts', 'create', 'alpha']);
    ok(['contexts', 'create', 'beta', '--description', 'Second']);
    const list = ok(['--context', 'beta', 'contexts']);
    expect(list.active).toBe('beta');
    expect(list.contexts.map((c: { active: boolean }) => c.active)).toEqual([false, true]);
    const r = h.run(['contexts'], { env: { WHITEMAGIC_CONTEXT: 'alpha' } });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const rows = r.stdout.trimEnd().split('\n').map((line) => line.split('\t'));
    expect(rows.map((row) => row.length)).toEqual([9, 9]);
    expect(rows[0].slice(0, 6)).toEqual(['alpha', '*', 'markdown', '0', '0', '0']);
    expect(rows[1].slice(0, 3)).toEqual(['beta', '-', 'markdown']);
    expect(rows[1][8]).toBe('Second');
    expect(Number(rows[1][6])).toBeGreaterThan(0);
  });

  it('prints nothing for an empty home', () => {
    const r = h.run(['contexts']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(ok(['contexts']).contexts).toEqual([]);
  });

  it('lists a context of a newer format with its error instead of failing', () => {
    ok(['contexts', 'create', 'fine']);
    mkdirSync(join(h.wmHome, 'future'));
    writeFileSync(join(h.wmHome, 'future', 'whitemagic.json'), JSON.stringify({ format: 99, backend: 'markdown', created: '' }));
    const list = ok(['contexts']);
    expect(names(list)).toEqual(['fine', 'future']);
    expect(list.contexts[1]).toMatchObject({ format: 99, counts: null });
    expect(list.contexts[1].error).toMatch(/format 99.*up to 1/);
  });
});

describe('contexts create', () => {
  it('creates a context with a description and the global --backend', () => {
    const info = ok(['contexts', 'create', 'proj-1', '--description', 'Project one']);
    expect(info).toMatchObject({ name: 'proj-1', backend: 'markdown', description: 'Project one', total: 0 });
    const manifest = JSON.parse(readFileSync(join(h.wmHome, 'proj-1', 'whitemagic.json'), 'utf8'));
    expect(manifest).toMatchObject({ format: 1, backend: 'markdown', description: 'Project one' });
    // The global option is accepted after the subcommand too.
    const r = h.run(['contexts', 'create', 'proj-2', '--backend', 'markdown']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('created context proj-2 (markdown)');
  });

  it('refuses an existing context, a non-context folder, and a bad name with the rule', () => {
    ok(['contexts', 'create', 'taken']);
    let r = h.run(['contexts', 'create', 'taken']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("whitemagic: error: context 'taken' exists already (hint: use it with --context taken, or pick another name)\n");
    mkdirSync(join(h.wmHome, 'stuff'));
    writeFileSync(join(h.wmHome, 'stuff', 'keep.txt'), 'mine');
    r = h.run(['contexts', 'create', 'stuff']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/stuff exists and is not a context/);
    expect(existsSync(join(h.wmHome, 'stuff', 'whitemagic.json'))).toBe(false);
    for (const bad of ['Upper', '_under', 'a/b', '..', 'x'.repeat(64), '']) {
      r = h.run(['contexts', 'create', bad]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toMatch(/^whitemagic: error: invalid context name '.*': a context name is 1 to 63 characters: lowercase letters, digits, _ and -/);
      expect(r.stdout).toBe('');
    }
    expect(names(ok(['contexts']))).toEqual(['taken']);
  });

  it('applies the name rule to --context and WHITEMAGIC_CONTEXT too', () => {
    let r = h.run(['--context', 'No', 'list']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--context: invalid context name 'No': a context name is/);
    r = h.run(['list'], { env: { WHITEMAGIC_CONTEXT: 'a b' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/WHITEMAGIC_CONTEXT: invalid context name 'a b'/);
    r = h.run(['list', '--json'], { env: { WHITEMAGIC_CONTEXT: 'a b' } });
    expect(JSON.parse(r.stderr).error).toMatchObject({ code: 'usage', exitCode: 2 });
  });
});

describe('contexts show and describe', () => {
  it('shows one context, and sets and clears its description', () => {
    ok(['contexts', 'create', 'notes']);
    ok(['--context', 'notes', 'create', '--title', 'T', '--content', 'body', '--tag', 'x', '--tag', 'y']);
    expect(ok(['contexts', 'describe', 'notes', 'My notes'])).toMatchObject({ name: 'notes', description: 'My notes' });
    const shown = ok(['contexts', 'show', 'notes']);
    expect(shown).toMatchObject({ name: 'notes', description: 'My notes', total: 1, tags: 2, format: 1, active: false });
    const r = h.run(['contexts', 'show', 'notes']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^context: +notes\n/);
    expect(r.stdout).toMatch(/description: My notes/);
    expect(r.stdout).toMatch(/memories: +1 \(short_term 1, long_term 0, archive 0\)/);
    expect(ok(['contexts', 'describe', 'notes', ''])).toMatchObject({ description: null });
    expect(ok(['contexts', 'show', 'notes']).description).toBeUndefined();
  });

  it('refuses an unknown context and a multi-line description', () => {
    let r = h.run(['contexts', 'show', 'ghost']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("whitemagic: error: context not found: ghost (hint: see 'whitemagic contexts' for the contexts there are)\n");
    r = h.run(['contexts', 'describe', 'ghost', 'x']);
    expect(r.code).toBe(1);
    ok(['contexts', 'create', 'real']);
    r = h.run(['contexts', 'describe', 'real', 'two\nlines']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/a description must be one line/);
  });
});

describe('switch', () => {
  it('remembers the context, shown by status, and refuses an unknown one', () => {
    ok(['contexts', 'create', 'side']);
    let r = h.run(['switch', 'nowhere']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "whitemagic: error: context not found: nowhere (hint: create it with 'whitemagic switch --create nowhere', or see 'whitemagic contexts')\n",
    );
    expect(existsSync(join(h.wmHome, 'active-context'))).toBe(false);

    expect(ok(['switch', 'side'])).toMatchObject({ name: 'side', previous: null, created: false, overriddenBy: null });
    expect(readFileSync(join(h.wmHome, 'active-context'), 'utf8').trim()).toBe('side');
    expect(ok(['status'])).toMatchObject({ name: 'side', source: 'switch', switched: 'side' });
    r = h.run(['status']);
    expect(r.stdout).toMatch(/chosen by: 'whitemagic switch'/);
    // A write now lands in the switched-to context.
    ok(['create', '--title', 'Here', '--content', 'x']);
    expect(ok(['contexts', 'show', 'side']).total).toBe(1);
    // The default is always a valid target, even before it exists.
    expect(ok(['switch', 'default'])).toMatchObject({ name: 'default', previous: 'side' });
  });

  it('creates with --create, within the name rules', () => {
    expect(ok(['switch', '--create', 'fresh'])).toMatchObject({ name: 'fresh', created: true });
    expect(existsSync(join(h.wmHome, 'fresh', 'whitemagic.json'))).toBe(true);
    const r = h.run(['switch', 'Fresh!']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid context name 'Fresh!': a context name is/);
  });

  it('warns when an environment variable still wins over the switch', () => {
    ok(['contexts', 'create', 'a']);
    ok(['contexts', 'create', 'b']);
    const r = h.run(['switch', 'b'], { env: { WHITEMAGIC_CONTEXT: 'a' } });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("whitemagic: warning: the WHITEMAGIC_CONTEXT environment variable still wins over the switch; unset it to use 'b'\n");
    expect(r.stdout).toBe('switched to b\n');
    const status = ok(['status'], { WHITEMAGIC_CONTEXT: 'a' });
    expect(status).toMatchObject({ name: 'a', switched: 'b' });
    expect(h.run(['status'], { env: { WHITEMAGIC_CONTEXT: 'a' } }).stdout).toMatch(/switched to: b \(the WHITEMAGIC_CONTEXT environment variable wins over it\)/);
  });
});

describe('contexts delete', () => {
  it('explains and does nothing without --yes, then deletes with it', () => {
    ok(['contexts', 'create', 'old']);
    ok(['--context', 'old', 'create', '--title', 'Gone soon', '--content', 'x']);
    let r = h.run(['contexts', 'delete', 'old']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^whitemagic: error: 'contexts delete old' removes .*old and its 1 memory for good; nothing was deleted \(hint: run it again with --yes to confirm\)\n$/);
    expect(r.stdout).toBe('');
    expect(existsSync(join(h.wmHome, 'old', 'whitemagic.json'))).toBe(true);

    r = h.run(['contexts', 'delete', 'old', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^deleted context old \(1 memory, /);
    expect(existsSync(join(h.wmHome, 'old'))).toBe(false);
    // Nothing is left behind, not even hidden.
    expect(readdirSync(h.wmHome)).toEqual([]);
    r = h.run(['contexts', 'delete', 'old', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/context not found: old/);
  });

  it('refuses the active context unless --force, and forgets a switch to it', () => {
    ok(['contexts', 'create', 'keep']);
    ok(['switch', '--create', 'current']);
    let r = h.run(['contexts', 'delete', 'current', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "whitemagic: error: context 'current' is the active context (chosen by 'whitemagic switch'); nothing was deleted (hint: switch to another context first, or pass --force)\n",
    );
    r = h.run(['--context', 'keep', 'contexts', 'delete', 'keep', '--yes', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stderr).error).toMatchObject({ code: 'conflict', exitCode: 1 });
    expect(existsSync(join(h.wmHome, 'keep'))).toBe(true);

    expect(ok(['contexts', 'delete', 'current', '--yes', '--force'])).toMatchObject({ name: 'current', switchCleared: true });
    expect(existsSync(join(h.wmHome, 'current'))).toBe(false);
    expect(existsSync(join(h.wmHome, 'active-context'))).toBe(false);
    expect(ok(['status'])).toMatchObject({ name: 'default', source: 'default' });
  });
});

describe('contexts rename', () => {
  it('renames, keeping memories, and the switch follows', () => {
    ok(['switch', '--create', 'before']);
    const id = ok(['create', '--title', 'Kept', '--content', 'x']).id;
    expect(ok(['contexts', 'rename', 'before', 'after'])).toMatchObject({ from: 'before', to: 'after', switchUpdated: true });
    expect(existsSync(join(h.wmHome, 'before'))).toBe(false);
    expect(readFileSync(join(h.wmHome, 'active-context'), 'utf8').trim()).toBe('after');
    expect(ok(['show', id])).toMatchObject({ id, title: 'Kept' });
    // The lock went with the directory and was released: a write does not wait.
    expect(existsSync(join(h.wmHome, 'after', '.whitemagic.lock'))).toBe(false);
    ok(['create', '--title', 'After', '--content', 'y'], { WHITEMAGIC_LOCK_TIMEOUT: '0' });
  });

  it('refuses an existing NEW, an unknown OLD and a bad NEW name', () => {
    ok(['contexts', 'create', 'one']);
    ok(['contexts', 'create', 'two']);
    let r = h.run(['contexts', 'rename', 'one', 'two']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/context 'two' exists already/);
    r = h.run(['contexts', 'rename', 'zero', 'three']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/context not found: zero/);
    r = h.run(['contexts', 'rename', 'one', 'One']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid context name 'One': a context name is/);
    r = h.run(['contexts', 'rename', 'one', 'one']);
    expect(r.code).toBe(2);
    expect(names(ok(['contexts']))).toEqual(['one', 'two']);
  });
});

describe('overview and capacity', () => {
  it('totals every context and reports capacity', () => {
    ok(['contexts', 'create', 'a']);
    ok(['contexts', 'create', 'b']);
    ok(['--context', 'a', 'create', '--title', 'A1', '--content', 'x']);
    ok(['--context', 'b', 'create', '--title', 'B1', '--content', 'x', '--type', 'long_term']);
    ok(['--context', 'b', 'create', '--title', 'B2', '--content', 'x']);
    const o = ok(['overview'], { WHITEMAGIC_MAX_CONTEXTS: '5' });
    expect(o.totals).toMatchObject({ contexts: 2, memories: 3, counts: { short_term: 2, long_term: 1, archive: 0 }, unreadable: 0 });
    expect(o.totals.size).toBe(o.contexts[0].size + o.contexts[1].size);
    expect(o.capacity).toEqual({ used: 2, maximum: 5, available: 3 });
    expect(ok(['overview']).capacity).toEqual({ used: 2, maximum: 100, available: 98 });
    const r = h.run(['overview'], { env: { WHITEMAGIC_MAX_CONTEXTS: '2' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/memories: +3 \(short_term 2, long_term 1, archive 0\)/);
    expect(r.stdout).toMatch(/capacity: +2 used of 2, 0 available \(full\)/);
    expect(r.stdout).toMatch(/size: +\d+(\.\d)? (B|KiB)/);
  });

  it('creates up to the maximum and refuses the next, creating nothing', () => {
    const env = { WHITEMAGIC_MAX_CONTEXTS: '3' };
    ok(['contexts', 'create', 'c1'], env);
    ok(['switch', '--create', 'c2'], env);
    // The third by a first write: every creation goes through the same check.
    ok(['--context', 'c3', 'create', '--title', 'Third', '--content', 'x'], env);
    const refusals = [
      ['contexts', 'create', 'c4'],
      ['switch', '--create', 'c4'],
      ['--context', 'c4', 'create', '--title', 'Fourth', '--content', 'x'],
      ['--context', 'c4', 'init'],
    ];
    for (const args of refusals) {
      const r = h.run(args, { env });
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/^whitemagic: error: cannot create context 'c4': .* holds 3 contexts and the maximum is 3 \(WHITEMAGIC_MAX_CONTEXTS\) \(hint: delete one with/);
      expect(r.stdout).toBe('');
      expect(existsSync(join(h.wmHome, 'c4'))).toBe(false);
    }
    // Writing to an existing context is never refused, nor is a context outside the home.
    ok(['--context', 'c1', 'create', '--title', 'More', '--content', 'x'], env);
    ok(['--base-dir', join(h.home, 'elsewhere'), 'create', '--title', 'Out', '--content', 'x'], env);
    expect(ok(['overview'], env).capacity).toEqual({ used: 3, maximum: 3, available: 0 });
    // After a delete there is room again.
    ok(['contexts', 'delete', 'c1', '--yes'], env);
    ok(['contexts', 'create', 'c4'], env);
  });

  it('refuses a WHITEMAGIC_MAX_CONTEXTS that is not a number', () => {
    const r = h.run(['overview'], { env: { WHITEMAGIC_MAX_CONTEXTS: 'lots' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/WHITEMAGIC_MAX_CONTEXTS: 'lots' is not a whole number/);
  });
});
