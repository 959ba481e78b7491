import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_GROUPS, type CommandGroup } from '../../src/cli/args.js';
import { createProgram, registerGroup } from '../../src/cli/program.js';

const names = (args?: string[]) => createProgram(args).commands.map((c) => c.name());

describe('the command tree', () => {
  const all = names();

  it('declares only the group of the command a run names', () => {
    const forCreate = names(['create', '--title', 'T']);
    expect(forCreate).toContain('create');
    expect(forCreate.length).toBeLessThan(all.length);
    expect(forCreate).not.toContain('contexts');
    expect(names(['search', 'docker'])).toEqual(['search', 'reindex', 'doctor']);
    expect(names(['ls'])).toEqual(forCreate);
    expect(names(['contexts', 'list'])).toEqual(['contexts', 'switch', 'overview']);
    // An option's value is not the command: `--context contexts` names a context.
    expect(names(['--context', 'contexts', 'list'])).toEqual(forCreate);
    expect(names(['--context=contexts', '--json', 'list'])).toEqual(forCreate);
  });

  it('declares every group for help, for no command and for an unknown one', () => {
    for (const args of [[], ['--help'], ['creat'], ['--json'], ['help', 'search']]) expect(names(args)).toEqual(all);
    expect(all).toEqual(expect.arrayContaining(['create', 'search', 'status', 'mcp', 'migrate', 'backup', 'contexts']));
  });

  it('knows each group by the commands and aliases it declares', () => {
    for (const group of Object.keys(COMMAND_GROUPS) as CommandGroup[]) {
      const program = new Command();
      registerGroup(program, group);
      expect(program.commands.flatMap((c) => [c.name(), ...c.aliases()]).sort(), group).toEqual([...COMMAND_GROUPS[group]].sort());
    }
  });
});
