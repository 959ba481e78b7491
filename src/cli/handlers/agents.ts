import { checkTier, contextPackage as buildContextPackage } from '../../commands/context-package.js';
import { completionValues } from '../../commands/complete.js';
import { createMemory } from '../../commands/create.js';
import { ConflictError } from '../../errors.js';
import { showMemory } from '../../commands/show.js';
import { updateMemory } from '../../commands/update.js';
import { normaliseContent } from '../../memory/fields.js';
import type { MemoryType } from '../../memory/types.js';
import { renderContextPackage } from '../../output/context-package.js';
import { memoryJson } from '../../output/memory.js';
import { cancelled, editText, parseEdited, renderTemplate } from '../editor.js';
import { runInContext, type GlobalOptions } from '../run.js';
import { writeTo } from '../stdio.js';

/** CLI glue for context, edit, create --edit, completion, mcp and __complete. */

export async function contextPackage(opts: { tier?: string }, globals: GlobalOptions): Promise<void> {
  const tier = checkTier(opts.tier ?? '1');
  await runInContext(globals, async (ctx, output) => {
    const pkg = await buildContextPackage(ctx, tier);
    if (output.json) output.printJson(pkg);
    else output.out(renderContextPackage(pkg));
  });
}

/** `create --edit`: the options given fill the template; the editor has the last word. */
export async function createWithEditor(
  opts: { title?: string; content?: string; type?: MemoryType; tag?: string[]; meta: Record<string, unknown> },
  globals: GlobalOptions,
): Promise<void> {
  const session = editText(renderTemplate({ title: opts.title, content: opts.content, tags: opts.tag, type: opts.type, meta: opts.meta }));
  const edited = parseEdited(session.text, session.path);
  if (!edited) {
    session.done();
    throw cancelled();
  }
  await runInContext(globals, async (ctx, output) => {
    const memory = await createMemory(ctx, {
      title: edited.title,
      content: edited.content,
      type: edited.type,
      tags: edited.tags,
      meta: edited.meta,
    });
    session.done();
    if (output.json) output.printJson(memoryJson(memory));
    else output.out(memory.id);
  });
}

/** `edit REF`: the memory in the editor; saved back only if it changed, and only if nobody else changed it meanwhile. */
export async function edit(ref: string, globals: GlobalOptions): Promise<void> {
  await runInContext(globals, async (ctx, output) => {
    const current = await showMemory(ctx, ref);
    ctx.close();
    const session = editText(
      renderTemplate({ title: current.title, content: current.content, tags: current.tags, type: current.type, meta: current.meta, note: `editing ${current.id}` }),
    );
    const edited = parseEdited(session.text, session.path);
    if (!edited) {
      session.done();
      throw cancelled();
    }
    const content = normaliseContent(edited.content);
    const type = edited.type ?? current.type;
    const unchanged =
      edited.title === current.title &&
      content === current.content &&
      type === current.type &&
      JSON.stringify(edited.tags) === JSON.stringify(current.tags) &&
      JSON.stringify(edited.meta) === JSON.stringify(current.meta);
    if (unchanged) {
      session.done();
      if (output.json) output.printJson(memoryJson(current));
      else if (!output.quiet) output.out(`no changes to ${current.id}`);
      return;
    }
    const now = await showMemory(ctx, current.id);
    ctx.close();
    if (now.updated !== current.updated) {
      throw new ConflictError(`memory ${current.id} changed while it was being edited`, `your text is kept in ${session.path}`);
    }
    const memory = await updateMemory(ctx, current.id, {
      title: edited.title,
      content,
      replaceTags: edited.tags,
      type,
      replaceMeta: edited.meta,
    });
    session.done();
    if (output.json) output.printJson(memoryJson(memory));
    else if (!output.quiet) output.out(`updated ${memory.id}`);
  });
}

export async function completion(shell: string): Promise<void> {
  const { createProgram } = await import('../program.js');
  const { completionScript } = await import('../../completion/index.js');
  writeTo(1, completionScript(createProgram(), shell as 'bash' | 'zsh' | 'fish'));
}

export async function complete(topic: string, globals: GlobalOptions): Promise<void> {
  await runInContext(globals, async (ctx) => {
    const values = await completionValues(ctx, topic as 'contexts' | 'tags' | 'ids');
    if (values.length) {
      writeTo(1, values.map((v) => (v.description ? `${v.value}\t${v.description.replace(/[\t\r\n]+/g, ' ')}` : v.value)).join('\n') + '\n');
    }
  });
}

export async function mcp(globals: GlobalOptions): Promise<void> {
  const { serveMcp } = await import('../../mcp/server.js');
  await serveMcp({ baseDir: globals.baseDir, context: globals.context, backend: globals.backend, lockTimeout: globals.lockTimeout });
}
