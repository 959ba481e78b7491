import { readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { json, makeHome, type Home } from '../helpers/cli.js';
import { availableBackends, oldMemory, readContext, seedContext } from '../helpers/lifecycle.js';
import { planLimits } from '../../src/commands/consolidate.js';
import { MemoryManager } from '../../src/index.js';

const backends = await availableBackends();
const DAY = 86_400_000;

let home: Home;
beforeEach(() => {
  home = makeHome('wm-consolidate-');
});
afterEach(() => home.cleanup());

/** Every .md file under the context's memory folders, as `type/name`. */
function memoryFiles(dir: string): string[] {
  return ['short_term', 'long_term', 'archive'].flatMap((t) => readdirSync(join(dir, 'memory', t)).map((f) => `${t}/${f}`)).sort();
}

describe.each(backends)('consolidate (%s)', (backend) => {
  it('applies SPEC section 6 at the boundaries: 7 days, promotion tags in any case, archived left alone', async () => {
    const dir = join(home.home, 'ctx');
    const now = Date.now();
    const young = oldMemory(7 - 1 / 1440, { title: 'Just under seven days' }, now);
    const old = oldMemory(7 + 1 / 1440, { title: 'Just over seven days', tags: ['misc'] }, now);
    const promoted = oldMemory(30, { title: 'A decision', tags: ['decision', 'misc'], meta: { source: 'meeting' } }, now);
    const insight = oldMemory(10, { title: 'An insight', tags: ['insight'] }, now);
    const archived = oldMemory(40, { title: 'Archived long ago', type: 'archive', tags: ['insight'] }, now);
    const longTerm = oldMemory(50, { title: 'Long-term already', type: 'long_term' }, now);
    await seedContext(home, dir, backend, [young, old, promoted, insight, archived, longTerm]);

    const r = home.run(['--base-dir', dir, '--json', 'consolidate', '--no-dry-run']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const result = json(r);
    expect(result.dryRun).toBe(false);
    expect(result.promoted.sort()).toEqual([promoted.id, insight.id].sort());
    expect(result.archived).toEqual([old.id]);
    const insightsId = result.runs[0].insights.id;

    const { memories, problems } = await readContext(dir, backend);
    expect(problems).toEqual([]);
    const byId = new Map(memories.map((m) => [m.id, m]));
    expect(byId.get(young.id)!.type).toBe('short_term');
    expect(byId.get(old.id)!.type).toBe('archive');
    expect(byId.get(old.id)!.meta.archived_from).toBe('short_term');
    const p = byId.get(promoted.id)!;
    expect(p.type).toBe('long_term');
    expect(p.meta).toMatchObject({ promoted_from: 'short_term', source: 'meeting' });
    expect(typeof p.meta.promoted_at).toBe('string');
    expect(p.created).toBe(promoted.created);
    expect(byId.get(archived.id)).toEqual(archived);
    expect(byId.get(longTerm.id)).toEqual(longTerm);
    const summary = byId.get(insightsId)!;
    expect(summary.title).toMatch(/^Consolidated Insights - \d{4}-\d{2}-\d{2}$/);
    expect(summary.type).toBe('long_term');
    expect(summary.tags).toEqual(['consolidated']);
    expect(summary.content).toContain(`- id: ${old.id}`);
    expect(summary.content).toContain(`- created: ${old.created}`);
    expect(summary.content).toContain('- tags: misc');
    expect(summary.content).toContain('> First line of');
    expect(summary.content).not.toContain(young.id);
    expect(summary.content).not.toContain(archived.id);
    expect(memories).toHaveLength(7);

    // Idempotent: a second run finds nothing and makes no second Insights memory.
    const again = home.run(['--base-dir', dir, '--json', 'consolidate', '--no-dry-run']);
    expect(again.code).toBe(0);
    expect(json(again).promoted).toEqual([]);
    expect(json(again).archived).toEqual([]);
    expect((await readContext(dir, backend)).memories).toHaveLength(7);
  });

  it('lists in the Insights memory the first three non-empty lines of each archived memory, a long one cut with "..."', async () => {
    const dir = join(home.home, 'ctx');
    const long = 'x'.repeat(250);
    const m = oldMemory(10, { title: 'Lines', tags: [], content: `\n  One  \n\nTwo\n${long}\nFour` });
    await seedContext(home, dir, backend, [m]);
    const r = home.run(['--base-dir', dir, '--json', 'consolidate', '--no-dry-run']);
    expect(r.code).toBe(0);
    const insights = (await readContext(dir, backend)).memories.find((x) => x.id === json(r).runs[0].insights.id)!;
    // Three dots, not an ellipsis character: a memory of first lines from tens of thousands of
    // ASCII memories stays a one-byte string (half the memory) as it is built and stored.
    expect(insights.content).toContain(`- tags: (none)\n\n> One\n> Two\n> ${'x'.repeat(197)}...`);
    expect(insights.content).not.toContain('Four');
  });

  it('takes --older-than as an exact cutoff: created at it stays, a millisecond before goes', async () => {
    const dir = join(home.home, 'ctx');
    const cutoff = Date.UTC(2024, 0, 8);
    const at = oldMemory(0, { title: 'At the cutoff' }, cutoff);
    const before = oldMemory(0, { title: 'Before the cutoff' }, cutoff - 1);
    await seedContext(home, dir, backend, [at, before]);
    const r = home.run(['--base-dir', dir, '--json', 'consolidate', '--older-than', new Date(cutoff).toISOString()]);
    expect(r.code).toBe(0);
    expect(json(r).archived).toEqual([before.id]);
    expect(json(r).cutoff).toBe(new Date(cutoff).toISOString());
  });

  it('reads retention_days from the manifest', async () => {
    const dir = join(home.home, 'ctx');
    const ten = oldMemory(10);
    const forty = oldMemory(40);
    await seedContext(home, dir, backend, [ten, forty]);
    const manifestPath = join(dir, 'whitemagic.json');
    writeFileSync(manifestPath, JSON.stringify({ ...JSON.parse(readFileSync(manifestPath, 'utf8')), retention_days: 30 }));
    const r = home.run(['--base-dir', dir, '--json', 'consolidate']);
    expect(r.code).toBe(0);
    expect(json(r).archived).toEqual([forty.id]);
    expect(json(r).retention).toBe('retention_days 30');
  });

  it('a dry run (the default) changes nothing and shows exactly what the real run then does', async () => {
    const dir = join(home.home, 'ctx');
    const seeds = [oldMemory(9, { tags: ['Pattern'] }), oldMemory(12), oldMemory(20, { tags: ['proven'] }), oldMemory(1)];
    await seedContext(home, dir, backend, seeds);
    const before = await readContext(dir, backend);

    const dry = home.run(['--base-dir', dir, '--json', 'consolidate']);
    expect(dry.code).toBe(0);
    expect(dry.stderr).toBe('');
    expect(json(dry).dryRun).toBe(true);
    expect(await readContext(dir, backend)).toEqual(before);
    const text = home.run(['--base-dir', dir, 'consolidate', '--dry-run']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('dry run: nothing changed');
    expect(text.stdout).toContain(`would promote  ${seeds[0].id}`);
    expect(text.stdout).toContain(`would archive  ${seeds[1].id}`);
    expect(await readContext(dir, backend)).toEqual(before);

    const real = home.run(['--base-dir', dir, '--json', 'consolidate', '--dry-run', 'false']);
    expect(real.code).toBe(0);
    expect(json(real).dryRun).toBe(false);
    expect(json(real).promoted).toEqual(json(dry).promoted);
    expect(json(real).archived).toEqual(json(dry).archived);
    expect(json(real).promoted.sort()).toEqual([seeds[0].id, seeds[2].id].sort());
  });

  it('plans from the listing a page at a time, memories created at the same time across pages each once, oldest first', async () => {
    const dir = join(home.home, 'ctx');
    const now = Date.now();
    // Three created at the same millisecond: a page of two ends among them, and the next starts there.
    const same = [oldMemory(15, {}, now), oldMemory(15, {}, now), oldMemory(15, {}, now)];
    const seeds = [oldMemory(20, {}, now), ...same, oldMemory(12, { tags: ['insight'] }, now), oldMemory(10, {}, now), oldMemory(9, {}, now), oldMemory(1, {}, now)];
    await seedContext(home, dir, backend, seeds);
    const oldestFirst = seeds.slice(0, 7).sort((a, b) => (a.created === b.created ? (a.id < b.id ? -1 : 1) : a.created < b.created ? -1 : 1));
    const manager = new MemoryManager({ baseDir: dir, env: { WHITEMAGIC_HOME: home.wmHome } });
    try {
      const whole = await manager.consolidate({ dryRun: true });
      planLimits.page = 2;
      const paged = await manager.consolidate({ dryRun: true });
      expect(paged.archived).toEqual(whole.archived);
      expect(paged.promoted).toEqual([seeds[4].id]);
      expect(paged.archived).toEqual(oldestFirst.filter((m) => m !== seeds[4]).map((m) => m.id));
      const real = await manager.consolidate({ dryRun: false });
      expect(real.archived).toEqual(paged.archived);
    } finally {
      planLimits.page = 2000;
      manager.close();
    }
  });

  it('prints a large run line by line, or as JSON in parts: each memory once, none lost where the output is cut', async () => {
    const dir = join(home.home, 'ctx');
    const now = Date.now();
    const seeds = Array.from({ length: 2003 }, (_, i) => oldMemory(8 + i / 1000, { title: `Old ${i}` }, now));
    await seedContext(home, dir, backend, seeds);
    const text = home.run(['--base-dir', dir, 'consolidate']);
    expect(text.code).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines.at(-1)).toBe('');
    const archived = lines.filter((l) => l.startsWith('would archive  '));
    expect(archived).toHaveLength(2003);
    expect(new Set(archived).size).toBe(2003);
    expect(lines.filter((l) => l !== '' && !l.startsWith('would archive  '))).toEqual([
      'dry run: nothing changed (apply with --no-dry-run)',
      expect.stringMatching(/^short-term memories created before /),
      expect.stringMatching(/^would create  "Consolidated Insights - /),
      'would be: 0 promoted to long_term, 2003 archived',
    ]);
    // As JSON too, written in parts (about 400 KB here): exactly what one JSON.stringify makes.
    const asJson = home.run(['--base-dir', dir, '--json', 'consolidate']);
    expect(asJson.code).toBe(0);
    const parsed = JSON.parse(asJson.stdout) as { archived: string[] };
    expect(parsed.archived).toHaveLength(2003);
    expect(asJson.stdout).toBe(`${JSON.stringify(parsed, null, 2)}\n`);
  });

  it('records each run in the log, readable with --log', async () => {
    const dir = join(home.home, 'ctx');
    await seedContext(home, dir, backend, [oldMemory(9), oldMemory(10, { tags: ['heuristic'] })]);
    expect(home.run(['--base-dir', dir, 'consolidate', '--no-dry-run']).code).toBe(0);
    expect(home.run(['--base-dir', dir, 'consolidate', '--no-dry-run']).code).toBe(0);
    const r = home.run(['--base-dir', dir, '--json', 'consolidate', '--log']);
    expect(r.code).toBe(0);
    const runs = json(r).runs;
    expect(runs).toHaveLength(2);
    expect(runs.map((x: { status: string }) => x.status)).toEqual(['done', 'done']);
    expect(runs[1]).toMatchObject({ promoted: 1, archived: 1 });
    expect(runs[0]).toMatchObject({ promoted: 0, archived: 0 });
    const text = home.run(['--base-dir', dir, 'consolidate', '--log']);
    expect(text.code).toBe(0);
    expect(text.stdout.trim().split('\n')).toHaveLength(2);
    expect(text.stdout).toContain('promoted 1, archived 1');
  });
});

describe('consolidate (markdown files written by hand)', () => {
  it('uses the file time for a memory without created, and reads tags in any case and as a comma string', () => {
    const dir = join(home.home, 'ctx');
    expect(home.run(['--base-dir', dir, 'init']).code).toBe(0);
    const st = join(dir, 'memory', 'short_term');
    const write = (name: string, text: string, daysAgo: number) => {
      writeFileSync(join(st, name), text);
      const t = new Date(Date.now() - daysAgo * DAY);
      utimesSync(join(st, name), t, t);
    };
    write('no-created-old.md', '---\ntitle: No created, old file\n---\nbody\n', 30);
    write('no-created-new.md', '---\ntitle: No created, new file\n---\nbody\n', 0);
    write('upper.md', `---\ntitle: Upper case tag\ntags: [Decision]\ncreated: ${new Date(Date.now() - 20 * DAY).toISOString()}\n---\nx\n`, 0);
    write('legacy.md', '---\ntitle: Legacy comma tags\ntags: misc, INSIGHT\ncreated: 2020-01-01T10:00:00\n---\nx\n', 0);

    const r = home.run(['--base-dir', dir, '--json', 'consolidate', '--no-dry-run']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const result = json(r);
    const titles = (ids: string[]) => {
      const all = json(home.run(['--base-dir', dir, '--json', 'list', '--include-archived'])).memories;
      return ids.map((id) => all.find((m: { id: string }) => m.id === id).title).sort();
    };
    expect(titles(result.promoted)).toEqual(['Legacy comma tags', 'Upper case tag']);
    expect(titles(result.archived)).toEqual(['No created, old file']);
    const files = memoryFiles(dir);
    expect(files).toContain('short_term/no-created-new.md');
    expect(files).toContain('archive/no-created-old.md');
    expect(files).toContain('long_term/upper.md');
    expect(files.filter((f) => f.startsWith('short_term/'))).toEqual(['short_term/no-created-new.md']);
  });

  it('refuses a bad --older-than and --dry-run value with a usage error', () => {
    const a = home.run(['consolidate', '--older-than', 'yesterday']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/^whitemagic: error: --older-than: cannot read 'yesterday' as a date/);
    const b = home.run(['consolidate', '--dry-run', 'perhaps']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/^whitemagic: error: .*true or false/);
  });
});
