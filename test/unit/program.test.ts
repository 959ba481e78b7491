import { describe, expect, it } from 'vitest';
import { createProgram } from '../../src/cli/program.js';

const names = (args?: string[]) => createProgram(args).commands.map((c) => c.name());

describe('the command tree', () => {
  const all = names();

  it('declares only the groups up to the command a run names', () => {
    const forCreate = names(['create', '--title', 'T']);
    expect(forCreate).toContain('create');
    expect(forCreate.length).toBeLessThan(all.length);
    expect(forCreate).not.toContain('contexts');
    // An option's value is not the command: `--context contexts` names a context.
    expect(names(['--context', 'contexts', 'list'])).toEqual(forCreate);
    expect(names(['--context=contexts', '--json', 'list'])).toEqual(forCreate);
  });

  it('declares every group for help, for no command, for an unknown one, and for the last group', () => {
    for (const args of [[], ['--help'], ['creat'], ['--json'], ['contexts', 'list']]) expect(names(args)).toEqual(all);
    expect(all).toEqual(expect.arrayContaining(['create', 'search', 'status', 'mcp', 'migrate', 'backup', 'contexts']));
  });
});
