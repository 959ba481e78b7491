import { Argument, Option, type Command } from 'commander';

type Handlers = typeof import('../handlers/agents.js');
const handlers = (): Promise<Handlers> => import('../handlers/agents.js');

/** The shells `completion` knows; also the choices the completion scripts offer. */
export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;
/** What `__complete` can list, asked by the completion scripts. */
export const COMPLETION_TOPICS = ['contexts', 'tags', 'ids'] as const;

/** context, edit, completion, mcp: where assistants, editors and shells meet whitemagic. */
export function registerAgentCommands(program: Command): void {
  program
    .command('context')
    .description('a context package for an AI agent: the newest memories as plain text')
    .addOption(new Option('--tier <tier>', '0 brief, 1 (default) usual, 2 thorough').choices(['0', '1', '2']).default('1'))
    .action(async (opts, cmd: Command) => (await handlers()).contextPackage(opts, cmd.optsWithGlobals()));

  program
    .command('edit')
    .description('open a memory in $VISUAL or $EDITOR; saving an empty file cancels')
    .argument('<ref>', 'id, unique id prefix or file name')
    .action(async (ref: string, _opts, cmd: Command) => (await handlers()).edit(ref, cmd.optsWithGlobals()));

  program
    .command('completion')
    .description('print the shell completion script (bash, zsh or fish)')
    .addArgument(new Argument('<shell>', 'the shell').choices([...COMPLETION_SHELLS]))
    .action(async (shell: string) => (await handlers()).completion(shell));

  program
    .command('mcp')
    .description('serve the active context to AI assistants over MCP (stdio)')
    .action(async (_opts, cmd: Command) => (await handlers()).mcp(cmd.optsWithGlobals()));

  // For the completion scripts: context names, tags or memory ids, one per line, fast and quiet.
  program
    .command('__complete', { hidden: true })
    .addArgument(new Argument('<what>').choices([...COMPLETION_TOPICS]))
    .action(async (what: string, _opts, cmd: Command) => (await handlers()).complete(what, cmd.optsWithGlobals()));
}
