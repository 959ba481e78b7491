import { doctor as contextDoctor } from '../../commands/doctor.js';
import { reindex as contextReindex } from '../../commands/reindex.js';
import { searchMemories, type SearchInput } from '../../commands/search.js';
import { checkFederatedOptions, searchFederated, type FederatedHit } from '../../commands/search-federated.js';
import { whitemagicHome } from '../../context/resolve.js';
import { printable } from '../../context/names.js';
import { UsageError, WhitemagicError } from '../../errors.js';
import { readFilters } from '../../commands/list.js';
import type { MemoryType } from '../../memory/types.js';
import { bracketMark, renderDoctor, renderSearchPlain, renderSearchTerminal, searchHitJson } from '../../output/search.js';
import { makeStyle } from '../../output/style.js';
import type { SearchHit } from '../../search/types.js';
import { makeOutput, runInContext, warnProblems, type GlobalOptions, type Output } from '../run.js';

/** CLI glue for search, reindex and doctor. */

interface SearchOptions {
  type?: MemoryType;
  tag?: string[];
  includeArchived?: boolean;
  since?: string;
  until?: string;
  limit?: number;
  titlesOnly?: boolean;
  contexts?: string;
  allContexts?: boolean;
}

export async function search(words: string[], opts: SearchOptions, globals: GlobalOptions): Promise<void> {
  // Single-dash words reach us as exclusions; a double-dash one is a mistyped option.
  const stray = words.find((w) => /^--[^-\s]/.test(w));
  if (stray) throw new UsageError(`unknown option '${printable(stray)}'`, "see 'whitemagic search --help'");
  checkFederatedOptions(opts.contexts, opts.allContexts);
  const input: SearchInput = {
    query: words.join(' '),
    ...readFilters({ ...opts, tags: opts.tag }),
    titlesOnly: opts.titlesOnly,
    limit: opts.limit,
  };
  if (opts.contexts !== undefined || opts.allContexts) {
    const output = makeOutput(globals);
    const result = await searchFederated(
      whitemagicHome(),
      { ...input, contexts: opts.allContexts ? 'all' : opts.contexts!.split(',') },
      { lockTimeoutMs: globals.lockTimeout !== undefined ? globals.lockTimeout * 1000 : undefined },
    );
    warnIgnored(output, result.ignored);
    for (const p of result.problems) output.warn(`${p.context}: ${p.path}: ${p.message}`);
    if (output.json) {
      output.printJson({ contexts: result.contexts, hits: result.hits.map(searchHitJson), total: result.total, problems: result.problems });
    } else await printHits(output, result.hits, result.total);
    return;
  }
  await runInContext(globals, async (ctx, output) => {
    const result = await searchMemories(ctx, input);
    warnIgnored(output, result.ignored);
    warnProblems(output, result.problems);
    if (output.json) output.printJson({ hits: result.hits.map(searchHitJson), total: result.total, problems: result.problems });
    else await printHits(output, result.hits, result.total);
  });
}

function warnIgnored(output: Output, ignored: string[]): void {
  for (const part of ignored) output.warn(`ignored '${printable(part)}' in the query: it has no letters or digits`);
}

async function printHits(output: Output, hits: Array<SearchHit | FederatedHit>, total: number): Promise<void> {
  if (output.tty) {
    const style = await makeStyle(output.color);
    const highlight = output.color ? (w: string) => style.bold(style.green(w)) : bracketMark;
    output.out(renderSearchTerminal(hits, style, total, highlight));
  } else if (hits.length) output.out(renderSearchPlain(hits));
}

export async function reindex(globals: GlobalOptions): Promise<void> {
  await runInContext(globals, async (ctx, output) => {
    const result = await contextReindex(ctx);
    if (output.json) output.printJson(result);
    else if (!output.quiet) output.out(`reindexed ${result.indexed} memories in ${result.context}`);
  });
}

export async function doctor(globals: GlobalOptions): Promise<void> {
  await runInContext(globals, async (ctx, output) => {
    const result = await contextDoctor(ctx);
    if (output.json) output.printJson(result);
    else if (!output.quiet || !result.ok) output.out(renderDoctor(result, await makeStyle(output.color)));
    if (!result.ok) {
      const found = [
        result.problems.length ? `${result.problems.length} unreadable` : '',
        result.index.corrupt ? 'a damaged search index' : '',
        result.index.drift.length ? `${result.index.drift.length} out of step with the search index` : '',
      ].filter(Boolean);
      throw new WhitemagicError('corrupt', `doctor found problems: ${found.join(', ')}`, {
        hint: result.problems.length ? 'fix or remove the files named above; run whitemagic reindex for the index' : 'run whitemagic reindex',
      });
    }
  });
}
