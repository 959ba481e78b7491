import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult, ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import { WhitemagicError } from '../errors.js';
import type { MemoryType } from '../memory/types.js';
import { memoryJson, renderMemory } from '../output/memory.js';
import { plainStyle } from '../output/style.js';
import { McpSession, type McpOptions } from './session.js';
import { TOOLS, type ToolDefinition } from './tools.js';

declare const __VERSION__: string;
const VERSION = typeof __VERSION__ === 'string' ? __VERSION__ : '0.0.0-dev';

/** A failure as the one-line message of the CLI, with its hint, for a tool result or a resource error. */
export function errorText(err: unknown): string {
  if (err instanceof WhitemagicError) return `error: ${err.message}${err.hint ? ` (hint: ${err.hint})` : ''}`;
  const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return `error: ${message}`;
}

async function callTool(tool: ToolDefinition, session: McpSession, args: unknown): Promise<CallToolResult> {
  try {
    const result = await tool.run(session, args ?? {});
    const text = typeof result === 'string' ? result : JSON.stringify(result, null, 2);
    return { content: [{ type: 'text', text }] };
  } catch (err) {
    // A failed call is a tool error the assistant can read and act on; the server keeps serving.
    return { isError: true, content: [{ type: 'text', text: errorText(err) }] };
  }
}

function json(uri: URL, value: unknown): ReadResourceResult {
  return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(value, null, 2) }] };
}

/** The whitemagic MCP server for one session: tools and resources over the session's context. */
export function createMcpServer(session: McpSession): McpServer {
  const server = new McpServer(
    { name: 'whitemagic', version: VERSION },
    { instructions: 'Local memory for this project: read get_context at the start of work, create_memory for what is worth keeping.' },
  );
  for (const tool of TOOLS) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.input,
        annotations: { title: tool.title, readOnlyHint: Boolean(tool.readOnly), destructiveHint: Boolean(tool.destructive), openWorldHint: false },
      },
      ((args: unknown) => callTool(tool, session, args)) as never,
    );
  }

  const memoriesOf = (type: MemoryType) => async (uri: URL) => {
    const list = await session.manager.listMemories({ type });
    const memories = [];
    for (const h of list.memories) memories.push(memoryJson(await session.manager.readMemory(h.id)));
    return json(uri, { context: session.manager.location.name, type, memories });
  };
  server.registerResource(
    'short-term-memories',
    'whitemagic://memories/short_term',
    { title: 'Short-term memories', description: 'Every short-term memory of the active context, newest first, with bodies', mimeType: 'application/json' },
    memoriesOf('short_term'),
  );
  server.registerResource(
    'long-term-memories',
    'whitemagic://memories/long_term',
    { title: 'Long-term memories', description: 'Every long-term memory of the active context, newest first, with bodies', mimeType: 'application/json' },
    memoriesOf('long_term'),
  );
  server.registerResource(
    'tags',
    'whitemagic://tags',
    { title: 'Tags', description: 'Tags of the active context with their counts', mimeType: 'application/json' },
    async (uri) => json(uri, { tags: await session.manager.listTags() }),
  );
  server.registerResource(
    'stats',
    'whitemagic://stats',
    { title: 'Statistics', description: 'Counts by type, tags and size of the active context', mimeType: 'application/json' },
    async (uri) => json(uri, await session.manager.stats()),
  );
  server.registerResource(
    'memory',
    new ResourceTemplate('whitemagic://memory/{ref}', { list: undefined }),
    { title: 'A memory', description: 'One memory as markdown with front matter', mimeType: 'text/markdown' },
    async (uri, { ref }) => {
      const memory = await session.manager.readMemory(String(ref));
      return { contents: [{ uri: uri.href, mimeType: 'text/markdown', text: renderMemory(memory, plainStyle) }] };
    },
  );
  return server;
}

/** Serves MCP over stdio until the client closes the connection. */
export async function serveMcp(options: McpOptions = {}): Promise<void> {
  const session = new McpSession(options);
  const server = createMcpServer(session);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close();
  session.close();
}
