import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { BIN, json, makeHome, type Home } from '../helpers/cli.js';
import { connectMcp, resultText } from '../helpers/mcp.js';

let h: Home;
let client: Client | undefined;
beforeEach(() => {
  h = makeHome('wm-mcp-');
});
afterEach(async () => {
  await client?.close();
  client = undefined;
  h.cleanup();
});

async function call(name: string, args: Record<string, unknown> = {}) {
  const r = (await client!.callTool({ name, arguments: args })) as { isError?: boolean; content: { text: string }[] };
  return { isError: Boolean(r.isError), text: resultText(r) };
}
async function callJson(name: string, args: Record<string, unknown> = {}) {
  const r = await call(name, args);
  expect(r.isError, r.text).toBe(false);
  return JSON.parse(r.text);
}

describe('MCP server over stdio', () => {
  it('lists its tools with JSON schemas, read-only ones marked', async () => {
    client = await connectMcp({ ...h.env, WM_BASE_PATH: join(h.home, 'proj') });
    const { tools } = await client.listTools();
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    for (const name of ['search_memories', 'search_memories_federated', 'create_memory', 'read_memory', 'update_memory', 'delete_memory', 'restore_memory', 'list_memories', 'get_context', 'list_tags', 'get_stats', 'get_active_context', 'select_context', 'consolidate', 'backup_context', 'clone_context', 'list_contexts', 'get_overview', 'create_context', 'delete_context']) {
      expect(byName[name], name).toBeDefined();
      expect(byName[name].inputSchema.type).toBe('object');
    }
    expect(byName.create_memory.inputSchema.required).toEqual(['title']);
    expect(byName.create_memory.inputSchema.properties).toHaveProperty('tags');
    expect(byName.read_memory.annotations?.readOnlyHint).toBe(true);
    expect(byName.list_memories.annotations?.readOnlyHint).toBe(true);
    expect(byName.create_memory.annotations?.readOnlyHint).toBe(false);
    expect(byName.delete_memory.annotations?.destructiveHint).toBe(true);
    expect(byName.delete_context.annotations?.destructiveHint).toBe(true);
    expect(byName.list_contexts.annotations?.readOnlyHint).toBe(true);
    expect(byName.consolidate.annotations?.readOnlyHint).toBe(false);
  });

  it('works on the context of WM_BASE_PATH, the same memories the CLI sees', async () => {
    const base = join(h.home, 'proj');
    client = await connectMcp({ ...h.env, WM_BASE_PATH: base, WHITEMAGIC_CONTEXT: 'other' });
    const created = await callJson('create_memory', { title: 'From MCP', content: '**Bold** words', tags: ['Agent', 'x'], meta: { source: 'test' } });
    expect(created).toMatchObject({ title: 'From MCP', type: 'short_term', tags: ['agent', 'x'], meta: { source: 'test' } });

    const cli = h.run(['--base-dir', base, 'show', created.id, '--json']);
    expect(cli.code).toBe(0);
    expect(json(cli).content).toBe('**Bold** words');

    expect(await callJson('read_memory', { ref: created.id.slice(0, 8) })).toMatchObject({ id: created.id, content: '**Bold** words' });
    const updated = await callJson('update_memory', { ref: created.id, add_tags: ['more'], remove_tags: ['x'], title: 'Renamed' });
    expect(updated).toMatchObject({ title: 'Renamed', tags: ['agent', 'more'], created: created.created });

    const active = await callJson('get_active_context');
    expect(active).toMatchObject({ path: base, source: 'WM_BASE_PATH', total: 1, selectedInSession: false });

    const list = await callJson('list_memories', { tags: ['agent'] });
    expect(list.total).toBe(1);
    expect(list.memories[0]).toMatchObject({ id: created.id, title: 'Renamed' });
    expect(list.memories[0]).not.toHaveProperty('content');
    // Tags are matched as stored (lowercase), whatever case the assistant sends.
    expect((await callJson('list_memories', { tags: [' Agent'] })).total).toBe(1);

    expect(await callJson('list_tags')).toEqual({ tags: [{ tag: 'agent', count: 1 }, { tag: 'more', count: 1 }] });
    expect(await callJson('get_stats')).toMatchObject({ total: 1, counts: { short_term: 1, long_term: 0, archive: 0 } });

    const context = await call('get_context', { tier: 0 });
    expect(context.isError).toBe(false);
    expect(context.text).toContain('# whitemagic context: proj (tier 0)');
    expect(context.text).toContain('### Renamed');
    expect(context.text).toContain('Bold words');

    expect(await callJson('delete_memory', { ref: created.id })).toMatchObject({ id: created.id, permanent: false });
    expect((await callJson('list_memories')).total).toBe(0);
    expect(await callJson('restore_memory', { ref: created.id })).toMatchObject({ type: 'short_term' });
    expect(await callJson('delete_memory', { ref: created.id, permanent: true })).toMatchObject({ permanent: true });
    expect((await callJson('list_memories', { include_archived: true })).total).toBe(0);
  });

  it('returns failures as tool errors and keeps serving', async () => {
    client = await connectMcp({ ...h.env, WM_BASE_PATH: join(h.home, 'proj') });
    const noContext = await call('list_memories');
    expect(noContext.isError).toBe(true);
    expect(noContext.text).toMatch(/^error: context not found: .*proj \(hint: /);
    await callJson('create_memory', { title: 'first' });
    const missing = await call('read_memory', { ref: 'zzzzzzzz' });
    expect(missing.isError).toBe(true);
    expect(missing.text).toMatch(/^error: memory not found: zzzzzzzz/);
    const badTitle = await call('create_memory', { title: '   ' });
    expect(badTitle).toMatchObject({ isError: true });
    expect(badTitle.text).toContain('a title cannot be empty');
    const badSchema = await call('create_memory', { content: 'no title' });
    expect(badSchema.isError).toBe(true);
    const badMeta = await call('create_memory', { title: 't', meta: { id: 'x' } });
    expect(badMeta.isError).toBe(true);
    expect(badMeta.text).toContain("cannot set 'id'");
    const badPath = await call('read_memory', { ref: '../../etc/passwd' });
    expect(badPath.isError).toBe(true);
    // Still alive and answering.
    expect(await callJson('create_memory', { title: 'after errors' })).toMatchObject({ title: 'after errors' });
  });

  it('selects another context for the session only', async () => {
    const other = h.run(['--context', 'other', 'create', '--title', 'In other', '--content', 'x']);
    expect(other.code).toBe(0);
    client = await connectMcp({ ...h.env });
    expect(await callJson('get_active_context')).toMatchObject({ name: 'default', source: 'default' });
    const unknown = await call('select_context', { name: 'nope' });
    expect(unknown.isError).toBe(true);
    expect(unknown.text).toContain('context not found: nope');
    const invalid = await call('select_context', { name: '../x' });
    expect(invalid.isError).toBe(true);
    expect(invalid.text).toContain('invalid context name');
    expect(await callJson('select_context', { name: 'other' })).toMatchObject({ name: 'other', total: 1 });
    expect((await callJson('list_memories')).memories[0].title).toBe('In other');
    expect(await callJson('get_active_context')).toMatchObject({ name: 'other', selectedInSession: true });
    // Nothing was remembered outside the session: the CLI is still on the default context.
    const status = h.run(['status', '--json']);
    expect(status.code).toBe(0);
    expect(json(status)).toMatchObject({ name: 'default', source: 'default' });
  });

  it('serves resources: short-term and long-term memories, tags, stats, one memory', async () => {
    const base = join(h.home, 'proj');
    const s = h.run(['--base-dir', base, 'create', '--title', 'Short one', '--content', 'body s', '--tag', 't1']);
    const l = h.run(['--base-dir', base, 'create', '--title', 'Long one', '--content', 'body l', '--type', 'long_term']);
    expect(s.code + l.code).toBe(0);
    client = await connectMcp({ ...h.env, WM_BASE_PATH: base });
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri).sort()).toEqual([
      'whitemagic://memories/long_term',
      'whitemagic://memories/short_term',
      'whitemagic://stats',
      'whitemagic://tags',
    ]);
    const read = async (uri: string) => (await client!.readResource({ uri })).contents[0] as { text: string; mimeType: string };
    const short = JSON.parse((await read('whitemagic://memories/short_term')).text);
    expect(short.memories.map((m: { title: string; content: string }) => [m.title, m.content])).toEqual([['Short one', 'body s']]);
    const long = JSON.parse((await read('whitemagic://memories/long_term')).text);
    expect(long.memories.map((m: { title: string }) => m.title)).toEqual(['Long one']);
    expect(JSON.parse((await read('whitemagic://tags')).text)).toEqual({ tags: [{ tag: 't1', count: 1 }] });
    expect(JSON.parse((await read('whitemagic://stats')).text)).toMatchObject({ total: 2 });
    const one = await read(`whitemagic://memory/${s.stdout.trim()}`);
    expect(one.mimeType).toBe('text/markdown');
    expect(one.text).toContain('title: Short one');
    await expect(client.readResource({ uri: 'whitemagic://memory/zzzzzzzz' })).rejects.toThrow(/memory not found/);
    expect(await callJson('get_stats')).toMatchObject({ total: 2 });
  });

  it('manages contexts, consolidates (a dry run unless asked) and backs up', async () => {
    client = await connectMcp({ ...h.env });
    expect(await callJson('create_context', { name: 'alpha', description: 'first' })).toMatchObject({ name: 'alpha' });
    expect(await callJson('select_context', { name: 'alpha' })).toMatchObject({ name: 'alpha' });
    const old = await callJson('create_memory', { title: 'Old insight', tags: ['insight'] });
    const other = await callJson('create_memory', { title: 'Old chatter' });
    const names = (await callJson('list_contexts')).contexts.map((c: { name: string }) => c.name);
    expect(names).toContain('alpha');
    expect(await callJson('get_overview')).toMatchObject({ totals: { memories: 2 } });

    // Nothing is older than the retention yet: consolidate everything created before now.
    const future = new Date(Date.now() + 60_000).toISOString();
    const dry = await callJson('consolidate', { older_than: future });
    expect(JSON.stringify(dry)).toContain(old.id);
    expect((await callJson('list_memories')).total).toBe(2);
    await callJson('consolidate', { older_than: future, dry_run: false });
    expect((await callJson('read_memory', { ref: old.id })).type).toBe('long_term');
    expect((await callJson('read_memory', { ref: other.id })).type).toBe('archive');

    const backup = await callJson('backup_context', { keep: 1 });
    expect(backup.path).toMatch(/alpha\/backups\/backup-.*\.tar\.gz$/);
    const verify = h.run(['verify-backup', backup.path]);
    expect(verify.code).toBe(0);

    expect(await callJson('clone_context', { dest: 'beta' })).toMatchObject({ name: 'beta' });
    expect(await callJson('select_context', { name: 'beta' })).toMatchObject({ name: 'beta' });
    expect((await callJson('read_memory', { ref: old.id })).title).toBe('Old insight');

    const unconfirmed = await call('delete_context', { name: 'alpha', yes: false });
    expect(unconfirmed.isError).toBe(true);
    expect(await callJson('delete_context', { name: 'alpha', yes: true })).toMatchObject({ name: 'alpha' });
    expect((await callJson('list_contexts')).contexts.map((c: { name: string }) => c.name)).not.toContain('alpha');
    const again = await call('create_context', { name: 'beta' });
    expect(again.isError).toBe(true);
  });

  it('searches the active context and several contexts', async () => {
    const seed = (ctx: string, title: string, content: string) => {
      const r = h.run(['--context', ctx, 'create', '--title', title, '--content', content]);
      expect(r.code).toBe(0);
      return r.stdout.trim();
    };
    const a = seed('alpha', 'Docker compose setup', 'we run postgres in docker');
    seed('alpha', 'Lunch', 'pizza on fridays');
    const b = seed('beta', 'Docker networking', 'bridge networks between containers');
    client = await connectMcp({ ...h.env, WHITEMAGIC_CONTEXT: 'alpha' });
    const local = await callJson('search_memories', { query: 'docker' });
    expect(local.hits.map((hit: { id: string }) => hit.id)).toEqual([a]);
    expect(local.hits[0]).toMatchObject({ title: 'Docker compose setup' });
    expect(typeof local.hits[0].score).toBe('number');
    const fed = await callJson('search_memories_federated', { query: 'docker', contexts: 'all' });
    expect(fed.hits.map((hit: { id: string; context: string }) => [hit.context, hit.id]).sort()).toEqual([
      ['alpha', a],
      ['beta', b],
    ]);
    const named = await callJson('search_memories_federated', { query: 'networks', contexts: ['beta'] });
    expect(named.hits.map((hit: { id: string }) => hit.id)).toEqual([b]);
    const unknown = await call('search_memories_federated', { query: 'docker', contexts: ['alpha', 'nope'] });
    expect(unknown.isError).toBe(true);
    expect(unknown.text).toContain('nope');
  });

  it('runs as `whitemagic mcp` too, with --context choosing the context', async () => {
    h.run(['--context', 'work', 'create', '--title', 'Work note', '--content', 'x']);
    client = await connectMcp({ ...h.env }, [BIN, 'mcp', '--context', 'work']);
    expect(await callJson('get_active_context')).toMatchObject({ name: 'work', source: '--context', total: 1 });
  });

  it('refuses a bad start with one line and exit 2', () => {
    const r = h.run(['mcp', '--base-dir', 'a', '--context', 'b']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('whitemagic: error: --base-dir and --context cannot be used together (hint: pick one of them)\n');
  });
});
