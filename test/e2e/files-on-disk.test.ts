import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { json, makeHome, type Home } from '../helpers/cli.js';

let h: Home;
beforeEach(() => {
  h = makeHome();
});
afterEach(() => h.cleanup());

const ctxDir = () => join(h.wmHome, 'default');
const folder = (type: string) => join(ctxDir(), 'memory', type);
const listJson = (args: string[] = []) => json(h.run(['list', '--json', '--include-archived', ...args]));

describe('files edited by hand', () => {
  it('are seen by the next command: edited, added, copied, moved and deleted', () => {
    const id = h.run(['create', '--title', 'Original', '--content', 'body']).stdout.trim();
    const [file] = readdirSync(folder('short_term'));
    const path = join(folder('short_term'), file);

    writeFileSync(path, readFileSync(path, 'utf8').replace('title: Original', 'title: Edited by hand').replace('body', 'new body'));
    expect(json(h.run(['show', id, '--json']))).toMatchObject({ title: 'Edited by hand', content: 'new body' });

    writeFileSync(join(folder('short_term'), 'by-hand.md'), '---\ntitle: Written by hand\ntags: [x]\n---\nhello\n');
    const handMade = listJson().memories.find((m: { title: string }) => m.title === 'Written by hand');
    expect(handMade).toMatchObject({ name: 'by-hand', tags: ['x'] });
    // A file without an id gets a stable one derived from its name.
    expect(listJson().memories.find((m: { name: string }) => m.name === 'by-hand').id).toBe(handMade.id);
    expect(json(h.run(['show', 'by-hand.md', '--json'])).id).toBe(handMade.id);
    // Its first update writes that id into the file.
    expect(h.run(['update', 'by-hand', '--add-tag', 'y']).code).toBe(0);
    expect(readFileSync(join(folder('short_term'), 'by-hand.md'), 'utf8')).toContain(`id: ${handMade.id}`);

    mkdirSync(folder('long_term'), { recursive: true });
    renameSync(path, join(folder('long_term'), file));
    expect(json(h.run(['show', id, '--json'])).type).toBe('long_term');

    rmSync(join(folder('long_term'), file));
    expect(h.run(['show', id]).code).toBe(1);
    expect(listJson().memories).toHaveLength(1);
  });

  it('reports a malformed file by name and still lists the rest', () => {
    h.run(['create', '--title', 'Good one', '--content', 'fine']);
    writeFileSync(join(folder('short_term'), 'broken.md'), '---\ntitle: [unclosed\ntags: : :\n---\nbody\n');
    writeFileSync(join(folder('short_term'), 'binary.md'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0]));
    writeFileSync(join(folder('short_term'), 'code.md'), '---js\n{ title: require("fs") }\n---\nbody\n');
    const r = h.run(['list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\tGood one\t/);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^whitemagic: warning: memory\/short_term\/binary\.md: binary content/m);
    expect(r.stderr).toMatch(/^whitemagic: warning: memory\/short_term\/broken\.md: cannot parse front matter/m);
    expect(r.stderr).toMatch(/^whitemagic: warning: memory\/short_term\/code\.md: .*not allowed/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(h.run(['list', '--quiet']).stderr).toBe('');
    const j = listJson();
    expect(j.problems.map((p: { path: string }) => p.path).sort()).toEqual([
      'memory/short_term/binary.md',
      'memory/short_term/broken.md',
      'memory/short_term/code.md',
    ]);
  });

  it('never shows temporary or dot files as memories', () => {
    h.run(['create', '--title', 'Real', '--content', 'x']);
    writeFileSync(join(folder('short_term'), 'half-written.md.3f2a1b'), '---\ntitle: temp\n---\n');
    writeFileSync(join(folder('short_term'), '.hidden.md'), '---\ntitle: hidden\n---\n');
    writeFileSync(join(folder('short_term'), 'notes.txt'), 'not markdown');
    expect(listJson().memories.map((m: { title: string }) => m.title)).toEqual(['Real']);
  });

  it('keeps a hand copy with a duplicate id out of the list, and reports it', () => {
    const id = h.run(['create', '--title', 'Once', '--content', 'x']).stdout.trim();
    const [file] = readdirSync(folder('short_term'));
    copyFileSync(join(folder('short_term'), file), join(folder('short_term'), 'copy.md'));
    const j = listJson();
    expect(j.memories.filter((m: { id: string }) => m.id === id)).toHaveLength(1);
    expect(j.problems[0].message).toMatch(/duplicate id/);
  });
});

describe('a whitemagic 2.x directory', () => {
  it('reads as is: comma tags, no ids, folder types, no manifest until the first write', () => {
    const dir = join(h.home, 'legacy');
    mkdirSync(join(dir, 'memory', 'short_term'), { recursive: true });
    mkdirSync(join(dir, 'memory', 'long_term'), { recursive: true });
    writeFileSync(
      join(dir, 'memory', 'short_term', '20240115_103000_debugging_notes.md'),
      '---\ntitle: Debugging notes\ncreated: 2024-01-15T10:30:00\ntags: python, Debugging , async\n---\n\nThe event loop was blocked.\n',
    );
    writeFileSync(
      join(dir, 'memory', 'long_term', '20231201_090000_architecture.md'),
      '---\ntitle: "Architecture: decisions"\ncreated: 2023-12-01T09:00:00\ntags: design\n---\n# Decisions\n\nUse queues.\n',
    );
    writeFileSync(join(dir, 'memory', 'metadata.json'), '{"memories": {}}');

    const ls = json(h.run(['--base-dir', dir, 'list', '--json']));
    expect(ls.problems).toEqual([]);
    expect(ls.memories.map((m: { title: string; type: string; tags: string[]; created: string }) => [m.title, m.type, m.tags, m.created])).toEqual([
      ['Debugging notes', 'short_term', ['python', 'debugging', 'async'], '2024-01-15T10:30:00.000Z'],
      ['Architecture: decisions', 'long_term', ['design'], '2023-12-01T09:00:00.000Z'],
    ]);
    const st = json(h.run(['--base-dir', dir, 'status', '--json']));
    expect(st).toMatchObject({ state: 'legacy', backend: 'markdown', total: 2 });
    expect(existsSync(join(dir, 'whitemagic.json'))).toBe(false);

    const id = ls.memories[0].id;
    expect(json(h.run(['--base-dir', dir, 'show', id, '--json'])).content).toBe('The event loop was blocked.');
    expect(h.run(['--base-dir', dir, 'create', '--title', 'new', '--content', 'x']).code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'whitemagic.json'), 'utf8')).backend).toBe('markdown');
    expect(json(h.run(['--base-dir', dir, 'show', id, '--json'])).id).toBe(id);
    expect(existsSync(join(dir, 'memory', 'metadata.json'))).toBe(true);
  });
});

describe('concurrent writers', () => {
  it('8 processes creating 50 memories each: all 400 present and parseable', async () => {
    // Each worker is one shell loop of 50 `create`s; the 8 loops run at the same time.
    const script = (w: number) =>
      `for i in $(seq 1 50); do node "$BIN" create --title "worker ${w} memory $i" --content "body $i" --tag w${w} >/dev/null || exit 1; done`;
    const { BIN } = await import('../helpers/cli.js');
    const { spawn } = await import('node:child_process');
    const runs = Array.from({ length: 8 }, (_, w) =>
      new Promise<number>((resolve) => {
        const child = spawn('bash', ['-c', script(w)], { env: { ...h.env, BIN }, stdio: 'ignore' });
        child.on('close', (code) => resolve(code ?? -1));
      }),
    );
    expect(await Promise.all(runs)).toEqual(Array(8).fill(0));
    const j = listJson();
    expect(j.problems).toEqual([]);
    expect(j.memories).toHaveLength(400);
    expect(new Set(j.memories.map((m: { id: string }) => m.id)).size).toBe(400);
    const titles = new Set(j.memories.map((m: { title: string }) => m.title));
    for (let w = 0; w < 8; w++) for (let i = 1; i <= 50; i++) expect(titles.has(`worker ${w} memory ${i}`)).toBe(true);
    expect(readdirSync(folder('short_term')).filter((f) => !f.endsWith('.md'))).toEqual([]);
  }, 240_000);
});
