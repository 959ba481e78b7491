import { InvalidArgumentError, Option, type Command } from 'commander';

type Handlers = typeof import('../handlers/lifecycle.js');
const handlers = (): Promise<Handlers> => import('../handlers/lifecycle.js');

/** `--dry-run [bool]`: bare means true; `false`, `no`, `0` apply the changes. */
function bool(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['true', 'yes', '1', 'on'].includes(v)) return true;
  if (['false', 'no', '0', 'off'].includes(v)) return false;
  throw new InvalidArgumentError('give true or false');
}

function keepCount(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('give a whole number of 0 or more');
  return Number(value);
}

/** consolidate, backup, backups, verify-backup, restore-backup, clone (SPEC sections 6 and 7). */
export function registerLifecycleCommands(program: Command): void {
  program
    .command('consolidate')
    .description('archive or promote old short-term memories (a dry run unless --dry-run false / --no-dry-run)')
    .addOption(new Option('--dry-run [bool]', 'only show what would happen (the default)').argParser(bool))
    .addOption(new Option('--no-dry-run', 'apply the consolidation'))
    .option('--older-than <date>', 'consolidate memories created before this (7d, 2w, or an ISO date); default 7 days or retention_days')
    .option('--log', 'show past consolidation runs instead')
    .action(async (opts, cmd: Command) => (await handlers()).consolidate(opts, cmd.optsWithGlobals()));

  program
    .command('backup')
    .description("write a .tar.gz snapshot of the context (default: its backups/ folder)")
    .option('--output <path>', 'a file, or a directory (existing, or ending in /)')
    .addOption(new Option('--keep <n>', 'then delete all but the newest n backups of this context there').argParser(keepCount))
    .action(async (opts, cmd: Command) => (await handlers()).backup(opts, cmd.optsWithGlobals()));

  program
    .command('backups')
    .description("the context's backups, newest first")
    .action(async (_opts, cmd: Command) => (await handlers()).backups(cmd.optsWithGlobals()));

  program
    .command('verify-backup')
    .description('re-hash every file of a backup against its manifest')
    .argument('<file>', 'a .tar.gz made by backup')
    .action(async (file: string, _opts, cmd: Command) => (await handlers()).verifyBackup(file, cmd.optsWithGlobals()));

  program
    .command('restore-backup')
    .description('verify a backup, then restore it into the active context or --target-dir')
    .argument('<file>', 'a .tar.gz made by backup')
    .option('--target-dir <dir>', 'restore into this context directory instead (created if missing; --backend for a new one)')
    .addOption(new Option('--on-conflict <mode>', 'a memory whose id exists with other content').choices(['skip', 'replace', 'fail']).default('skip'))
    .option('--dry-run', 'only show what would happen')
    .action(async (file: string, opts, cmd: Command) => (await handlers()).restoreBackup(file, opts, cmd.optsWithGlobals()));

  program
    .command('clone')
    .description('deep copy of the active context to DEST (ids kept; --backend to convert)')
    .argument('<dest>', 'a context name, or a path (with a /, or starting with . or ~)')
    .option('--description <text>', "the copy's description (default: the source's)")
    .action(async (dest: string, opts, cmd: Command) => (await handlers()).clone(dest, opts, cmd.optsWithGlobals()));
}

