import { spawnSync } from 'node:child_process';
import { chmodSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryManager } from '../../src/index.js';
import { handTo, makeHome, UNPRIVILEGED, type Home, type RunResult } from '../helpers/cli.js';
import { availableBackends, expectCleanFailure, expectNoStack, expectOk, hasCommands, inspectContext, snapshotTree, treeChanges } from './helpers.js';
import { ARCHIVE_CASES } from './hostile-archives.js';

/**
 * SPEC section 9, hostile input: malformed files, hostile YAML, binary files, huge bodies, names
 * and REFs that try to escape, bad contexts. Each case: a clear error (one line, right exit code)
 * or a warning naming the file; never a stack trace; nothing written outside the context; the
 * context's good memory still there. Adding a case is one entry in CASES.
 */

export interface HostileEnv {
  h: Home;
  /** The context the case works on; it holds one good memory, `good`. */
  dir: string;
  good: string;
  /** Where a case may put files of its own, outside the context (not watched). */
  scratch: string;
  short: string;
}

export interface HostileCase {
  name: string;
  /** Commands of the bin it needs (skipped until they land). */
  commands?: string[];
  backend?: string;
  setup?(e: HostileEnv): void | Promise<void>;
  args(e: HostileEnv): string[];
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** Exit code, and what stderr must say: the error line, or a warning naming the file. */
  code: 0 | 1 | 2;
  stderr?: RegExp;
  /** The case may make the context unreadable on purpose: skip the "good memory" check. */
  breaksContext?: boolean;
  after?(e: HostileEnv, r: RunResult): void | Promise<void>;
}

const md = (front: string, body = 'body') => `---\n${front}\n---\n${body}\n`;
const put = (name: string, text: string | Buffer) => (e: HostileEnv) => writeFileSync(join(e.short, name), text);
const list = (e: HostileEnv) => ['--base-dir', e.dir, 'list', '--include-archived'];
const show = (ref: string) => (e: HostileEnv) => ['--base-dir', e.dir, 'show', ref];
const create = (...extra: string[]) => (e: HostileEnv) => ['--base-dir', e.dir, 'create', '--title', 'new', ...extra];
const warnsAbout = (file: string) => new RegExp(`warning: memory/short_term/${file.replace(/[.]/g, '\\.')}: `);

function aliasBomb(levels: number): string {
  const lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
  for (let i = 1; i < levels; i++) lines.push(`a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(', ')}]`);
  return lines.join('\n');
}

const CASES: HostileCase[] = [
  // Hostile and malformed YAML: read or reported by name, never a crash, never an expansion.
  { name: 'YAML alias bomb (billion laughs)', setup: put('bomb.md', md(`title: bomb\n${aliasBomb(10)}`)), args: list, code: 0, stderr: warnsAbout('bomb.md') },
  { name: 'YAML alias bomb, shown by REF', setup: put('bomb.md', md(`title: bomb\n${aliasBomb(9)}`)), args: show('bomb.md'), code: 1, stderr: /not found/ },
  { name: 'YAML nested 10,000 levels deep', setup: put('deep.md', md(`title: deep\nx: ${'['.repeat(10_000)}${']'.repeat(10_000)}`)), args: list, code: 0, stderr: warnsAbout('deep.md') },
  { name: 'YAML nested 100 levels deep', setup: put('deep.md', md(`title: deep\nx: ${'['.repeat(100)}${']'.repeat(100)}`)), args: list, code: 0, stderr: warnsAbout('deep.md') },
  { name: 'YAML syntax error', setup: put('bad.md', md('title: [unclosed')), args: list, code: 0, stderr: warnsAbout('bad.md') },
  { name: 'YAML duplicate keys (the last wins)', setup: put('dup.md', md('title: a\ntitle: b')), args: list, code: 0 },
  { name: 'YAML custom tag !!js/function', setup: put('fn.md', md('title: !!js/function "function () { return 1 }"')), args: list, code: 0, stderr: warnsAbout('fn.md') },
  { name: 'YAML !!binary tag', setup: put('bin.md', md('title: !!binary aGVsbG8=')), args: list, code: 0, stderr: warnsAbout('bin.md') },
  { name: 'front matter in JavaScript', setup: put('js.md', '---js\n{ title: require("fs").writeFileSync("/tmp/owned", "x") }\n---\n'), args: list, code: 0, stderr: warnsAbout('js.md') },
  { name: 'front matter never closed', setup: put('open.md', '---\ntitle: open\nbody without end\n'), args: list, code: 0, stderr: warnsAbout('open.md') },
  { name: 'front matter is a list', setup: put('list.md', md('- a\n- b')), args: list, code: 0 },
  { name: 'front matter is a scalar', setup: put('scalar.md', md('just a string')), args: list, code: 0 },
  { name: 'a 5 MB title value', setup: put('huge.md', md(`title: ${'x'.repeat(5_000_000)}`)), args: list, code: 0 },
  { name: 'a 5 MB front-matter key count', setup: put('keys.md', md(Array.from({ length: 200_000 }, (_, i) => `k${i}: ${i}`).join('\n'))), args: list, code: 0, stderr: warnsAbout('keys.md') },
  { name: 'tags as a map', setup: put('tm.md', md('title: t\ntags: {a: 1}')), args: list, code: 0 },
  { name: 'tags as a number', setup: put('tn.md', md('title: t\ntags: 5')), args: list, code: 0 },
  { name: 'tags holding objects and nulls', setup: put('to.md', md('title: t\ntags: [a, {b: 1}, null, [c]]')), args: list, code: 0 },
  { name: 'tags as a 100,000-item list', setup: put('tl.md', md(`title: t\ntags: [${Array.from({ length: 100_000 }, (_, i) => `t${i}`).join(', ')}]`)), args: list, code: 0, stderr: warnsAbout('tl.md') },
  { name: 'created that is not a date', setup: put('cd.md', md('title: t\ncreated: yesterday')), args: list, code: 0 },
  { name: 'created as a number and a list', setup: put('cn.md', md('title: t\ncreated: 12\nupdated: [1]')), args: list, code: 0 },
  { name: 'id as a list', setup: put('il.md', md('title: t\nid: [1, 2]')), args: list, code: 0 },
  { name: 'id with a path', setup: put('ip.md', md('title: t\nid: "../../../../tmp/escape"')), args: list, code: 0, stderr: warnsAbout('ip.md') },
  { name: 'id with a NUL and control characters', setup: put('in.md', md('title: t\nid: "abc\\0def\\x1b[31m"')), args: list, code: 0, stderr: warnsAbout('in.md') },
  {
    name: 'title with terminal escapes is shown without them',
    setup: put('esc.md', md('title: "\\e[2J\\e[31mred\\u0007"')),
    args: list,
    code: 0,
    after: (_e, r) => expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/),
  },
  { name: 'a byte-order mark and CRLF lines', setup: put('bom.md', '\ufeff---\r\ntitle: bom\r\n---\r\nbody\r\n'), args: list, code: 0 },

  // Files that are not markdown.
  { name: 'a binary file named .md', setup: put('binary.md', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3, 0, 255, 254])), args: list, code: 0, stderr: warnsAbout('binary.md') },
  { name: 'invalid UTF-8 named .md', setup: put('latin.md', Buffer.from([0x2d, 0x2d, 0x2d, 0x0a, 0xe9, 0xe8, 0x0a, 0x2d, 0x2d, 0x2d, 0x0a])), args: list, code: 0 },
  { name: 'an empty file', setup: put('empty.md', ''), args: list, code: 0 },
  { name: 'a directory named .md', setup: (e) => mkdirSync(join(e.short, 'folder.md')), args: list, code: 0 },
  { name: 'a FIFO named .md (never opened)', setup: (e) => spawnSync('mkfifo', [join(e.short, 'pipe.md')]), args: list, code: 0 },
  { name: 'a 20 MB body placed by hand', setup: put('big.md', md('title: big', 'word '.repeat(4_000_000))), args: show('big.md'), code: 0 },
  {
    name: 'a 20 MB body through --content-file',
    setup: (e) => writeFileSync(join(e.scratch, 'big.txt'), 'word '.repeat(4_000_000)),
    args: (e) => create('--content-file', join(e.scratch, 'big.txt'))(e),
    code: 0,
  },
  { name: '--content-file that is binary', setup: (e) => writeFileSync(join(e.scratch, 'b.bin'), Buffer.from([1, 0, 2])), args: (e) => create('--content-file', join(e.scratch, 'b.bin'))(e), code: 1, stderr: /binary/ },
  { name: '--content-file that is missing', args: (e) => create('--content-file', join(e.scratch, 'nope.txt'))(e), code: 1, stderr: /nope\.txt/ },
  { name: '--content-file that is a directory', args: (e) => create('--content-file', e.scratch)(e), code: 1, stderr: /directory/ },
  { name: 'binary content on stdin', args: create('--stdin'), input: 'a\u0000b', code: 1, stderr: /binary/ },

  // Links: never followed out of the context; writes never go through them.
  { name: 'a memory file that is a symlink to a file outside', setup: (e) => symlinkSync(join(e.scratch, 'secret.md'), join(e.short, 'link.md')), args: list, code: 0, stderr: warnsAbout('link.md') },
  {
    name: 'a memory type folder that is a symlink outside',
    setup: (e) => {
      mkdirSync(join(e.scratch, 'elsewhere'));
      writeFileSync(join(e.scratch, 'elsewhere', 'x.md'), md('title: outside'));
      rmSync(join(e.dir, 'memory', 'long_term'), { recursive: true, force: true });
      symlinkSync(join(e.scratch, 'elsewhere'), join(e.dir, 'memory', 'long_term'));
    },
    args: list,
    code: 0,
    stderr: /warning: memory\/long_term: is a symbolic link/,
    after: (_e, r) => expect(r.stdout).not.toMatch(/outside/),
  },
  {
    name: 'create refuses to write through a symlinked folder',
    setup: (e) => {
      mkdirSync(join(e.scratch, 'elsewhere'));
      rmSync(join(e.dir, 'memory', 'long_term'), { recursive: true, force: true });
      symlinkSync(join(e.scratch, 'elsewhere'), join(e.dir, 'memory', 'long_term'));
    },
    args: create('--content', 'x', '--type', 'long_term'),
    code: 1,
    stderr: /symbolic link/,
  },
  {
    name: 'a memory hard-linked to a file outside is replaced, not written through',
    setup: (e) => {
      writeFileSync(join(e.scratch, 'outside.md'), md('id: hardlinked1\ntitle: shared'));
      linkSync(join(e.scratch, 'outside.md'), join(e.short, 'hard.md'));
    },
    args: (e) => ['--base-dir', e.dir, 'update', 'hardlinked1', '--title', 'changed'],
    code: 0,
    after: (e) => expect(readFileSync(join(e.scratch, 'outside.md'), 'utf8')).toMatch(/title: shared/),
  },

  // REFs and names that try to be paths.
  { name: 'REF with ..', args: show('../../etc/passwd'), code: 2, stderr: /invalid REF/ },
  { name: 'REF with /', args: show('memory/short_term/x.md'), code: 2, stderr: /invalid REF/ },
  { name: 'REF with control characters', args: show('ab\u0001\u001b[31mcd'), code: 2, stderr: /invalid REF 'ab\\x01\\x1b\[31mcd'/ },
  { name: 'REF that is empty', args: show(' '), code: 2, stderr: /empty/ },
  { name: 'REF of 2 characters', args: show('01'), code: 2, stderr: /too short|not found/ },
  { name: 'update with a REF that escapes', args: (e) => ['--base-dir', e.dir, 'update', '../x', '--title', 'x'], code: 2, stderr: /invalid REF/ },
  { name: 'delete with a REF that escapes', args: (e) => ['--base-dir', e.dir, 'delete', '..', '--permanent'], code: 2, stderr: /invalid REF/ },
  { name: '--context with ..', args: () => ['--context', '../escape', 'create', '--title', 't', '--content', 'c'], code: 2, stderr: /invalid context name/ },
  { name: '--context with /', args: () => ['--context', 'a/b', 'list'], code: 2, stderr: /invalid context name/ },
  { name: '--context with control characters', args: () => ['--context', 'a\u0007b', 'list'], code: 2, stderr: /invalid context name 'a\\x07b'/ },
  { name: 'WHITEMAGIC_CONTEXT with ..', args: () => ['create', '--title', 't', '--content', 'c'], env: { WHITEMAGIC_CONTEXT: '../../tmp' }, code: 2, stderr: /invalid context name/ },
  { name: '--base-dir together with --context', args: (e) => ['--base-dir', e.dir, '--context', 'x', 'list'], code: 2, stderr: /together/ },
  { name: '--title with a newline', args: (e) => ['--base-dir', e.dir, 'create', '--title', 'a\nb', '--content', 'c'], code: 2, stderr: /one line/ },
  { name: '--title with control characters', args: (e) => ['--base-dir', e.dir, 'create', '--title', 'a\u001b[2Jb', '--content', 'c'], code: 2, stderr: /control/ },
  { name: '--title of 501 characters', args: (e) => ['--base-dir', e.dir, 'create', '--title', 'x'.repeat(501), '--content', 'c'], code: 2, stderr: /500/ },
  { name: '--meta key with a path', args: create('--content', 'c', '--meta', '../x=1'), code: 2, stderr: /plain name/ },
  { name: '--meta setting the id', args: create('--content', 'c', '--meta', 'id=../../x'), code: 2, stderr: /cannot set 'id'/ },
  { name: '--since that is not a date', args: (e) => ['--base-dir', e.dir, 'list', '--since', '$(rm -rf /)'], code: 2, stderr: /--since/ },

  // Contexts that are not what they seem.
  { name: 'a context that is a file', setup: (e) => writeFileSync(join(e.scratch, 'file-ctx'), 'x'), args: (e) => ['--base-dir', join(e.scratch, 'file-ctx'), 'list'], code: 1, stderr: /not a directory/ },
  {
    name: 'a named context that is a file',
    setup: (e) => {
      mkdirSync(e.h.wmHome, { recursive: true });
      writeFileSync(join(e.h.wmHome, 'filectx'), 'x');
    },
    args: () => ['--context', 'filectx', 'create', '--title', 't', '--content', 'c'],
    code: 1,
    stderr: /not a directory/,
  },
  { name: 'memory/short_term is a file', setup: (e) => (rmSync(e.short, { recursive: true }), writeFileSync(e.short, 'x')), args: create('--content', 'c'), code: 1, stderr: /short_term/, breaksContext: true },
  { name: 'listing when memory/short_term is a file', setup: (e) => (rmSync(e.short, { recursive: true }), writeFileSync(e.short, 'x')), args: list, code: 0, stderr: /warning: memory\/short_term: is not a directory/, breaksContext: true },
  { name: 'manifest that is not JSON', setup: (e) => writeFileSync(join(e.dir, 'whitemagic.json'), '{nope'), args: list, code: 1, stderr: /whitemagic\.json: the manifest is not valid JSON/, breaksContext: true },
  { name: 'manifest that is a list', setup: (e) => writeFileSync(join(e.dir, 'whitemagic.json'), '[]'), args: list, code: 1, stderr: /not a JSON object/, breaksContext: true },
  { name: 'manifest of a newer format', setup: (e) => writeFileSync(join(e.dir, 'whitemagic.json'), '{"format": 999, "backend": "markdown"}'), args: list, code: 1, stderr: /newer whitemagic/, breaksContext: true },
  { name: 'manifest naming an unknown backend', setup: (e) => writeFileSync(join(e.dir, 'whitemagic.json'), '{"format": 1, "backend": "../../evil"}'), args: list, code: 1, stderr: /unknown backend '\.\.\/\.\.\/evil'/, breaksContext: true },
  { name: 'a catalog full of garbage', setup: (e) => writeFileSync(join(e.dir, '.whitemagic-catalog.tsv'), 'whitemagic-catalog 2 1e99\nshort_term/../../x.md\t1\t2\t3\n"\\ud800\t\t\t\n\t\t\t\t\t\t\t\t\t\n'), args: list, code: 0 },
  { name: 'a catalog whose clean index is garbage', setup: (e) => writeFileSync(join(e.dir, '.whitemagic-catalog.tsv'), 'whitemagic-catalog 4 1e99 000000000039\n\u0020\u0000\u0000\u0000{"records":99,"folders":[1,2,3]}\u0000\u00ff'), args: list, code: 0 },
  { name: 'a catalog whose clean index lies past its end', setup: (e) => writeFileSync(join(e.dir, '.whitemagic-catalog.tsv'), 'whitemagic-catalog 4 1e99 999999999999\n'), args: list, code: 0 },
  { name: 'a catalog of an earlier version full of garbage', setup: (e) => writeFileSync(join(e.dir, '.whitemagic-catalog.json'), '{"version":1,"scannedAt":1e99,"count":-1,"files":{"short_term/../../x.md":[1,2,3]}}'), args: list, code: 0 },

  // SQLite files that are damaged.
  {
    name: 'a truncated whitemagic.db',
    backend: 'sqlite',
    setup: (e) => writeFileSync(join(e.dir, 'whitemagic.db'), readFileSync(join(e.dir, 'whitemagic.db')).subarray(0, 1500)),
    args: list,
    code: 1,
    stderr: /whitemagic\.db/,
    breaksContext: true,
  },
  {
    name: 'a corrupted whitemagic.db',
    backend: 'sqlite',
    setup: (e) => {
      const db = readFileSync(join(e.dir, 'whitemagic.db'));
      for (let i = 100; i < db.length; i += 7) db[i] = (db[i] * 31 + 7) & 0xff;
      writeFileSync(join(e.dir, 'whitemagic.db'), db);
    },
    args: list,
    code: 1,
    stderr: /whitemagic\.db/,
    breaksContext: true,
  },
  { name: 'whitemagic.db that is a directory', backend: 'sqlite', setup: (e) => (rmSync(join(e.dir, 'whitemagic.db')), mkdirSync(join(e.dir, 'whitemagic.db'))), args: list, code: 1, stderr: /whitemagic\.db/, breaksContext: true },

  ...ARCHIVE_CASES,
];

/** Makes the case's home, context and good memory, runs it, and checks the promises. */
async function runCase(c: HostileCase, backend: string): Promise<void> {
  const h = makeHome('wm-hostile-');
  try {
    const dir = join(h.home, 'ctx');
    const scratch = join(h.home, 'scratch');
    mkdirSync(scratch);
    const manager = new MemoryManager({ baseDir: dir, backend: backend as 'markdown' });
    const good = (await manager.createMemory({ title: 'good one', content: 'keep me', tags: ['good'] })).id;
    const short = join(dir, 'memory', 'short_term');
    mkdirSync(short, { recursive: true });
    const e: HostileEnv = { h, dir, good, scratch, short };
    await c.setup?.(e);
    const before = snapshotTree(h.home, ['ctx', 'scratch']);
    const r = await h.spawnRun(c.args(e), { input: c.input, env: c.env });
    if (c.code === 0) {
      expectNoStack(r);
      expect(r.code, r.stderr).toBe(0);
    } else expectCleanFailure(r, c.code);
    if (c.stderr) expect(r.stderr).toMatch(c.stderr);
    await c.after?.(e, r);
    // Nothing written outside the context (the scratch area is the case's own, outside it).
    expect(treeChanges(before, snapshotTree(h.home, ['ctx', 'scratch']))).toEqual([]);
    if (!c.breaksContext) {
      const state = await inspectContext(h.spawnRun, dir);
      expect(state.byId.get(good)?.title, 'the good memory is still there').toBe('good one');
    }
  } finally {
    // A case may leave read-only bits behind; make sure the home can go.
    spawnSync('chmod', ['-R', 'u+rwx', h.home]);
    h.cleanup();
  }
}

describe('promises: hostile input', () => {
  const backends = availableBackends();
  it('has at least 50 cases', () => expect(CASES.length).toBeGreaterThanOrEqual(50));
  for (const c of CASES) {
    const backend = c.backend ?? 'markdown';
    const ready = backends.includes(backend) && hasCommands(...(c.commands ?? []));
    (ready ? it.concurrent : it.concurrent.skip)(`${c.name} (${backend})`, () => runCase(c, backend));
  }
});

describe('promises: a read-only context', () => {
  /** Every folder and file under `root` read-only: what a user without write access sees. */
  function makeReadOnly(root: string): void {
    const walk = (path: string) => {
      if (lstatSync(path).isDirectory()) {
        for (const name of readdirSync(path)) walk(join(path, name));
        chmodSync(path, 0o500);
      } else chmodSync(path, 0o400);
    };
    walk(root);
  }

  it('reads work, writes fail with a clear error, nothing changes', async (test) => {
    const h = makeHome('wm-readonly-');
    const dir = join(h.home, 'ctx');
    const ro = join(h.home, 'ro');
    const manager = new MemoryManager({ baseDir: dir });
    const good = (await manager.createMemory({ title: 'good one', content: 'keep me' })).id;
    mkdirSync(ro);
    // Root ignores file modes: a read-only bind mount stops it; without one (no permission to
    // mount, as in CI), the commands run as an unprivileged user over a tree made read-only.
    const mounted = spawnSync('mount', ['--bind', '-o', 'ro', dir, ro]).status === 0;
    const asNobody = !mounted && process.getuid?.() === 0;
    const target = mounted ? ro : dir;
    try {
      // The build must be readable by that user: a checkout inside a private folder is not. Then,
      // and only then (root, no mount, unreadable build), nothing can make the tree read-only to
      // the commands, so the test is skipped; in CI and here the build is readable and it runs.
      if (asNobody && !handTo(UNPRIVILEGED, h.home, dir)) {
        return test.skip('root without permission to mount, and the build is not readable by an unprivileged user');
      }
      if (!mounted) makeReadOnly(dir);
      const run = (args: string[]): RunResult => h.run(['--base-dir', target, ...args], { uid: asNobody ? UNPRIVILEGED : undefined });
      const before = snapshotTree(dir);
      const listed = run(['--json', 'list']);
      expectOk(listed);
      expect(JSON.parse(listed.stdout).memories.map((m: { id: string }) => m.id)).toEqual([good]);
      expectCleanFailure(run(['create', '--title', 't', '--content', 'c']), 1, /permission denied|read-only/);
      expectCleanFailure(run(['update', good, '--title', 't']), 1, /permission denied|read-only/);
      expectCleanFailure(run(['delete', good]), 1, /permission denied|read-only/);
      expect(treeChanges(before, snapshotTree(dir))).toEqual([]);
    } finally {
      if (mounted) spawnSync('umount', [ro]);
      spawnSync('chmod', ['-R', 'u+rwx', h.home]);
      h.cleanup();
    }
  });
});
