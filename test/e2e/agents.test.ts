import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryManager } from 'whitemagic';
import { BIN, json, makeHome, type Home } from '../helpers/cli.js';

let h: Home;
beforeEach(() => {
  h = makeHome('wm-agents-');
});
afterEach(() => h.cleanup());

describe('context --tier', () => {
  async function seed(base: string) {
    const wm = new MemoryManager({ baseDir: base, env: h.env });
    const long = 'word '.repeat(500).trim();
    for (let i = 1; i <= 12; i++) {
      await wm.createMemory({ title: `Short ${i}`, content: `## Note ${i}\n\n**Bold** ${long}`, tags: i % 2 ? ['odd'] : [] });
    }
    for (let i = 1; i <= 6; i++) await wm.createMemory({ title: `Long ${i}`, type: 'long_term', content: `*Summary* ${i} ${long}` });
    await wm.deleteMemory((await wm.listMemories({ type: 'short_term', limit: 1 })).memories[0].id);
  }

  it('gives each tier its memories, newest first, markdown stripped, cut to size', async () => {
    const base = join(h.home, 'proj');
    await seed(base); // Short 12 is archived: it never shows.
    const tier = (t: string) => {
      const r = h.run(['--base-dir', base, 'context', '--tier', t, '--json']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return json(r);
    };
    const t0 = tier('0');
    expect(t0.shortTerm.map((m: { title: string }) => m.title)).toEqual(['Short 11', 'Short 10']);
    expect(t0.longTerm).toEqual([]);
    expect(t0.totals).toEqual({ shortTerm: 11, longTerm: 6 });
    expect(t0.shortTerm[0].text.startsWith('Note 11\n\nBold word word')).toBe(true);
    expect(t0.shortTerm[0].text.replace(' …', '').split(/\s+/)).toHaveLength(80);
    expect(t0.shortTerm[0].truncated).toBe(true);

    const t1 = tier('1');
    expect(t1.shortTerm.map((m: { title: string }) => m.title)).toEqual(['Short 11', 'Short 10', 'Short 9', 'Short 8', 'Short 7']);
    expect(t1.longTerm.map((m: { title: string }) => m.title)).toEqual(['Long 6', 'Long 5']);
    for (const m of t1.shortTerm) expect(m.text.length).toBeLessThanOrEqual(1200);
    expect(t1.shortTerm[0].text.length).toBeGreaterThan(1100);
    expect(t1.longTerm[0].text.replace(' …', '').split(/\s+/)).toHaveLength(80);
    expect(t1.longTerm[0].text.startsWith('Summary 6 word')).toBe(true);

    const t2 = tier('2');
    expect(t2.shortTerm).toHaveLength(10);
    expect(t2.longTerm.map((m: { title: string }) => m.title)).toEqual(['Long 6', 'Long 5', 'Long 4', 'Long 3', 'Long 2']);
    for (const m of [...t2.shortTerm, ...t2.longTerm]) expect(m.text.length).toBeLessThanOrEqual(2000);
    expect(t2.shortTerm[0].text.length).toBeGreaterThan(1900);
  });

  it('prints the text format by default (tier 1) and refuses an unknown tier', async () => {
    const base = join(h.home, 'proj');
    const wm = new MemoryManager({ baseDir: base, env: h.env });
    const m = await wm.createMemory({ title: 'Decision', content: 'We use **SQLite** for [search](http://x.test).', tags: ['decision'] });
    const r = h.run(['--base-dir', base, 'context']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        '# whitemagic context: proj (tier 1)',
        '',
        'Short-term memories: 1 of 1. Long-term memories: 0 of 0. Newest first.',
        '',
        '## Short-term memories',
        '',
        '### Decision',
        `id: ${m.id} | created: ${m.created} | tags: decision`,
        '',
        'We use SQLite for search.',
        '',
        '## Long-term memories',
        '',
        '(none)',
        '',
      ].join('\n'),
    );
    const bad = h.run(['--base-dir', base, 'context', '--tier', '5']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^whitemagic: error: .*'5' is invalid.*0, 1, 2/);
    const missing = h.run(['--base-dir', join(h.home, 'nowhere'), 'context']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^whitemagic: error: context not found: /);
  });
});

describe('create --edit and edit REF', () => {
  /** A fake editor: a real script that replaces the file it is given with `text` (or runs `body`). */
  function editor(name: string, body: string): string {
    const path = join(h.home, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  }
  function writes(name: string, text: string): string {
    const content = join(h.home, `${name}.txt`);
    writeFileSync(content, text);
    // The last argument is the file, like git; earlier ones are the editor's own.
    return editor(name, `for last; do :; done\ncat ${JSON.stringify(content)} > "$last"`);
  }

  it('create --edit opens a template and saves what was written', () => {
    const ed = writes('ed', '---\ntitle: Written in the editor\ntags: [One, two]\ntype: long_term\nsource: editor\n---\n\n# Body\n\ntext\n');
    const r = h.run(['create', '--edit'], { env: { EDITOR: `${ed} --wait` } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const m = json(h.run(['show', r.stdout.trim(), '--json']));
    expect(m).toMatchObject({ title: 'Written in the editor', tags: ['one', 'two'], type: 'long_term', meta: { source: 'editor' }, content: '# Body\n\ntext' });
  });

  it('fills the template from the options given, and $VISUAL wins over $EDITOR', () => {
    const seen = join(h.home, 'seen.md');
    const visual = editor('visual', `cp "$1" ${JSON.stringify(seen)}\nprintf 'added body\\n' >> "$1"`);
    const r = h.run(['create', '--edit', '--title', 'Prefilled', '--tag', 'Pre'], { env: { VISUAL: visual, EDITOR: 'false' } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const template = readFileSync(seen, 'utf8');
    expect(template).toMatch(/^---\n# Write the title and tags here/);
    expect(template).toContain('title: Prefilled\ntype: short_term\ntags: [pre]\n---\n');
    expect(json(h.run(['show', r.stdout.trim(), '--json']))).toMatchObject({ title: 'Prefilled', tags: ['pre'], content: 'added body' });
  });

  it('an empty file cancels and saves nothing', () => {
    const ed = editor('empty', ': > "$1"');
    const r = h.run(['create', '--edit'], { env: { EDITOR: ed } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('whitemagic: error: cancelled: the edited memory is empty (hint: nothing was saved)\n');
    expect(r.stdout).toBe('');
    expect(existsSync(join(h.wmHome, 'default'))).toBe(false);
    const untouched = h.run(['create', '--edit'], { env: { EDITOR: 'true' } });
    expect(untouched.code).toBe(1);
    expect(untouched.stderr).toContain('cancelled');
  });

  it('a failing editor or a broken front matter saves nothing and says where the text is', () => {
    const failing = h.run(['create', '--edit'], { env: { EDITOR: 'exit 3;' } });
    expect(failing.code).toBe(1);
    expect(failing.stderr).toMatch(/^whitemagic: error: the editor 'exit 3;' exited with 3 \(hint: nothing was saved; your text is in .*MEMORY\.md\)\n$/);
    const broken = writes('broken', '---\ntitle: [unclosed\n---\nbody\n');
    const r = h.run(['create', '--edit'], { env: { EDITOR: broken } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^whitemagic: error: the edited front matter is not valid YAML: .*\(hint: your text is kept in (.*MEMORY\.md)\)\n$/);
    const kept = /kept in (.*MEMORY\.md)/.exec(r.stderr)![1];
    expect(readFileSync(kept, 'utf8')).toContain('title: [unclosed');
    const noTitle = writes('notitle', '---\ntitle: ""\n---\nonly a body\n');
    const t = h.run(['create', '--edit'], { env: { EDITOR: noTitle } });
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/^whitemagic: error: the title is empty/);
  });

  it('edit REF changes the memory in place, keeps id and created, and reports no changes', () => {
    const id = h.run(['create', '--title', 'Old title', '--content', 'old body', '--tag', 'keep', '--meta', 'source=x']).stdout.trim();
    const before = json(h.run(['show', id, '--json']));
    const same = h.run(['edit', id.slice(0, 6)], { env: { EDITOR: 'true' } });
    expect(same.stderr).toBe('');
    expect(same.code).toBe(0);
    expect(same.stdout).toBe(`no changes to ${id}\n`);

    const ed = editor('sed', `sed -i -e 's/^title: Old title$/title: New title/' -e 's/^old body$/new body/' -e 's/^tags: \\[keep\\]$/tags: [keep, more]/' "$1"`);
    const r = h.run(['edit', id], { env: { EDITOR: ed } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`updated ${id}\n`);
    const after = json(h.run(['show', id, '--json']));
    expect(after).toMatchObject({ id, title: 'New title', content: 'new body', tags: ['keep', 'more'], created: before.created, meta: { source: 'x' } });
    expect(after.updated > before.updated).toBe(true);

    // A key deleted in the editor is deleted from the memory; one added is kept.
    const rekey = h.run(['edit', id], { env: { EDITOR: editor('rekey', `sed -i -e 's/^source: x$/status: draft/' "$1"`) } });
    expect(rekey.stderr).toBe('');
    expect(json(h.run(['show', id, '--json'])).meta).toEqual({ status: 'draft' });

    const cancel = h.run(['edit', id], { env: { EDITOR: editor('wipe', ': > "$1"') } });
    expect(cancel.code).toBe(1);
    expect(cancel.stderr).toContain('cancelled');
    expect(json(h.run(['show', id, '--json'])).title).toBe('New title');

    const unknown = h.run(['edit', 'zzzzzz'], { env: { EDITOR: 'true' } });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^whitemagic: error: memory not found: zzzzzz/);
  });

  it('refuses to overwrite a change made while the editor was open', () => {
    const id = h.run(['create', '--title', 'Shared', '--content', 'v1']).stdout.trim();
    const meanwhile = editor(
      'meanwhile',
      `WHITEMAGIC_HOME=${JSON.stringify(h.wmHome)} ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} update ${id} --content v2 && sed -i 's/^v1$/mine/' "$1"`,
    );
    const r = h.run(['edit', id], { env: { EDITOR: meanwhile } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^whitemagic: error: memory ${id} changed while it was being edited \\(hint: your text is kept in .*MEMORY\\.md\\)`));
    expect(json(h.run(['show', id, '--json'])).content).toBe('v2');
  });
});
