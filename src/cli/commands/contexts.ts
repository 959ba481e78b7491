import type { Command } from 'commander';

type Handlers = typeof import('../handlers/contexts.js');
const handlers = (): Promise<Handlers> => import('../handlers/contexts.js');

/** contexts (list, create, show, delete, rename, describe), switch and overview (SPEC section 8). */
export function registerContextsCommands(program: Command): void {
  const contexts = program
    .command('contexts')
    .description('the contexts in $WHITEMAGIC_HOME: list (default), create, show, delete, rename, describe');

  contexts
    .command('list', { isDefault: true })
    .alias('ls')
    .description('every context: backend, counts, size, last use, description; * marks the active one')
    // `contexts foo` reaches this default command with `foo` as an argument: name it as unknown.
    .allowExcessArguments(true)
    .action(async (_opts, cmd: Command) => {
      if (cmd.args.length) {
        const { UsageError } = await import('../../errors.js');
        throw new UsageError(`unknown command 'contexts ${cmd.args[0]}'`, "see 'whitemagic contexts --help'");
      }
      return (await handlers()).list(cmd.optsWithGlobals());
    });

  contexts
    .command('create')
    .description('make a new context (the global --backend chooses its backend)')
    .argument('<name>', 'lowercase letters, digits, _ and -')
    .option('--description <text>', 'what this context is for')
    .action(async (name: string, opts, cmd: Command) => (await handlers()).create(name, opts, cmd.optsWithGlobals()));

  contexts
    .command('show')
    .description('one context in detail')
    .argument('<name>', 'the context')
    .action(async (name: string, _opts, cmd: Command) => (await handlers()).show(name, cmd.optsWithGlobals()));

  contexts
    .command('delete')
    .alias('rm')
    .description('delete a context and all its memories (needs --yes)')
    .argument('<name>', 'the context')
    .option('--yes', 'confirm: without it nothing is deleted')
    .option('--force', 'allow deleting the active context')
    .action(async (name: string, opts, cmd: Command) => (await handlers()).remove(name, opts, cmd.optsWithGlobals()));

  contexts
    .command('rename')
    .alias('mv')
    .description('rename a context (a switch to it follows)')
    .argument('<old>', 'the context')
    .argument('<new>', 'its new name')
    .action(async (from: string, to: string, _opts, cmd: Command) => (await handlers()).rename(from, to, cmd.optsWithGlobals()));

  contexts
    .command('describe')
    .description("set a context's description ('' clears it)")
    .argument('<name>', 'the context')
    .argument('<text>', 'one line')
    .action(async (name: string, text: string, _opts, cmd: Command) => (await handlers()).describe(name, text, cmd.optsWithGlobals()));

  program
    .command('switch')
    .description('make NAME the active context, remembered in $WHITEMAGIC_HOME (see status)')
    .argument('<name>', 'the context')
    .option('-c, --create', 'create the context if it does not exist')
    .action(async (name: string, opts, cmd: Command) => (await handlers()).switchTo(name, opts, cmd.optsWithGlobals()));

  program
    .command('overview')
    .description('totals over all contexts, sizes, and capacity (WHITEMAGIC_MAX_CONTEXTS)')
    .action(async (_opts, cmd: Command) => (await handlers()).overview(cmd.optsWithGlobals()));
}
