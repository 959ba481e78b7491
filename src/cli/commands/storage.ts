import type { Command } from 'commander';

type Handlers = typeof import('../handlers/storage.js');
const handlers = (): Promise<Handlers> => import('../handlers/storage.js');

/** migrate: the context's backend (SPEC sections 4 and 7). */
export function registerStorageCommands(program: Command): void {
  program
    .command('migrate')
    .description('convert the active context to another backend (--backend markdown|sqlite), in place, atomically')
    // --backend is the global option: Commander reads it before or after the command name.
    .addHelpText('after', '\nThe old data is kept in backups/pre-migrate-<time>/ inside the context until you remove it.')
    .action(async (_opts, cmd: Command) => (await handlers()).migrate(cmd.optsWithGlobals()));
}
