import { Option, type Command } from 'commander';
import { listFilterOptions } from './options.js';

type Handlers = typeof import('../handlers/search.js');
const handlers = (): Promise<Handlers> => import('../handlers/search.js');

/** search, reindex, doctor (SPEC sections 4 and 5). */
export function registerSearchCommands(program: Command): void {
  const search = program
    .command('search')
    .description('ranked full-text search: words, "phrases", -excluded, OR, prefix*')
    .argument('<query...>', "what to look for (quote it to keep a -word from being read as an option: 'docker -compose')");
  for (const o of listFilterOptions()) search.addOption(o);
  search
    .option('--titles-only', 'match titles only')
    .addOption(new Option('--contexts <a,b>', 'search these contexts of $WHITEMAGIC_HOME instead of the active one'))
    .option('--all-contexts', 'search every context of $WHITEMAGIC_HOME')
    // `search docker -compose`: a single-dash word is an exclusion, not an unknown option.
    .allowUnknownOption(true)
    .action(async (words: string[], opts, cmd: Command) => (await handlers()).search(words, opts, cmd.optsWithGlobals()));

  program
    .command('reindex')
    .description("rebuild the context's search index from its memories")
    .action(async (_opts, cmd: Command) => (await handlers()).reindex(cmd.optsWithGlobals()));

  program
    .command('doctor')
    .description('report memories that cannot be read and drift between them and the search index (exit 1 if any)')
    .action(async (_opts, cmd: Command) => (await handlers()).doctor(cmd.optsWithGlobals()));
}
