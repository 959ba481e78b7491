import type { Context } from '../context/context.js';
import type { StorageProblem, StorageSummary } from '../storage/types.js';

export interface TagCount {
  tag: string;
  count: number;
}

export interface StatsResult extends StorageSummary {
  context: string;
  path: string;
  backend: string;
  total: number;
  problems: StorageProblem[];
}

/** Tags of every memory (archived included), most used first, then A to Z. */
export async function listTags(ctx: Context): Promise<TagCount[]> {
  const storage = await ctx.open();
  return sortTags(storage.summary().tags);
}

export function sortTags(tags: Record<string, number>): TagCount[] {
  return Object.entries(tags)
    .map(([tag, count]) => ({ tag, count }))
    .sort((a, b) => b.count - a.count || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
}

/** Counts by type, tag counts and bytes of the context. */
export async function stats(ctx: Context): Promise<StatsResult> {
  const storage = await ctx.open();
  const summary = storage.summary();
  const total = Object.values(summary.counts).reduce((a, b) => a + b, 0);
  return {
    context: ctx.name,
    path: ctx.path,
    backend: storage.name,
    total,
    ...summary,
    problems: storage.problems(),
  };
}
