import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, makeHome, type Home } from '../helpers/cli.js';

/**
 * What a command loads (docs/performance.md, "Levers used"): Node modules the command line keeps
 * out of cheap commands, and better-sqlite3's JavaScript served from the bundle. Timings are the
 * benchmark's; these check the levers themselves, which a change can silently undo.
 */
describe('start-up: what a command loads', () => {
  let h: Home;
  let probe: string;
  beforeEach(() => {
    h = makeHome();
    // Reports at exit Node's own modules loaded, the files better-sqlite3 was required or loaded
    // from (native modules are loaded with process.dlopen, not require), and whether whitemagic's
    // own addon was loaded.
    probe = join(h.home, 'probe.cjs');
    writeFileSync(
      probe,
      'const dlopen = process.dlopen;\n' +
        'const natives = new Set();\n' +
        'process.dlopen = function (m, file, ...rest) { natives.add(file); return dlopen.call(this, m, file, ...rest); };\n' +
        "process.on('exit', () => {\n" +
        "  const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13));\n" +
        "  const sqlite = [...new Set([...Object.keys(require.cache), ...natives])].filter((k) => k.includes('better-sqlite3')).map((k) => k.slice(k.indexOf('better-sqlite3')));\n" +
        "  const native = [...natives].filter((k) => k.endsWith('whitemagic_native.node')).length;\n" +
        "  process._rawDebug(JSON.stringify({ builtins, sqlite, native }));\n" +
        '});\n',
    );
  });
  afterEach(() => h.cleanup());

  const loaded = (args: string[], env: Record<string, string> = {}): { builtins: string[]; sqlite: string[]; native: number } => {
    const r = h.run(args, { env: { NODE_OPTIONS: `--require=${probe}`, ...env } });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stderr.trim().split('\n').pop()!);
  };
  // child_process, net and streams came with commander and with process.stdout on a pipe; crypto
  // with new ids; worker_threads with write-file-atomic; tty with checking for a terminal.
  const UNWANTED = ['child_process', 'net', 'stream', 'crypto', 'worker_threads', 'tty'];

  for (const backend of ['markdown', 'sqlite']) {
    it(`create, list, show and status on ${backend} to a pipe load none of ${UNWANTED.join(', ')}`, () => {
      expect(h.run(['--context', 'c', 'init', '--backend', backend]).code).toBe(0);
      const id = h.run(['--context', 'c', 'create', '--title', 'Startup', '--content', 'body', '--tag', 'a']).stdout.trim();
      for (const args of [
        ['create', '--title', 'Another', '--content', 'x'],
        ['list', '--limit', '20'],
        ['show', id],
        ['status'],
      ]) {
        const { builtins } = loaded(['--context', 'c', ...args]);
        expect(builtins.filter((b) => UNWANTED.includes(b)), args[0]).toEqual([]);
      }
    });
  }

  it(`--version to a pipe loads none of ${UNWANTED.join(', ')}`, () => {
    const { builtins } = loaded(['--version']);
    expect(builtins.filter((b) => UNWANTED.includes(b))).toEqual([]);
  });

  it('output sent to /dev/null (a cron job) does not load tty to ask whether it is a terminal', () => {
    expect(h.run(['--context', 'c', 'create', '--title', 'Quiet', '--content', 'x']).code).toBe(0);
    const devNull = openSync('/dev/null', 'w');
    try {
      const r = spawnSync(process.execPath, [BIN, '--context', 'c', 'list'], {
        env: { ...h.env, NODE_OPTIONS: `--require=${probe}` },
        stdio: ['ignore', devNull, 'pipe'],
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      const { builtins } = JSON.parse(r.stderr.trim().split('\n').pop()!) as { builtins: string[] };
      expect(builtins.filter((b) => UNWANTED.includes(b))).toEqual([]);
    } finally {
      closeSync(devNull);
    }
  });

  it("a SQLite command runs better-sqlite3's bundled JavaScript and loads only its native addon", () => {
    expect(h.run(['--context', 'sq', 'init', '--backend', 'sqlite']).code).toBe(0);
    const { sqlite } = loaded(['--context', 'sq', 'list']);
    expect(sqlite).toEqual(['better-sqlite3/build/Release/better_sqlite3.node']);
  });

  // The addon is optional (scripts/build-native.mjs); where it was not built this case skips.
  it.skipIf(!existsSync(join(BIN, '..', '..', 'build', 'Release', 'whitemagic_native.node')))(
    "a markdown command reads its folders through whitemagic's native addon, unless WHITEMAGIC_NATIVE=0",
    () => {
      expect(h.run(['--context', 'md', 'create', '--title', 'Native', '--content', 'x']).code).toBe(0);
      expect(loaded(['--context', 'md', 'list']).native).toBe(1);
      expect(loaded(['--context', 'md', 'search', 'native']).native).toBe(1);
      expect(loaded(['--context', 'md', 'list'], { WHITEMAGIC_NATIVE: '0' }).native).toBe(0);
    },
  );

  // Reading ahead (src/cli/read-ahead.ts) pays only if the launcher names the folders exactly as
  // the storage code later reads them: the addon hands a read-ahead listing to an equal path only.
  // Skipped only where the optional addon was not built (no compiler at install); it runs in CI.
  it.skipIf(!existsSync(join(BIN, '..', '..', 'build', 'Release', 'whitemagic_native.node')))(
    'a reading command reads ahead exactly the folders it then reads; a writing one reads none ahead',
    () => {
      const spy = join(h.home, 'spy.cjs');
      writeFileSync(
        spy,
        'const dlopen = process.dlopen;\n' +
          'const log = { ahead: [], reads: [] };\n' +
          // The launcher and the bundle each load the addon (process.dlopen): each gets its own exports.
          'process.dlopen = function (m, file, ...rest) {\n' +
          '  const result = dlopen.call(this, m, file, ...rest);\n' +
          "  if (!String(file).endsWith('whitemagic_native.node')) return result;\n" +
          '  const { prefetch, readFolder } = m.exports;\n' +
          '  m.exports.prefetch = (folders) => { log.ahead.push(...folders); return prefetch(folders); };\n' +
          '  m.exports.readFolder = (folder) => { log.reads.push(folder); return readFolder(folder); };\n' +
          '  return result;\n' +
          '};\n' +
          "process.on('exit', () => process._rawDebug(JSON.stringify(log)));\n",
      );
      const spied = (args: string[], env: Record<string, string> = {}): { ahead: string[]; reads: string[] } => {
        const r = h.run(args, { env: { NODE_OPTIONS: `--require=${spy}`, ...env } });
        expect(r.code, r.stderr).toBe(0);
        return JSON.parse(r.stderr.trim().split('\n').pop()!);
      };
      for (const name of ['md', 'other']) {
        expect(h.run(['--context', name, 'create', '--title', 'Ahead', '--content', 'x']).code).toBe(0);
        expect(h.run(['--context', name, 'create', '--title', 'Kept', '--content', 'x', '--type', 'long_term']).code).toBe(0);
      }
      const folders = (name: string) => ['short_term', 'long_term', 'archive'].map((t) => join(h.wmHome, name, 'memory', t));
      for (const [args, env] of [
        [['--context', 'md', 'list'], {}],
        [['list', '--limit', '5', '--base-dir', join(h.wmHome, 'md')], {}],
        [['search', 'ahead'], { WHITEMAGIC_CONTEXT: 'md' }],
        [['status'], { WHITEMAGIC_BASE_DIR: join(h.wmHome, 'md') }],
      ] as const) {
        const { ahead, reads } = spied([...args], env);
        expect(ahead, args.join(' ')).toEqual(folders('md'));
        expect(reads.slice(0, 3), args.join(' ')).toEqual(folders('md'));
      }
      const federated = spied(['search', 'ahead', '--all-contexts']);
      expect(federated.ahead).toEqual([...folders('md'), ...folders('other')]);
      expect([...new Set(federated.reads)].sort()).toEqual([...federated.ahead].sort());
      expect(spied(['--context', 'md', 'create', '--title', 'No', '--content', 'x']).ahead).toEqual([]);
    },
  );

  it('output to a reader that goes away ends quietly (`list | head -1`)', () => {
    // Enough memories that the listing overflows a pipe's buffer after the reader has gone.
    const folder = join(h.wmHome, 'big', 'memory', 'short_term');
    mkdirSync(folder, { recursive: true });
    const long = 'word '.repeat(60).trim();
    for (let i = 0; i < 1500; i++) {
      writeFileSync(join(folder, `m${i}.md`), `---\ntitle: ${long} ${i}\ncreated: 2026-01-01T00:00:00.000Z\n---\nbody ${i}\n`);
    }
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" --context big list --limit 2000 | head -1`], {
      env: h.env,
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(1);
  });
});
