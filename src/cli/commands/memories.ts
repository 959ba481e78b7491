import { Option, type Command } from 'commander';
import { collect, contentOptions, listFilterOptions, metaOption, typeOption } from './options.js';

type Handlers = typeof import('../handlers/memories.js');
const handlers = (): Promise<Handlers> => import('../handlers/memories.js');

/** create, show, list, update, delete, restore, tags, stats (SPEC section 4). */
export function registerMemoryCommands(program: Command): void {
  const create = program
    .command('create')
    .description('make a new memory; prints its id')
    .option('--title <title>', 'the title (one line; required unless --edit)')
    .option('--edit', 'write the memory in $VISUAL or $EDITOR');
  for (const o of contentOptions()) create.addOption(o);
  create
    .addOption(new Option('--type <type>', 'short_term (default) or long_term').choices(['short_term', 'long_term']))
    .addOption(new Option('--tag <tag>', 'a tag (repeatable)').argParser(collect))
    .addOption(metaOption())
    .action(async (opts, cmd: Command) => (await handlers()).create(opts, cmd.optsWithGlobals()));

  program
    .command('show')
    .description('one memory: front matter and body')
    .argument('<ref>', 'id, unique id prefix (4+ characters) or file name')
    .action(async (ref: string, _opts, cmd: Command) => (await handlers()).show(ref, cmd.optsWithGlobals()));

  const list = program.command('list').alias('ls').description('memories, newest first');
  for (const o of listFilterOptions()) list.addOption(o);
  list
    .addOption(new Option('--sort <field>', 'order by').choices(['created', 'updated', 'title']).default('created'))
    .option('--reverse', 'reverse the order')
    .action(async (opts, cmd: Command) => (await handlers()).list(opts, cmd.optsWithGlobals()));

  const update = program
    .command('update')
    .description("change a memory in place ('updated' changes, 'created' never)")
    .argument('<ref>', 'id, unique id prefix or file name')
    .option('--title <title>', 'new title');
  for (const o of contentOptions()) update.addOption(o);
  update
    .addOption(new Option('--add-tag <tag>', 'add a tag (repeatable)').argParser(collect))
    .addOption(new Option('--remove-tag <tag>', 'remove a tag (repeatable)').argParser(collect))
    .option('--replace-tags <a,b>', 'replace all tags with this comma list')
    .addOption(typeOption('move to this type'))
    .addOption(metaOption())
    .action(async (ref: string, opts, cmd: Command) => (await handlers()).update(ref, opts, cmd.optsWithGlobals()));

  program
    .command('delete')
    .alias('rm')
    .description('archive a memory; --permanent removes it')
    .argument('<ref>', 'id, unique id prefix or file name')
    .option('--permanent', 'remove it for good instead of archiving')
    .action(async (ref: string, opts, cmd: Command) => (await handlers()).remove(ref, opts, cmd.optsWithGlobals()));

  program
    .command('restore')
    .description('bring an archived memory back')
    .argument('<ref>', 'id, unique id prefix or file name')
    .addOption(new Option('--type <type>', 'where to (default: where it was)').choices(['short_term', 'long_term']))
    .action(async (ref: string, opts, cmd: Command) => (await handlers()).restore(ref, opts, cmd.optsWithGlobals()));

  program
    .command('tags')
    .description('tags and how many memories carry each')
    .action(async (_opts, cmd: Command) => (await handlers()).tags(cmd.optsWithGlobals()));

  program
    .command('stats')
    .description('counts by type, tags and bytes')
    .action(async (_opts, cmd: Command) => (await handlers()).stats(cmd.optsWithGlobals()));
}
