import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProgram } from '../../src/cli/program.js';
import { COMMANDS, GLOBAL_VALUE_OPTIONS } from '../../src/cli/args.js';
import { guessRun } from '../../src/cli/read-ahead.js';

const foldersToReadAhead = (args: string[], env: NodeJS.ProcessEnv) => guessRun(args, env).folders;

const TYPES = ['short_term', 'long_term', 'archive'];
const foldersOf = (dir: string) => TYPES.map((t) => join(dir, 'memory', t));

describe('reading ahead: which folders a run will read', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'wm-ahead-'));
    env = { HOME: home, WHITEMAGIC_HOME: join(home, 'wm') };
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it('knows every global option that takes a value, so an option value is never taken for the command', () => {
    const program = createProgram();
    const takesValue = program.options.filter((o) => o.required || o.optional).map((o) => o.long);
    expect([...takesValue].sort()).toEqual([...GLOBAL_VALUE_OPTIONS].sort());
  });

  it('knows every command and alias, which the code cache keeps a file for each of', () => {
    const program = createProgram();
    const names = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
    expect([...COMMANDS].sort()).toEqual(names.sort());
  });

  it('resolves the context as the command does: --base-dir in either form and place, --context, the environment, the default', () => {
    const ctx = join(home, 'x', 'ctx');
    for (const dir of [ctx, join(home, 'wm', 'work'), join(home, 'wm', 'list'), join(home, 'notes'), join(home, 'wm', 'default')]) mkdirSync(join(dir, 'memory'), { recursive: true });
    expect(foldersToReadAhead(['--base-dir', ctx, 'list'], env)).toEqual(foldersOf(ctx));
    expect(foldersToReadAhead(['list', '--limit', '20', `--base-dir=${ctx}`], env)).toEqual(foldersOf(ctx));
    expect(foldersToReadAhead(['--context', 'work', 'show', 'abc'], env)).toEqual(foldersOf(join(home, 'wm', 'work')));
    expect(foldersToReadAhead(['--context', 'list', 'status'], env)).toEqual(foldersOf(join(home, 'wm', 'list')));
    expect(foldersToReadAhead(['search', 'x'], { ...env, WHITEMAGIC_BASE_DIR: '~/notes' })).toEqual(foldersOf(join(home, 'notes')));
    expect(foldersToReadAhead(['ls'], env)).toEqual(foldersOf(join(home, 'wm', 'default')));
  });

  it('reads nothing ahead for a context without a memory folder (SQLite, or not made yet)', () => {
    mkdirSync(join(home, 'wm', 'sq'), { recursive: true });
    writeFileSync(join(home, 'wm', 'sq', 'whitemagic.db'), '');
    expect(foldersToReadAhead(['--context', 'sq', 'list'], env)).toEqual([]);
    expect(foldersToReadAhead(['--context', 'missing', 'list'], env)).toEqual([]);
  });

  it('reads every named context ahead for a federated search', () => {
    for (const name of ['a', 'b', '.hidden']) mkdirSync(join(home, 'wm', name, 'memory'), { recursive: true });
    mkdirSync(join(home, 'wm', 'sqlite-one'), { recursive: true }); // no memory folder: not read ahead
    writeFileSync(join(home, 'wm', 'active-context'), 'a');
    expect(foldersToReadAhead(['search', 'x', '--all-contexts'], env)).toEqual([...foldersOf(join(home, 'wm', 'a')), ...foldersOf(join(home, 'wm', 'b'))]);
    expect(foldersToReadAhead(['search', 'x', '--contexts', 'b, a'], env)).toEqual([...foldersOf(join(home, 'wm', 'b')), ...foldersOf(join(home, 'wm', 'a'))]);
  });

  it('reads nothing ahead for a command that writes, for help, or for no command', () => {
    for (const args of [['create', '--title', 'list'], ['update', 'x'], ['delete', 'x'], ['reindex'], ['--help'], [], ['--json']]) {
      expect(foldersToReadAhead(args, env), args.join(' ')).toEqual([]);
    }
  });

  it('tells which kind of context a run works on, for every command (the code cache keeps a file per kind)', () => {
    mkdirSync(join(home, 'wm', 'md', 'memory'), { recursive: true });
    mkdirSync(join(home, 'wm', 'sq'), { recursive: true });
    writeFileSync(join(home, 'wm', 'sq', 'whitemagic.json'), JSON.stringify({ format: 1, backend: 'sqlite' }));
    mkdirSync(join(home, 'wm', 'odd'), { recursive: true });
    writeFileSync(join(home, 'wm', 'odd', 'whitemagic.json'), 'not json');
    const catalog = join(home, 'wm', 'md', '.whitemagic-catalog.tsv');
    expect(guessRun(['--context', 'md', 'create', '--title', 't'], env)).toEqual({ folders: [], records: [], variant: 'markdown' });
    // Each folder with its record in the catalog: the catalog's path and the folder's index in MEMORY_TYPES.
    expect(guessRun(['--context', 'md', 'list'], env)).toEqual({ folders: foldersOf(join(home, 'wm', 'md')), records: [[catalog, 0], [catalog, 1], [catalog, 2]], variant: 'markdown' });
    expect(guessRun(['--context', 'sq', 'create', '--title', 't'], env)).toEqual({ folders: [], records: [], variant: 'sqlite' });
    expect(guessRun(['--context', 'sq', 'search', 'x'], env)).toEqual({ folders: [], records: [], variant: 'sqlite' });
    expect(guessRun(['--context', 'missing', 'create'], env).variant).toBeUndefined();
    expect(guessRun(['--context', 'odd', 'list'], env).variant).toBeUndefined();
    expect(guessRun(['search', 'x', '--contexts', 'md,sq'], env).variant).toBe('federated-markdown-sqlite');
    expect(guessRun(['search', 'x', '--contexts', 'md,sq'], env).records).toEqual([0, 1, 2].map((i) => [catalog, i]));
    expect(guessRun(['search', 'x', '--contexts', 'sq'], env)).toEqual({ folders: [], records: [], variant: 'federated-sqlite' });
    expect(guessRun(['--help'], env)).toEqual({ folders: [], records: [] });
  });

  it('leaves a context the command would refuse to the command (it throws, and readAhead drops the guess)', () => {
    expect(() => foldersToReadAhead(['--context', '../up', 'list'], env)).toThrow();
  });
});
