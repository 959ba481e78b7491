/**
 * The `whitemagic-mcp` bin: the MCP server alone, for an assistant's configuration
 * (`{"command": "npx", "args": ["whitemagic-mcp"], "env": {"WM_BASE_PATH": "/path/to/context"}}`).
 * Only startup errors reach here; a failing tool call is a tool result and the server keeps serving.
 */
import { parseArgs } from 'node:util';

async function main(): Promise<number> {
  const { reportError } = await import('../cli/run.js');
  try {
    const { values } = parseArgs({
      options: { 'base-dir': { type: 'string' }, context: { type: 'string' }, backend: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    });
    if (values.help) {
      process.stdout.write('usage: whitemagic-mcp [--base-dir PATH | --context NAME] [--backend NAME]\n\nServes a whitemagic context over MCP (stdio). WM_BASE_PATH, if set, chooses the context first.\n');
      return 0;
    }
    const { serveMcp } = await import('./server.js');
    await serveMcp({ baseDir: values['base-dir'], context: values.context, backend: values.backend });
    return 0;
  } catch (err) {
    const { UsageError } = await import('../errors.js');
    const e = err as NodeJS.ErrnoException;
    if (typeof e?.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS')) return reportError(new UsageError(e.message, 'whitemagic-mcp --help'), false);
    return reportError(err, false);
  }
}

void main().then((code) => {
  process.exitCode = code;
});
