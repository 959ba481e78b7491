import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listLimits, toListQuery } from '../../src/commands/list.js';
import { headerJson, listTableLimits, listTablePieces, renderListPlain } from '../../src/output/memory.js';
import { plainStyle } from '../../src/output/style.js';
import { loadBackend } from '../../src/storage/registry.js';
import { BIN, makeHome, type Home } from '../helpers/cli.js';
import { availableBackends, oldMemory, seedContext } from '../helpers/lifecycle.js';

const backends = await availableBackends();

let home: Home;
beforeEach(() => {
  home = makeHome('wm-list-pages-');
});
afterEach(() => home.cleanup());

describe.each(backends)('list off a terminal, written a page at a time (%s)', (backend) => {
  it('prints what one listing of every memory prints, as lines and as JSON, past several pages', async () => {
    const dir = join(home.home, 'ctx');
    const now = Date.now();
    // More than two pages, with runs created at the same millisecond.
    const count = 2 * listLimits.page + 3;
    await seedContext(home, dir, backend, Array.from({ length: count }, (_, i) => oldMemory(Math.floor(i / 4) / 1000, { title: `Memory ${i}`, tags: [`t${i % 3}`] }, now)));
    const storage = (await loadBackend(backend)).open(dir, {});
    const whole = storage.list(toListQuery({}));
    storage.close();
    expect(whole.memories).toHaveLength(count);

    const plain = home.run(['--base-dir', dir, 'list']);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toBe(`${renderListPlain(whole.memories)}\n`);
    const asJson = home.run(['--base-dir', dir, '--json', 'list']);
    expect(asJson.code).toBe(0);
    expect(asJson.stdout).toBe(`${JSON.stringify({ memories: whole.memories.map(headerJson), total: whole.total, problems: whole.problems }, null, 2)}\n`);
    // A limit past the first page, and none at all (an empty list).
    const limited = home.run(['--base-dir', dir, '--json', 'list', '--limit', String(listLimits.page + 2)]);
    expect(JSON.parse(limited.stdout).memories.map((m: { id: string }) => m.id)).toEqual(whole.memories.slice(0, listLimits.page + 2).map((m) => m.id));
    const none = home.run(['--base-dir', dir, '--json', 'list', '--type', 'archive']);
    expect(none.stdout).toBe(`${JSON.stringify({ memories: [], total: 0, problems: [] }, null, 2)}\n`);
    if (backend === 'markdown') {
      // A damaged catalog and a file that does not parse (SPEC section 9): the pages come from a
      // scan, with the same memories, and the bad file is named once, not once a page.
      writeFileSync(join(dir, '.whitemagic-catalog.tsv'), 'whitemagic-catalog 4 1e99\ngarbage\n');
      writeFileSync(join(dir, 'memory', 'short_term', 'broken.md'), '---\ntitle: [unclosed\n---\nbody\n');
      const again = home.run(['--base-dir', dir, 'list']);
      expect(again.code).toBe(0);
      expect(again.stdout).toBe(plain.stdout);
      expect(again.stderr.match(/broken\.md/g)).toHaveLength(1);
    }
  });
});

describe.each(backends)('list on a terminal, drawn a part at a time (%s)', (backend) => {
  it('draws one table of every memory, as the renderer draws it', async () => {
    const dir = join(home.home, 'ctx');
    const now = Date.now();
    const count = 2 * listTableLimits.rows + 7;
    await seedContext(home, dir, backend, Array.from({ length: count }, (_, i) => oldMemory(i / 1000, { title: `Memory ${i}`, tags: i % 2 ? ['odd'] : [] }, now)));
    const storage = (await loadBackend(backend)).open(dir, {});
    const whole = storage.list(toListQuery({}));
    storage.close();
    let expected = '';
    for await (const part of listTablePieces([whole], plainStyle, whole.total)) expected += `${part}\n`;

    // A terminal of 120 columns (the renderer's width off one), through util-linux's script(1).
    const command = `stty cols 120 rows 40; exec '${process.execPath}' '${BIN}' --base-dir '${dir}' list`;
    const r = spawnSync('script', ['-qec', command, '/dev/null'], { env: home.env, cwd: home.home, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    // script(1) is util-linux's (Debian's bsdutils, always installed): its absence is a failure that says so.
    expect(r.error?.message).toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    const printed = r.stdout.replaceAll('\r\n', '\n');
    expect(printed).toBe(expected);
    expect(printed.split('\n').filter((l) => l.includes('TITLE'))).toHaveLength(1);
  });
});
