import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { json, makeHome, type Home } from '../helpers/cli.js';

let h: Home;
beforeEach(() => {
  h = makeHome();
});
afterEach(() => h.cleanup());

const shortTerm = () => join(h.wmHome, 'default', 'memory', 'short_term');

function create(args: string[], input?: string): string {
  const r = h.run(['create', ...args], { input });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout.trim();
}

describe('create', () => {
  it('prints the id, writes one file with front matter, and makes the context private', () => {
    const id = create(['--title', 'Hello', '--content', 'World', '--tag', 'Demo', '--tag', ' demo ', '--tag', 'Other']);
    expect(id).toMatch(/^[0-9a-z]{26}$/);
    const files = readdirSync(shortTerm());
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^\d{4}-\d{2}-\d{2}_hello_[0-9a-z]{8}\.md$/);
    const text = readFileSync(join(shortTerm(), files[0]), 'utf8');
    expect(text).toContain(`id: ${id}`);
    expect(text).toMatch(/tags:\n {2}- demo\n {2}- other\n/);
    expect(text.endsWith('\nWorld\n')).toBe(true);
    expect(statSync(join(shortTerm(), files[0])).mode & 0o777).toBe(0o600);
    expect(statSync(join(h.wmHome, 'default')).mode & 0o777).toBe(0o700);
    expect(statSync(shortTerm()).mode & 0o777).toBe(0o700);
    const manifest = JSON.parse(readFileSync(join(h.wmHome, 'default', 'whitemagic.json'), 'utf8'));
    expect(manifest).toMatchObject({ format: 1, backend: 'markdown' });
  });

  it('takes content from --content-file, --stdin, a pipe and --content-file -', () => {
    const file = join(h.home, 'body.md');
    writeFileSync(file, '# From a file\n\nline two\n');
    const a = create(['--title', 'file', '--content-file', file]);
    const b = create(['--title', 'stdin', '--stdin'], 'from stdin');
    const c = create(['--title', 'pipe'], 'from a pipe');
    const d = create(['--title', 'dash', '--content-file', '-'], 'from dash');
    const body = (id: string) => json(h.run(['show', id, '--json'])).content;
    expect(body(a)).toBe('# From a file\n\nline two');
    expect(body(b)).toBe('from stdin');
    expect(body(c)).toBe('from a pipe');
    expect(body(d)).toBe('from dash');
  });

  it('keeps unicode and multi-line bodies and awkward titles exactly', () => {
    const title = `Ünïcödé 日本語 🚀 a/b: "quoted" 'single' #hash`;
    const content = 'line one\n\n  indented\n- item ✓\n---\nnot: front matter\n```\ncode\n```';
    const id = create(['--title', title, '--content', content, '--meta', 'source=https://x.test/a?b=c']);
    const m = json(h.run(['show', id, '--json']));
    expect(m.title).toBe(title);
    expect(m.content).toBe(content);
    expect(m.meta).toEqual({ source: 'https://x.test/a?b=c' });
    const [file] = readdirSync(shortTerm());
    expect(file).toMatch(/_unicode-a-b-quoted-single-hash_/);
  });

  it('makes long-term memories with --type', () => {
    const id = create(['--title', 'keep', '--content', 'x', '--type', 'long_term']);
    expect(json(h.run(['show', id, '--json'])).type).toBe('long_term');
    expect(readdirSync(join(h.wmHome, 'default', 'memory', 'long_term'))).toHaveLength(1);
  });

  it('refuses bad input with exit 2 and writes nothing', () => {
    const cases: Array<[string[], RegExp]> = [
      [['create', '--content', 'x'], /required option '--title/],
      [['create', '--title', '', '--content', 'x'], /title cannot be empty/],
      [['create', '--title', 'two\nlines', '--content', 'x'], /title must be one line/],
      [['create', '--title', 't', '--content', 'x', '--type', 'archive'], /invalid/],
      [['create', '--title', 't', '--content', 'x', '--bogus'], /unknown option '--bogus'/],
      [['create', '--title', 't', '--content', 'x', '--content-file', 'f'], /one way/],
      [['create', '--title', 't', '--content', 'x', '--meta', 'novalue'], /key=value/],
      [['create', '--title', 't', '--content', 'x', '--meta', 'id=1'], /cannot set 'id'/],
      [['create', '--title', 't'], /no content given/],
    ];
    for (const [args, message] of cases) {
      const r = h.run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^whitemagic: error: /);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
    expect(h.run(['list']).stdout).toBe('');
  });

  it('fails with exit 1 naming an unreadable --content-file', () => {
    const r = h.run(['create', '--title', 't', '--content-file', join(h.home, 'missing.md')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^whitemagic: error: --content-file: cannot read .*missing\.md/);
    const bin = join(h.home, 'bin.md');
    writeFileSync(bin, Buffer.from([0x41, 0, 0x42]));
    const b = h.run(['create', '--title', 't', '--content-file', bin]);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/binary/);
  });
});

describe('show and REF resolution', () => {
  it('finds by id, prefix and file name, shows front matter and body', () => {
    const id = create(['--title', 'Find me', '--content', 'Body here', '--tag', 'x']);
    const [file] = readdirSync(shortTerm());
    for (const ref of [id, id.slice(0, 20), id.slice(0, 20).toUpperCase(), file, file.replace(/\.md$/, '')]) {
      const r = h.run(['show', ref]);
      expect(r.code, ref).toBe(0);
      expect(r.stdout).toContain('title: Find me');
      expect(r.stdout).toContain('type: short_term');
      expect(r.stdout).toContain('Body here');
    }
  });

  it('lists the candidates of an ambiguous prefix (exit 1)', () => {
    const ids = Array.from({ length: 3 }, (_, i) => create(['--title', `m${i}`, '--content', 'x']));
    // Ids made in the same minute share their first characters.
    const prefix = ids[0].slice(0, 4);
    expect(ids.every((id) => id.startsWith(prefix))).toBe(true);
    const r = h.run(['show', prefix]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/matches 3 memories/);
    for (const id of ids) expect(r.stderr).toContain(id);
  });

  it('refuses REFs that look like paths, and unknown ones', () => {
    create(['--title', 'x', '--content', 'x']);
    for (const ref of ['../../etc/passwd', '/etc/passwd', 'a/b', '..', 'x\u0001y']) {
      const r = h.run(['show', ref]);
      expect(r.code, ref).toBe(2);
      expect(r.stderr).toMatch(/invalid REF/);
      expect(r.stdout).toBe('');
    }
    const r = h.run(['show', 'zzzzzzzz']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^whitemagic: error: memory not found: zzzzzzzz/);
    expect(h.run(['show', 'abc']).code).toBe(1);
  });
});

describe('list', () => {
  it('lists newest first, filters and sorts, tab-separated off a terminal', () => {
    const a = create(['--title', 'alpha', '--content', 'x', '--tag', 'one']);
    const b = create(['--title', 'bravo', '--content', 'x', '--tag', 'one', '--tag', 'two']);
    const c = create(['--title', 'charlie', '--content', 'x', '--type', 'long_term']);
    h.run(['delete', a]);
    const lines = h.run(['list']).stdout.trim().split('\n');
    expect(lines.map((l) => l.split('\t')[0])).toEqual([c, b]);
    expect(lines[1].split('\t')).toEqual([b, 'short_term', expect.any(String), 'bravo', 'one,two']);
    const ids = (args: string[]) => json(h.run(['list', '--json', ...args])).memories.map((m: { id: string }) => m.id);
    expect(ids(['--include-archived'])).toEqual([c, b, a]);
    expect(ids(['--type', 'archive'])).toEqual([a]);
    expect(ids(['--tag', 'one', '--include-archived'])).toEqual([b, a]);
    expect(ids(['--tag', 'one', '--tag', 'TWO'])).toEqual([b]);
    expect(ids(['--sort', 'title'])).toEqual([b, c]);
    expect(ids(['--reverse'])).toEqual([b, c]);
    expect(ids(['--limit', '1'])).toEqual([c]);
    expect(json(h.run(['list', '--json', '--limit', '1'])).total).toBe(2);
    expect(ids(['--since', '1h'])).toEqual([c, b]);
    expect(ids(['--until', '2000-01-01'])).toEqual([]);
    expect(ids(['--since', '2000-01-01T00:00:00Z'])).toEqual([c, b]);
  });

  it('refuses bad filter values with exit 2', () => {
    for (const args of [['--limit', '0'], ['--limit', 'x'], ['--since', 'yesterday'], ['--sort', 'size'], ['--type', 'mid_term']]) {
      const r = h.run(['list', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^whitemagic: error: /);
    }
  });
});

describe('update', () => {
  it('changes fields in place; updated moves, created and id never', async () => {
    const id = create(['--title', 'before', '--content', 'old', '--tag', 'a', '--tag', 'b', '--meta', 'keep=me']);
    const before = json(h.run(['show', id, '--json']));
    await new Promise((r) => setTimeout(r, 20));
    const r = h.run(['update', id, '--title', 'after', '--content', 'new', '--add-tag', 'C', '--remove-tag', 'a', '--meta', 'extra=1']);
    expect(r.code).toBe(0);
    const after = json(h.run(['show', id, '--json']));
    expect(after).toMatchObject({ id, title: 'after', content: 'new', tags: ['b', 'c'], created: before.created });
    expect(after.meta).toEqual({ keep: 'me', extra: '1' });
    expect(after.updated > before.updated).toBe(true);
    expect(readdirSync(shortTerm())).toHaveLength(1);
  });

  it('replaces tags, moves between types, reads content from stdin', () => {
    const id = create(['--title', 't', '--content', 'x', '--tag', 'a']);
    expect(h.run(['update', id, '--replace-tags', 'x, Y,x', '--type', 'long_term', '--stdin'], { input: 'piped' }).code).toBe(0);
    const m = json(h.run(['show', id, '--json']));
    expect(m).toMatchObject({ tags: ['x', 'y'], type: 'long_term', content: 'piped' });
    expect(readdirSync(shortTerm())).toHaveLength(0);
  });

  it('refuses an update with nothing to change (exit 2) and an unknown REF (exit 1)', () => {
    const id = create(['--title', 't', '--content', 'x']);
    expect(h.run(['update', id]).code).toBe(2);
    const r = h.run(['update', 'nosuchmemory', '--title', 'x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/memory not found/);
  });
});

describe('delete and restore', () => {
  it('archives, restores to where it was, and removes for good', () => {
    const id = create(['--title', 't', '--content', 'x', '--type', 'long_term']);
    expect(h.run(['delete', id]).code).toBe(0);
    expect(json(h.run(['show', id, '--json'])).type).toBe('archive');
    expect(h.run(['list', '--json']).stdout).not.toContain(id);
    const again = h.run(['delete', id]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/archived already/);
    expect(h.run(['restore', id]).code).toBe(0);
    const m = json(h.run(['show', id, '--json']));
    expect(m.type).toBe('long_term');
    expect(m.meta).toEqual({});
    const notArchived = h.run(['restore', id]);
    expect(notArchived.code).toBe(1);
    expect(notArchived.stderr).toMatch(/not archived/);
    expect(h.run(['delete', id, '--permanent', '--json']).code).toBe(0);
    expect(h.run(['show', id]).code).toBe(1);
  });

  it('restores to the type asked for', () => {
    const id = create(['--title', 't', '--content', 'x']);
    h.run(['delete', id]);
    expect(h.run(['restore', id, '--type', 'long_term']).code).toBe(0);
    expect(json(h.run(['show', id, '--json'])).type).toBe('long_term');
  });
});

describe('tags and stats', () => {
  it('counts tags and memories by type', () => {
    create(['--title', 'a', '--content', 'x', '--tag', 'one', '--tag', 'two']);
    create(['--title', 'b', '--content', 'x', '--tag', 'one', '--type', 'long_term']);
    expect(h.run(['tags']).stdout).toBe('one\t2\ntwo\t1\n');
    expect(json(h.run(['tags', '--json'])).tags).toEqual([
      { tag: 'one', count: 2 },
      { tag: 'two', count: 1 },
    ]);
    const s = json(h.run(['stats', '--json']));
    expect(s).toMatchObject({ total: 2, counts: { short_term: 1, long_term: 1, archive: 0 }, backend: 'markdown' });
    expect(s.bytes).toBeGreaterThan(100);
    expect(h.run(['stats']).stdout).toMatch(/memories: +2/);
  });
});
