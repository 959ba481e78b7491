import type { Command } from 'commander';

type Handlers = typeof import('../handlers/context.js');
const handlers = (): Promise<Handlers> => import('../handlers/context.js');

/** status and init: the active context itself (SPEC section 2). */
export function registerContextCommands(program: Command): void {
  program
    .command('status')
    .description('the active context: path, name, the rule that chose it, backend, counts')
    .action(async (_opts, cmd: Command) => (await handlers()).status(cmd.optsWithGlobals()));

  program
    .command('init')
    .description('make the active context explicitly (--backend, --description)')
    .option('--description <text>', 'what this context is for')
    .action(async (opts, cmd: Command) => (await handlers()).init(opts, cmd.optsWithGlobals()));
}
