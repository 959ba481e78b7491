import { contextsScope, listContexts, overview as contextsOverview, showContext, type ContextsScope } from '../../commands/contexts.js';
import { createContext, deleteContext, describeContext, renameContext, switchContext } from '../../commands/contexts-change.js';
import { describeSource } from '../../context/resolve.js';
import { humanBytes } from '../../output/context.js';
import { renderContextDetails, renderContexts, renderContextsPlain, renderOverview } from '../../output/contexts.js';
import { makeStyle } from '../../output/style.js';
import { checkBackendName } from '../../storage/registry.js';
import { makeOutput, type GlobalOptions } from '../run.js';

/** The home and active-context choice these options give. */
function scopeFor(globals: GlobalOptions): ContextsScope {
  return contextsScope(
    { baseDir: globals.baseDir, context: globals.context },
    {
      backend: globals.backend ? checkBackendName(globals.backend) : undefined,
      lockTimeoutMs: globals.lockTimeout !== undefined ? globals.lockTimeout * 1000 : undefined,
    },
  );
}

export async function list(globals: GlobalOptions): Promise<void> {
  const output = makeOutput(globals);
  const result = await listContexts(scopeFor(globals));
  if (output.json) output.printJson(result);
  else if (output.tty) output.out(renderContexts(result.contexts, result.home, await makeStyle(output.color)));
  else if (result.contexts.length) output.out(renderContextsPlain(result.contexts));
}

export async function show(name: string, globals: GlobalOptions): Promise<void> {
  const output = makeOutput(globals);
  const result = await showContext(scopeFor(globals), name);
  if (output.json) output.printJson(result);
  else output.out(renderContextDetails(result, await makeStyle(output.color)));
}

export async function create(name: string, opts: { description?: string }, globals: GlobalOptions): Promise<void> {
  const output = makeOutput(globals);
  const result = await createContext(scopeFor(globals), name, { description: opts.description });
  if (output.json) output.printJson(result);
  else if (!output.quiet) output.out(`created context ${result.name} (${result.backend}) in ${result.path}`);
}

export async function remove(name: string, opts: { yes?: boolean; force?: boolean }, globals: GlobalOptions): Promise<void> {
  const output = makeOutput(globals);
  const result = await deleteContext(scopeFor(globals), name, { yes: opts.yes, force: opts.force });
  if (output.json) output.printJson(result);
  else if (!output.quiet) {
    const memories = result.total === null ? '' : `${result.total} ${result.total === 1 ? 'memory' : 'memories'}, `;
    output.out(`deleted context ${result.name} (${memories}${humanBytes(result.size)})`);
    if (result.switchCleared) output.out(`'whitemagic switch' pointed at it and was reset: the default context applies again`);
  }
}

export async function rename(from: string, to: string, globals: GlobalOptions): Promise<void> {
  const output = makeOutput(globals);
  const result = await renameContext(scopeFor(globals), from, to);
  if (output.json) output.printJson(result);
  else if (!output.quiet) {
    output.out(`renamed context ${result.from} to ${result.to}`);
    if (result.switchUpdated) output.out(`the switch now names ${result.to}`);
  }
}

export async function describe(name: string, text: string, globals: GlobalOptions): Promise<void> {
  const output = makeOutput(globals);
  const result = await describeContext(scopeFor(globals), name, text);
  if (output.json) output.printJson(result);
  else if (!output.quiet) {
    output.out(result.description ? `${result.name}: ${result.description}` : `cleared the description of ${result.name}`);
  }
}

export async function switchTo(name: string, opts: { create?: boolean }, globals: GlobalOptions): Promise<void> {
  const output = makeOutput(globals);
  const result = await switchContext(scopeFor(globals), name, { create: opts.create });
  if (result.overriddenBy) {
    output.warn(`${describeSource(result.overriddenBy)} still wins over the switch; unset it to use '${result.name}'`);
  }
  if (output.json) output.printJson(result);
  else if (!output.quiet) output.out(`${result.created ? 'created and switched' : 'switched'} to ${result.name}`);
}

export async function overview(globals: GlobalOptions): Promise<void> {
  const output = makeOutput(globals);
  const result = await contextsOverview(scopeFor(globals));
  if (output.json) output.printJson(result);
  else output.out(renderOverview(result, await makeStyle(output.color)));
}
