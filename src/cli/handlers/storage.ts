import { migrateContext } from '../../commands/migrate.js';
import { UsageError } from '../../errors.js';
import { renderMigrate } from '../../output/migrate.js';
import { BACKEND_NAMES, checkBackendName } from '../../storage/registry.js';
import { runInContext, type GlobalOptions } from '../run.js';

/** CLI glue for migrate. */
export async function migrate(globals: GlobalOptions): Promise<void> {
  if (!globals.backend) {
    throw new UsageError('migrate needs --backend', `use one of: ${BACKEND_NAMES.join(', ')}`);
  }
  const backend = checkBackendName(globals.backend);
  await runInContext(globals, async (ctx, output) => {
    const result = await migrateContext(ctx, { backend });
    if (output.json) output.printJson(result);
    else if (!output.quiet) output.out(renderMigrate(result));
  });
}
