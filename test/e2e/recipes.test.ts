import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ROOT, makeHome, type Home } from '../helpers/cli.js';
import { MCP_BIN, connectMcp, resultText } from '../helpers/mcp.js';
import { installBin, missingOutsideCi, requireShell, runShell } from '../helpers/shells.js';

/** Each recipe of docs/recipes.md is a script in test/recipes/, run in bash with `whitemagic` on PATH. */
let h: Home;
let env: NodeJS.ProcessEnv;
beforeEach(() => {
  h = makeHome('wm-recipe-');
  env = { ...h.env, PATH: installBin(h.home) };
});
afterEach(() => h.cleanup());

function recipe(name: string) {
  const r = runShell('bash', [join(ROOT, 'test', 'recipes', name)], env, h.home);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toBe('ok\n');
}

// The cron recipe needs `backup`; it runs as soon as the command exists.
const hasBackup = /^\s+backup\b/m.test(spawnSync(process.execPath, [join(ROOT, 'bin', 'whitemagic.js'), '--help'], { encoding: 'utf8' }).stdout);

describe('docs/recipes.md', () => {
  it('shell aliases per project', () => recipe('aliases.sh'));
  // Skipped only on a machine without direnv, outside CI (see missingOutsideCi).
  it.skipIf(missingOutsideCi('direnv'))('direnv: a context per project directory', () => {
    requireShell('direnv');
    recipe('direnv.sh');
  });
  it('testing against a throw-away context', () => recipe('throwaway.sh'));
  it('copying and moving memories between contexts as files', () => recipe('move-files.sh'));
  it.skipIf(!hasBackup)('a cron backup loop with retention', () => recipe('cron-backup.sh'));

  it("an assistant's MCP configuration per context", async () => {
    // The configuration block of the recipe, as written in the docs.
    const doc = readFileSync(join(ROOT, 'docs', 'recipes.md'), 'utf8');
    const block = /```json\n(\{\n\s+"mcpServers"[\s\S]*?)\n```/.exec(doc);
    expect(block, 'the MCP configuration block in docs/recipes.md').not.toBeNull();
    const servers = JSON.parse(block![1]).mcpServers as Record<string, { command: string; args: string[]; env: Record<string, string> }>;
    expect(Object.keys(servers).length).toBeGreaterThanOrEqual(2);
    const seen: string[] = [];
    for (const [name, server] of Object.entries(servers)) {
      expect([server.command, server.args]).toEqual(['npx', ['whitemagic-mcp']]);
      // npx would start this package's whitemagic-mcp bin: start it directly, with the entry's env.
      const path = server.env.WM_BASE_PATH.replace(/^\/home\/me\/\.whitemagic/, h.wmHome);
      let client: Client | undefined;
      try {
        client = await connectMcp({ ...h.env, ...server.env, WM_BASE_PATH: path }, [MCP_BIN]);
        const created = await client.callTool({ name: 'create_memory', arguments: { title: `note of ${name}` } });
        expect(created.isError).toBeFalsy();
        const active = JSON.parse(resultText(await client.callTool({ name: 'get_active_context', arguments: {} })));
        expect(active).toMatchObject({ path, source: 'WM_BASE_PATH', total: 1 });
        seen.push(active.name);
      } finally {
        await client?.close();
      }
    }
    expect(new Set(seen).size).toBe(seen.length);
  });
});
