import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { join } from 'node:path';
import { ROOT } from './cli.js';

export const MCP_BIN = join(ROOT, 'bin', 'whitemagic-mcp.js');

/** A real MCP client connected over stdio to a spawned server (the bin `whitemagic-mcp` by default). */
export async function connectMcp(env: NodeJS.ProcessEnv, args: string[] = [MCP_BIN]): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args,
    env: Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<string, string>,
    stderr: 'pipe',
  });
  const client = new Client({ name: 'whitemagic-test', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

/** The text of a tool result, parsed as JSON when `asJson`. */
export function resultText(result: unknown): string {
  const r = result as { content: { type: string; text: string }[] };
  return r.content.map((c) => c.text).join('');
}
