import { Command, InvalidArgumentError, Option } from 'commander';
import { COMMAND_GROUPS, groupOf, scanArgs, type CommandGroup } from './args.js';
import { registerAgentCommands } from './commands/agents.js';
import { registerContextCommands } from './commands/context.js';
import { registerLifecycleCommands } from './commands/lifecycle.js';
import { registerContextsCommands } from './commands/contexts.js';
import { registerMemoryCommands } from './commands/memories.js';
import { registerSearchCommands } from './commands/search.js';
import { registerStorageCommands } from './commands/storage.js';

declare const __VERSION__: string;
/** The package version, put in by the build. */
export const VERSION: string = typeof __VERSION__ === 'string' ? __VERSION__ : '0.0.0-dev';

/** How each group of commands (COMMAND_GROUPS in ./args.ts, which lists what each declares) is declared. A new group goes in both. */
const REGISTER: Record<CommandGroup, (program: Command) => void> = {
  memories: registerMemoryCommands,
  context: registerContextCommands,
  agents: registerAgentCommands,
  search: registerSearchCommands,
  storage: registerStorageCommands,
  lifecycle: registerLifecycleCommands,
  contexts: registerContextsCommands,
};

/** Declares a group of commands on `program`. */
export function registerGroup(program: Command, group: CommandGroup): void {
  REGISTER[group](program);
}

/**
 * The command tree. This file and ./commands/ only declare commands and options; each action loads
 * its handler lazily (./handlers/), so a command pays only for the modules it uses.
 * A new command: declare it in the ./commands/ file of its group, handle it in ./handlers/.
 *
 * Given the arguments of a run, only the group holding the command named there is declared:
 * setting up every command's options was about a millisecond of each run, and declaring the groups
 * before the one wanted half a millisecond of a search. With no command named, or one no group
 * holds (help, a typo to suggest a fix for), every group is declared.
 */
export function createProgram(args?: readonly string[]): Command {
  const program = new Command('whitemagic');
  program
    .description('Local memory manager for developers and AI agents')
    .version(VERSION, '--version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .addOption(new Option('--base-dir <path>', 'the context directory to use (rule 1)'))
    .addOption(new Option('--context <name>', 'the context $WHITEMAGIC_HOME/<name> (rule 2)'))
    .option('--json', 'machine output on stdout; errors as JSON on stderr')
    .option('-q, --quiet', 'print nothing on success but what was asked for')
    .option('--no-color', 'no colour (also NO_COLOR)')
    .addOption(new Option('--backend <name>', 'backend for a context this command creates (markdown, sqlite)'))
    .addOption(new Option('--lock-timeout <seconds>', 'how long to wait for a busy context').argParser(seconds))
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  // The launcher's reading of the arguments (args.ts; a test keeps its option list equal to ours).
  const wanted = args && scanArgs(args).command;
  const group = wanted === undefined ? undefined : groupOf(wanted);
  for (const name of group ? [group] : (Object.keys(COMMAND_GROUPS) as CommandGroup[])) registerGroup(program, name);
  return program;
}

function seconds(value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value.trim())) throw new InvalidArgumentError('give a number of seconds, such as 5');
  return Number(value);
}

