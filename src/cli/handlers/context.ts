import { initContext } from '../../commands/init.js';
import { status as contextStatus } from '../../commands/status.js';
import { renderStatus } from '../../output/context.js';
import { makeStyle } from '../../output/style.js';
import { runInContext, type GlobalOptions } from '../run.js';

export async function status(globals: GlobalOptions): Promise<void> {
  await runInContext(globals, async (ctx, output) => {
    const result = await contextStatus(ctx);
    if (output.json) output.printJson(result);
    else output.out(renderStatus(result, await makeStyle(output.color)));
  });
}

export async function init(opts: { description?: string }, globals: GlobalOptions): Promise<void> {
  await runInContext(
    globals,
    async (ctx, output) => {
      const result = await initContext(ctx, { backend: ctx.options.backend });
      if (output.json) output.printJson(result);
      else if (!output.quiet) {
        output.out(
          result.created ? `initialised a ${result.backend} context in ${result.path}` : `${result.path} is already a ${result.backend} context`,
        );
      }
    },
    { description: opts.description },
  );
}
