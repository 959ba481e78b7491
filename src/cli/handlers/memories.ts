import { createMemory } from '../../commands/create.js';
import { deleteMemory } from '../../commands/delete.js';
import { listMemoryPages, readFilters, type ListInput } from '../../commands/list.js';
import { restoreMemory } from '../../commands/restore.js';
import { showMemory } from '../../commands/show.js';
import { listTags, stats as contextStats } from '../../commands/stats.js';
import { updateMemory } from '../../commands/update.js';
import { UsageError } from '../../errors.js';
import { parseMetaPairs, tagsFromList } from '../../memory/fields.js';
import { RESERVED_KEYS, type MemoryType } from '../../memory/types.js';
import { renderStats, renderTags } from '../../output/context.js';
import { headerJson, listJsonPieces, memoryJson, listTablePieces, renderListPlain, renderMemory } from '../../output/memory.js';
import type { ListResult } from '../../storage/types.js';
import { makeStyle } from '../../output/style.js';
import { readContent, type ContentOptions } from '../input.js';
import { runInContext, warnProblems, type GlobalOptions } from '../run.js';

/** CLI glue for the memory commands: options in, command function, rendered result out. */

export async function create(
  opts: ContentOptions & { title?: string; edit?: boolean; type?: MemoryType; tag?: string[]; meta?: string[] },
  globals: GlobalOptions,
): Promise<void> {
  const meta = parseMetaPairs(opts.meta, RESERVED_KEYS);
  if (opts.edit) {
    const { createWithEditor } = await import('./agents.js');
    return createWithEditor({ ...opts, content: readContent(opts, false), meta }, globals);
  }
  const title = opts.title;
  if (title === undefined) throw new UsageError("required option '--title <title>' not specified", 'or write it in your editor with --edit');
  const content = readContent(opts, true);
  await runInContext(globals, async (ctx, output) => {
    const memory = await createMemory(ctx, { title, content, type: opts.type, tags: opts.tag, meta });
    if (output.json) output.printJson(memoryJson(memory));
    else output.out(memory.id);
  });
}

export async function show(ref: string, globals: GlobalOptions): Promise<void> {
  await runInContext(globals, async (ctx, output) => {
    const memory = await showMemory(ctx, ref);
    if (output.json) output.printJson(memoryJson(memory));
    else output.out(renderMemory(memory, await makeStyle(output.color)));
  });
}

export async function list(
  opts: Omit<ListInput, 'tags'> & { tag?: string[] },
  globals: GlobalOptions,
): Promise<void> {
  const input = {
    ...readFilters({ ...opts, tags: opts.tag }),
    sort: opts.sort,
    reverse: opts.reverse,
    limit: opts.limit,
  };
  await runInContext(globals, async (ctx, output) => {
    // Written a page at a time: a list of 100,000 never holds them all.
    const pages = (await listMemoryPages(ctx, input))[Symbol.iterator]();
    const first = pages.next();
    if (first.done) return;
    const head = first.value;
    warnProblems(output, head.problems);
    function* every(): Generator<ListResult> {
      yield head;
      for (let page = pages.next(); !page.done; page = pages.next()) yield page.value;
    }
    if (output.json) output.printJsonPieces(listJsonPieces(every(), head));
    else if (output.tty) for await (const part of listTablePieces(every(), await makeStyle(output.color), head.total)) output.out(part);
    else for (const page of every()) if (page.memories.length) output.out(renderListPlain(page.memories));
  });
}

export async function update(
  ref: string,
  opts: ContentOptions & {
    title?: string;
    addTag?: string[];
    removeTag?: string[];
    replaceTags?: string;
    type?: MemoryType;
    meta?: string[];
  },
  globals: GlobalOptions,
): Promise<void> {
  const content = readContent(opts, false);
  const meta = parseMetaPairs(opts.meta, RESERVED_KEYS);
  await runInContext(globals, async (ctx, output) => {
    const memory = await updateMemory(ctx, ref, {
      title: opts.title,
      content,
      addTags: opts.addTag,
      removeTags: opts.removeTag,
      replaceTags: opts.replaceTags !== undefined ? tagsFromList(opts.replaceTags) : undefined,
      type: opts.type,
      meta,
    });
    if (output.json) output.printJson(memoryJson(memory));
    else if (!output.quiet) output.out(`updated ${memory.id}`);
  });
}

export async function remove(ref: string, opts: { permanent?: boolean }, globals: GlobalOptions): Promise<void> {
  await runInContext(globals, async (ctx, output) => {
    const result = await deleteMemory(ctx, ref, { permanent: opts.permanent });
    if (output.json) output.printJson(result);
    else if (!output.quiet) {
      output.out(
        result.permanent
          ? `deleted ${result.id} for good`
          : result.alreadyArchived
            ? `${result.id} is archived already (use --permanent to remove it)`
            : `archived ${result.id} (bring it back with 'whitemagic restore ${result.id}')`,
      );
    }
  });
}

export async function restore(ref: string, opts: { type?: MemoryType }, globals: GlobalOptions): Promise<void> {
  await runInContext(globals, async (ctx, output) => {
    const memory = await restoreMemory(ctx, ref, { type: opts.type });
    if (output.json) output.printJson(memoryJson(memory));
    else if (!output.quiet) output.out(`restored ${memory.id} to ${memory.type}`);
  });
}

export async function tags(globals: GlobalOptions): Promise<void> {
  await runInContext(globals, async (ctx, output) => {
    const result = await listTags(ctx);
    if (output.json) output.printJson({ tags: result });
    else if (result.length) output.out(renderTags(result));
  });
}

export async function stats(globals: GlobalOptions): Promise<void> {
  await runInContext(globals, async (ctx, output) => {
    const result = await contextStats(ctx);
    warnProblems(output, result.problems);
    if (output.json) output.printJson(result);
    else output.out(renderStats(result, await makeStyle(output.color)));
  });
}
