import { join } from 'node:path';
import { Context, type ContextOptions } from '../context/context.js';
import { listContextDirs } from '../context/discovery.js';
import { checkContextName } from '../context/names.js';
import { NotFoundError, UsageError } from '../errors.js';
import { fetchMarks } from '../search/fts.js';
import { parseQuery } from '../search/query.js';
import type { SearchHit, SearchQuery } from '../search/types.js';
import type { StorageProblem } from '../storage/types.js';
import { toSearchQuery, type SearchInput } from './search.js';

export interface FederatedInput extends SearchInput {
  /** Context names under $WHITEMAGIC_HOME; or `all` for every context there. */
  contexts: string[] | 'all';
}

/** A hit of a federated search: its score normalised within its context, and which context. */
export interface FederatedHit extends SearchHit {
  context: string;
  /** The score within its own context, before normalisation. */
  rawScore: number;
}

export interface FederatedResult {
  /** Best first: normalised score, then context name, then newest id. */
  hits: FederatedHit[];
  /** Matches over all contexts before `limit`. */
  total: number;
  /** The contexts searched, by name. */
  contexts: string[];
  problems: Array<StorageProblem & { context: string }>;
  ignored: string[];
}

/** The contexts a federated search names, checked before any search: one unknown name fails the call. */
export function federatedContexts(home: string, wanted: string[] | 'all'): string[] {
  const known = listContextDirs(home).map((c) => c.name);
  if (wanted === 'all') return known;
  const names = [...new Set(wanted.map((n) => n.trim()).filter(Boolean))];
  if (!names.length) throw new UsageError('--contexts needs at least one context name', 'such as --contexts work,home');
  for (const name of names) {
    checkContextName(name);
    if (!known.includes(name)) {
      throw new NotFoundError(
        `unknown context '${name}'`,
        known.length ? `known contexts: ${known.join(', ')}` : `there are no contexts in ${home} yet`,
        'context_not_found',
      );
    }
  }
  return names.sort();
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Searches several contexts and merges their hits into one ranking (SPEC section 5). Each
 * context's scores are divided by its best score, so every context's best hit is 1.0 however
 * its raw BM25 scores run (they depend on the size and words of each context).
 * The contexts are opened concurrently; each search itself is a short synchronous index query,
 * and only the hits kept have their matched words marked.
 */
export async function searchFederated(home: string, input: FederatedInput, options: ContextOptions = {}): Promise<FederatedResult> {
  const parsed = parseQuery(input.query);
  const names = federatedContexts(home, input.contexts);
  const query: SearchQuery = { ...toSearchQuery(parsed, input), deferMarks: true };
  // Every context stays open until the hits kept have their snippets: marking the words of each
  // context's hits is most of a search's own work, and all but `limit` of them are dropped.
  const opened: Context[] = [];
  const searched = await Promise.allSettled(
    names.map(async (name) => {
      const ctx = new Context({ path: join(home, name), name, source: '--context', explicit: true, home }, options);
      opened.push(ctx);
      const storage = await ctx.open();
      return { name, ...storage.search(query) };
    }),
  );
  try {
    const perContext = searched.map((r) => {
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    });
    const ranked: Array<{ hit: SearchHit; context: string; score: number }> = [];
    const problems: FederatedResult['problems'] = [];
    let total = 0;
    for (const r of perContext) {
      total += r.total;
      problems.push(...r.problems.map((p) => ({ ...p, context: r.name })));
      const best = r.hits.length ? Math.max(...r.hits.map((h) => h.score)) : 0;
      for (const hit of r.hits) ranked.push({ hit, context: r.name, score: best > 0 ? hit.score / best : 1 });
    }
    ranked.sort((a, b) => b.score - a.score || cmp(a.context, b.context) || -cmp(a.hit.id, b.hit.id));
    const kept = ranked.slice(0, query.limit);
    fetchMarks(kept.map(({ hit }) => hit));
    const hits = kept.map(({ hit, context, score }): FederatedHit => ({ ...hit, context, rawScore: hit.score, score }));
    return { hits, total, contexts: names, problems, ignored: parsed.ignored };
  } finally {
    for (const ctx of opened) ctx.close();
  }
}

/** Refuses a search that names contexts both ways. */
export function checkFederatedOptions(contexts: string | undefined, all: boolean | undefined): void {
  if (contexts !== undefined && all) throw new UsageError('give --contexts or --all-contexts, not both');
}
