import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { json, makeHome, type Home } from '../helpers/cli.js';

let h: Home;
beforeEach(() => {
  h = makeHome('wm-search-');
});
afterEach(() => h.cleanup());

function create(context: string, title: string, content: string, tags: string[] = []): string {
  const r = h.run(['--context', context, 'create', '--title', title, '--content', content, ...tags.flatMap((t) => ['--tag', t])]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout.trim();
}

describe('search', () => {
  it('prints one line per hit off a terminal, matches in brackets; --json has plain text and offsets', () => {
    const id = create('default', 'Docker volumes', 'Named volumes persist data across container restarts.', ['docker']);
    create('default', 'Cooking rice', 'Rinse it well.');
    const r = h.run(['search', 'volumes', 'persist']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const fields = r.stdout.trim().split('\t');
    expect(fields).toHaveLength(5);
    expect(fields.slice(1)).toEqual([id, 'Docker [volumes]', 'docker', 'Named [volumes] [persist] data across container restarts.']);

    const j = json(h.run(['search', 'volumes', 'persist', '--json']));
    expect(j.total).toBe(1);
    const [hit] = j.hits;
    expect(hit).toMatchObject({ id, title: 'Docker volumes', type: 'short_term', tags: ['docker'] });
    expect(hit.snippet).toBe('Named volumes persist data across container restarts.');
    expect(hit.matches.map(([s, e]: [number, number]) => hit.snippet.slice(s, e))).toEqual(['volumes', 'persist']);
    expect(hit.titleMatches).toEqual([[7, 14]]);
    expect(hit.score).toBeGreaterThan(0);
  });

  it('takes a single-dash word as an exclusion, and the filters of list', () => {
    create('default', 'Docker compose', 'services', ['docker']);
    create('default', 'Docker swarm', 'services', ['docker', 'cluster']);
    const titles = (args: string[]) => json(h.run(['search', ...args, '--json'])).hits.map((x: { title: string }) => x.title);
    expect(titles(['docker', '-compose'])).toEqual(['Docker swarm']);
    expect(titles(['services', '--tag', 'docker', '--tag', 'CLUSTER'])).toEqual(['Docker swarm']);
    expect(titles(['services', '--limit', '1'])).toHaveLength(1);
    expect(titles(['services', '--since', '1d', '--type', 'short_term'])).toHaveLength(2);
    expect(titles(['services', '--titles-only'])).toEqual([]);
  });

  it('refuses queries with nothing to find, and stray options, with exit 2 and one line', () => {
    create('default', 'Something', 'text');
    for (const args of [[''], ['*'], ['🚀'], ['-docker'], ['docker', '--limt', '3'], ['x', '--limit', '0']]) {
      const r = h.run(['search', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^whitemagic: error: .+\n$/);
      expect(r.stdout).toBe('');
    }
    const r = h.run(['search', '*', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stderr).error).toMatchObject({ code: 'usage', exitCode: 2 });
  });

  it('answers awkward queries without a stack trace', () => {
    create('default', 'C++ notes', 'foo-bar "quoted" AND or NOT');
    for (const q of ['c++', 'foo-bar', '"unclosed', 'AND', 'NOT', 'OR', 'a"b"c', '(x', 'title:x', '^y', 'NEAR(a b)', 'ü', '日本語']) {
      const r = h.run(['search', q]);
      expect(r.stderr, q).not.toMatch(/at .+\.js:\d+/);
      expect([0, 2], q).toContain(r.code);
    }
    expect(h.run(['search', 'rocket 🚀', 'c++']).stderr).toBe("whitemagic: warning: ignored '🚀' in the query: it has no letters or digits\n");
  });

  it('reads an implicit default context that does not exist as empty, creating nothing', () => {
    const r = h.run(['search', 'anything']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(existsSync(h.wmHome)).toBe(false);
  });
});

describe('federated search', () => {
  beforeEach(() => {
    // "tiny": two short memories, both about kubernetes: BM25 gives them tiny raw scores.
    create('tiny', 'Kubernetes pods', 'kubernetes');
    create('tiny', 'Kubernetes nodes', 'kubernetes kubernetes');
    for (let i = 0; i < 6; i++) create('big', `Note ${i}`, `unrelated text number ${i}`);
    create('big', 'Kubernetes probes', 'readiness and liveness in kubernetes');
    create('other', 'Nothing relevant', 'gardening');
  });

  it('normalises each context to [0, 1], names each hit, and merges deterministically', () => {
    const r = h.run(['search', 'kubernetes', '--contexts', 'tiny,big', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const j = json(r);
    expect(j.contexts).toEqual(['big', 'tiny']);
    expect(j.total).toBe(3);
    const tiny = j.hits.filter((x: { context: string }) => x.context === 'tiny');
    const big = j.hits.filter((x: { context: string }) => x.context === 'big');
    expect(tiny).toHaveLength(2);
    expect(big).toHaveLength(1);
    expect(Math.max(...tiny.map((x: { score: number }) => x.score))).toBe(1);
    expect(tiny.every((x: { rawScore: number }) => x.rawScore < 0.001)).toBe(true);
    expect(big[0].score).toBe(1);
    for (const x of j.hits) expect(x.score).toBeGreaterThan(0);
    // Equal normalised scores: context name first.
    expect(j.hits[0].context).toBe('big');
    expect(j.hits[1]).toMatchObject({ context: 'tiny', score: 1 });
    // The plain output has the context as its first column.
    const plain = h.run(['search', 'kubernetes', '--contexts', 'tiny,big']);
    expect(plain.stdout.trim().split('\n').map((l) => l.split('\t')[0])).toEqual(['big', 'tiny', 'tiny']);
  });

  it('--all-contexts searches every context under WHITEMAGIC_HOME', () => {
    const j = json(h.run(['search', 'kubernetes OR gardening', '--all-contexts', '--json']));
    expect(j.contexts).toEqual(['big', 'other', 'tiny']);
    expect(new Set(j.hits.map((x: { context: string }) => x.context))).toEqual(new Set(['big', 'other', 'tiny']));
  });

  it('fails on an unknown name before any search, listing the known ones', () => {
    const r = h.run(['search', 'kubernetes', '--contexts', 'tiny,nope']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("whitemagic: error: unknown context 'nope' (hint: known contexts: big, other, tiny)\n");
    expect(r.stdout).toBe('');
    for (const c of ['tiny', 'big', 'other']) expect(readdirSync(join(h.wmHome, c))).not.toContain('.index.db');
    expect(h.run(['search', 'x', '--contexts', 'a', '--all-contexts']).code).toBe(2);
    expect(h.run(['search', 'x', '--contexts', 'Bad/Name']).code).toBe(2);
  });
});

describe('reindex and doctor', () => {
  it('doctor exits 0 on a healthy context and 1 naming an unreadable file; reindex rebuilds', () => {
    create('default', 'Alpha', 'first');
    create('default', 'Beta', 'second');
    let r = h.run(['doctor']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('search index: not built yet');
    expect(h.run(['search', 'alpha']).code).toBe(0);
    r = h.run(['doctor', '--json']);
    expect(r.code).toBe(0);
    expect(json(r)).toMatchObject({ ok: true, problems: [], index: { present: true, drift: [] } });

    writeFileSync(join(h.wmHome, 'default', 'memory', 'short_term', 'broken.md'), '---\ntitle: [oops\n---\nx\n');
    r = h.run(['doctor']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^whitemagic: error: doctor found problems: 1 unreadable \(hint: .+\)\n$/);
    expect(r.stdout).toContain('memory/short_term/broken.md');
    r = h.run(['doctor', '--json']);
    expect(r.code).toBe(1);
    expect(json(r).problems[0].path).toBe('memory/short_term/broken.md');
    expect(JSON.parse(r.stderr).error.code).toBe('corrupt');

    r = h.run(['reindex']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('reindexed 2 memories in default\n');
    expect(json(h.run(['reindex', '--json']))).toEqual({ context: 'default', backend: 'markdown', indexed: 2 });
  });

  it('reindex of a context that was named but does not exist fails without creating it', () => {
    const r = h.run(['--context', 'ghost', 'reindex']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^whitemagic: error: context not found: /);
    expect(existsSync(join(h.wmHome, 'ghost'))).toBe(false);
  });
});

describe('search on a SQLite context', () => {
  it('searches, reindexes and checks, and federates with a markdown context', () => {
    let r = h.run(['--context', 'db', '--backend', 'sqlite', 'init']);
    expect(r.code).toBe(0);
    const id = create('db', 'Postgres vacuum', 'autovacuum settings for busy tables');
    create('notes', 'Vacuum cleaner', 'bagless');
    r = h.run(['--context', 'db', 'search', 'vacuum', '--json']);
    expect(r.code).toBe(0);
    expect(json(r).hits.map((x: { id: string }) => x.id)).toEqual([id]);
    expect(json(h.run(['--context', 'db', 'reindex', '--json']))).toEqual({ context: 'db', backend: 'sqlite', indexed: 1 });
    r = h.run(['--context', 'db', 'doctor', '--json']);
    expect(r.code).toBe(0);
    expect(json(r)).toMatchObject({ backend: 'sqlite', ok: true });
    const all = json(h.run(['search', 'vacuum', '--all-contexts', '--json']));
    expect(all.hits.map((x: { context: string; score: number }) => [x.context, x.score])).toEqual([
      ['db', 1],
      ['notes', 1],
    ]);
  });
});
