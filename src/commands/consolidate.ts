import type { Context } from '../context/context.js';
import { UsageError } from '../errors.js';
import { newId } from '../memory/ids.js';
import type { Memory, MemoryHeader, MemoryType } from '../memory/types.js';
import type { StorageBackend } from '../storage/types.js';
import { listPages } from '../storage/list-pages.js';
import { detach, detached, once } from '../storage/bulk.js';
import { appendLog, pendingPlans, readLog, summariseLog, type PlanRecord, type RunSummary } from './consolidation-log.js';
import { applyUpdate } from './update.js';
import { counted } from './progress.js';
import { expectBulkWork, itemDone } from '../util/heap.js';

/** Tags that promote a short-term memory to long-term instead of archiving it (SPEC section 6). */
export const PROMOTION_TAGS = ['heuristic', 'pattern', 'proven', 'decision', 'insight'];
/** Days a short-term memory stays when neither --older-than nor the manifest says otherwise. */
export const DEFAULT_RETENTION_DAYS = 7;
const DAY_MS = 86_400_000;

export interface ConsolidateInput {
  /** Default true: report what would happen and change nothing. */
  dryRun?: boolean;
  /** Consolidate short-term memories created before this time; default now minus the retention. */
  olderThan?: Date;
  /** The time of the run (tests and the library may fix it). */
  now?: Date;
}

/** A memory a run promoted or archived. */
export interface ConsolidatedMemory {
  id: string;
  title: string;
  created: string;
  tags: string[];
}

export interface ConsolidationRun {
  /** The run's id; also the id of its "Consolidated Insights" memory. */
  run: string | null;
  /** A run an earlier, interrupted process planned and this one finished. */
  resumed: boolean;
  cutoff: string;
  promoted: ConsolidatedMemory[];
  archived: ConsolidatedMemory[];
  /** The long-term memory listing what was archived; none when nothing was. */
  insights: { id: string | null; title: string } | null;
}

export interface ConsolidateResult {
  dryRun: boolean;
  /** Short-term memories created before this were consolidated. */
  cutoff: string;
  /** Where the cutoff came from: --older-than, the manifest's retention_days, or the default. */
  retention: string;
  runs: ConsolidationRun[];
  /** Ids promoted (or that would be), over all runs. */
  promoted: string[];
  /** Ids archived (or that would be), over all runs. */
  archived: string[];
}

/**
 * Consolidates the context (SPEC section 6): old short-term memories are promoted by tag or
 * archived, and one "Consolidated Insights" memory lists the archived ones. A dry run (the default)
 * returns exactly what a real run would do. A real run holds the context's lock, first finishes any
 * run a kill interrupted, and journals its plan before moving anything, so a rerun converges.
 */
export async function consolidate(ctx: Context, input: ConsolidateInput = {}): Promise<ConsolidateResult> {
  expectBulkWork();
  const now = input.now ?? new Date();
  const dryRun = input.dryRun ?? true;
  if (!dryRun) return ctx.withLock(async () => run(ctx, await ctx.openForWrite(), now, input.olderThan, false), { create: false });
  const storage = await ctx.open();
  return run(ctx, storage, now, input.olderThan, true);
}

async function run(ctx: Context, storage: StorageBackend, now: Date, olderThan: Date | undefined, dryRun: boolean): Promise<ConsolidateResult> {
  const { cutoff, retention } = cutoffFor(ctx, now, olderThan);
  const runs: ConsolidationRun[] = [];
  const records = ctx.state() === 'missing' ? [] : readLog(ctx.path);
  const planned = new Set<string>();
  for (const plan of pendingPlans(records)) {
    runs.push(dryRun ? previewPlan(storage, plan) : applyPlan(ctx, storage, plan, true, now));
    for (const id of [...plan.promote, ...plan.archive]) planned.add(id);
  }
  // A dry run shows the new plan from the headers it was made from: nothing moved since (no lock is
  // held, but a real run reads each memory again before moving it). Reading every planned file to
  // say what it would do took a dry run at 100,000 3.7 s and 214 MiB.
  const seen = dryRun ? new Map<string, ConsolidatedMemory>() : undefined;
  const plan = makePlan(storage, cutoff, now, planned, seen);
  if (dryRun) runs.push(previewPlan(storage, plan, false, seen));
  else {
    appendLog(ctx.path, plan);
    runs.push(applyPlan(ctx, storage, plan, false, now));
  }
  if (dryRun) for (const r of runs) if (!r.resumed) r.run = null;
  return {
    dryRun,
    cutoff,
    retention,
    runs,
    promoted: runs.flatMap((r) => r.promoted.map((m) => m.id)),
    archived: runs.flatMap((r) => r.archived.map((m) => m.id)),
  };
}

/** The past runs of the context's consolidation log, newest first. */
export async function consolidationLog(ctx: Context): Promise<RunSummary[]> {
  return ctx.state() === 'missing' ? [] : summariseLog(readLog(ctx.path));
}

/** The cutoff time: --older-than, else now minus the manifest's retention_days, else 7 days. */
function cutoffFor(ctx: Context, now: Date, olderThan: Date | undefined): { cutoff: string; retention: string } {
  if (olderThan) return { cutoff: olderThan.toISOString(), retention: '--older-than' };
  const days = ctx.state() === 'context' ? ctx.manifest()?.retention_days : undefined;
  if (days !== undefined) {
    if (typeof days !== 'number' || !Number.isFinite(days) || days < 0) {
      throw new UsageError(`retention_days in ${ctx.path}/whitemagic.json must be a number of days, not ${JSON.stringify(days)}`);
    }
    return { cutoff: new Date(now.getTime() - days * DAY_MS).toISOString(), retention: `retention_days ${days}` };
  }
  return { cutoff: new Date(now.getTime() - DEFAULT_RETENTION_DAYS * DAY_MS).toISOString(), retention: `default ${DEFAULT_RETENTION_DAYS} days` };
}

/**
 * Short-term memories created strictly before the cutoff, oldest first, split by tag; what the
 * result would say of each goes into `seen` when given (a dry run).
 */
function makePlan(storage: StorageBackend, cutoff: string, now: Date, exclude: Set<string>, seen?: Map<string, ConsolidatedMemory>): PlanRecord {
  const promote: string[] = [];
  const archive: string[] = [];
  for (const h of oldestFirst(storage, cutoff)) {
    if (h.created >= cutoff || exclude.has(h.id)) continue;
    // Copied (a page's header may hold a slice of the text it was read from), once.
    const said = seen ? item(h) : undefined;
    const id = said ? said.id : detach(h.id);
    (isPromoted(h) ? promote : archive).push(id);
    if (said) seen?.set(id, said);
  }
  return { event: 'plan', run: newId(now.getTime()), at: now.toISOString(), cutoff, promote, archive };
}

/** Headers a page of the plan's listing holds at most. Changed by tests only. */
export const planLimits = { page: 2000 };

/**
 * The headers of short-term memories created up to `until` (inclusive), oldest first, read a page
 * at a time (listPages): at 100,000 memories the whole listing at once (some 50,000 headers) was
 * 41 MiB of a consolidation's peak.
 */
function* oldestFirst(storage: StorageBackend, until: string): Generator<MemoryHeader> {
  for (const { memories } of listPages(storage, { types: ['short_term'], until, sort: 'created', reverse: true }, planLimits.page)) {
    yield* memories;
  }
}

function isPromoted(memory: Pick<MemoryHeader, 'tags'>): boolean {
  return memory.tags.some((t) => PROMOTION_TAGS.includes(t.toLowerCase()));
}

/**
 * What applying `plan` would do now: the planned memories still in short_term. `seen`: what the
 * plan was just made from (every one short-term), so nothing is read again.
 */
function previewPlan(storage: StorageBackend, plan: PlanRecord, resumed = true, seen?: Map<string, ConsolidatedMemory>): ConsolidationRun {
  const waiting = (ids: string[]) => {
    const items: ConsolidatedMemory[] = [];
    for (const id of ids) {
      const known = seen?.get(id);
      if (known) {
        items.push(known);
        continue;
      }
      const memory = storage.read(id);
      itemDone();
      if (memory?.type === 'short_term') items.push(item(memory));
    }
    return items;
  };
  const archived = waiting(plan.archive);
  const insightsExists = resumed && storage.read(plan.run) !== undefined;
  return {
    run: plan.run,
    resumed,
    cutoff: plan.cutoff,
    promoted: waiting(plan.promote),
    archived,
    insights: archived.length && !insightsExists ? { id: resumed ? plan.run : null, title: insightsTitle(plan) } : null,
  };
}

/**
 * Applies a plan with steps that are each atomic and idempotent: the Insights memory first (its id
 * is the run's, so it is made once), then each memory moved only if it is still short-term. Memories
 * are read one at a time, as they are summarised or moved: a run over 100,000 holds none of them.
 */
function applyPlan(ctx: Context, storage: StorageBackend, plan: PlanRecord, resumed: boolean, now: Date): ConsolidationRun {
  const insights = plan.archive.length ? writeInsights(plan, storage) : null;
  // The moves go to the backend as one batch: one transaction in SQLite, one sync pass in markdown.
  // The batch is a generator: each memory is read, changed and written before the next is read.
  const promoted: ConsolidatedMemory[] = [];
  const archived: ConsolidatedMemory[] = [];
  function* moves(): Generator<Memory> {
    for (const [ids, to, done] of [
      [plan.promote, 'long_term', promoted],
      [plan.archive, 'archive', archived],
    ] as const) {
      for (const id of ids) {
        const moved = move(storage, id, plan, to, now, resumed);
        if (!moved) continue;
        done.push(item(moved.memory));
        // Detached: the backend keeps each written memory's header for the rest of the command.
        if (moved.write) yield detached(moved.memory);
      }
    }
  }
  const planned = plan.promote.length + plan.archive.length;
  if (planned) storage.insertMany(once(counted(ctx, 'consolidate', moves(), planned)), 'replace');
  appendLog(ctx.path, {
    event: 'done',
    run: plan.run,
    at: new Date().toISOString(),
    promoted: promoted.length,
    archived: archived.length,
    ...(insights?.id ? { insights: insights.id } : {}),
  });
  return { run: plan.run, resumed, cutoff: plan.cutoff, promoted, archived, insights };
}

/**
 * The Insights memory of a plan, written unless an earlier run of the plan wrote it: what the run
 * reports of it, or null when none of the archived memories is still short-term. Nothing of the
 * plan has moved yet (the Insights memory is written first), so the archived memories are read as
 * they are now; any deleted meanwhile are simply not listed. A function of its own: the memory (tens
 * of megabytes when tens of thousands are archived at once) must not stay in a variable of the
 * frame that goes on to move every memory, where the collector still sees it.
 */
function writeInsights(plan: PlanRecord, storage: StorageBackend): ConsolidationRun['insights'] {
  const existing = storage.read(plan.run);
  if (existing) return { id: existing.id, title: existing.title };
  const memory = insightsMemory(plan, storage);
  if (!memory) return null;
  storage.insert(memory);
  return { id: memory.id, title: memory.title };
}

/**
 * The move of one memory of a plan: the memory as it is to be written (`write`), if it is still
 * short-term. One moved by the interrupted run itself is written again as it is (when resuming): on
 * the markdown backend that removes a stale copy a kill left behind.
 */
function move(
  storage: StorageBackend,
  id: string,
  plan: PlanRecord,
  to: MemoryType,
  now: Date,
  resumed: boolean,
): { memory: Memory; write: boolean } | undefined {
  const current = storage.read(id);
  if (!current) return undefined;
  if (current.type === to && current.meta.consolidation === plan.run) return { memory: current, write: resumed };
  if (current.type !== 'short_term') return undefined;
  const meta: Record<string, unknown> =
    to === 'long_term'
      ? { promoted_from: 'short_term', promoted_at: plan.at, consolidation: plan.run }
      : { archived_from: 'short_term', consolidation: plan.run };
  const next = applyUpdate(current, { type: to, meta }, now);
  // A newer `updated` than the old file's is what lets the markdown backend tell, after a kill
  // between writing the moved file and unlinking the old one, which copy is current.
  if (next.updated <= current.updated) next.updated = new Date(Date.parse(current.updated) + 1).toISOString();
  return { memory: next, write: true };
}

/** What the result says of a moved memory; its strings copied, so it keeps no file's text alive. */
function item(m: Pick<MemoryHeader, 'id' | 'title' | 'created' | 'tags'>): ConsolidatedMemory {
  return { id: detach(m.id), title: detach(m.title), created: detach(m.created), tags: m.tags.map(detach) };
}

function insightsTitle(plan: PlanRecord): string {
  return `Consolidated Insights - ${plan.at.slice(0, 10)}`;
}

/**
 * The long-term memory that lists what a run archived: title, id, created, tags, first lines; or
 * undefined when none of the planned memories is still short-term. Each memory is read and
 * summarised in turn; only the summaries are kept.
 */
function insightsMemory(plan: PlanRecord, storage: StorageBackend): Memory | undefined {
  const parts: string[] = [];
  for (const id of plan.archive) {
    const m = storage.read(id);
    itemDone();
    if (m?.type !== 'short_term') continue;
    const lines = ['', `### ${m.title}`, '', `- id: ${m.id}`, `- created: ${m.created}`, `- tags: ${m.tags.join(', ') || '(none)'}`];
    const first = firstLines(m.content);
    if (first) lines.push('', ...first.split('\n').map((l) => `> ${l}`));
    parts.push(lines.join('\n'));
  }
  if (!parts.length) return undefined;
  const count = parts.length;
  const head = [
    `Consolidation of ${plan.at.slice(0, 10)}: ${count} short-term ${count === 1 ? 'memory' : 'memories'} created before ${plan.cutoff} archived, ${plan.promote.length} promoted to long-term.`,
    '',
    '## Archived',
  ];
  return {
    id: plan.run,
    title: insightsTitle(plan),
    content: [...head, ...parts].join('\n'),
    type: 'long_term',
    tags: ['consolidated'],
    created: plan.at,
    updated: plan.at,
    meta: { consolidation: plan.run, archived_count: count },
  };
}

/**
 * The first three non-empty lines of a body, each cut at 200 characters with three dots. Not an
 * ellipsis character: one would make the whole Insights memory (tens of MB when tens of thousands
 * are archived) a two-byte string in V8, twice the memory as it is built and stored: SQLite
 * consolidate at 100,000, 324 to 267 MiB.
 */
function firstLines(content: string): string {
  return content
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, 3)
    .map((l) => (l.length > 200 ? l.slice(0, 197) + '...' : l))
    .join('\n');
}
