import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openConnections, openSqlite } from '../../src/storage/sqlite/driver.js';
import { BIN, makeHome, type Home } from '../helpers/cli.js';

const ADDON_BUILT = existsSync(join(BIN, '..', '..', 'build', 'Release', 'whitemagic_native.node'));

/**
 * The command line ends its process as soon as a command is done and nothing is pending
 * (src/cli/fast-exit.ts, native/exit.c), after the 'exit' handlers, instead of waiting for V8's
 * background work. Node.js emits 'beforeExit' only on the usual way out, which is how these tests
 * tell the two apart.
 */
// The addon is optional (built on install where a compiler is present); it is built in CI.
describe.skipIf(!ADDON_BUILT)('ending a finished command at once', () => {
  let h: Home;
  let probe: string;
  const events = () => (existsSync(join(h.home, 'events')) ? readFileSync(join(h.home, 'events'), 'utf8').trim().split('\n') : []);
  beforeEach(() => {
    h = makeHome();
    probe = join(h.home, 'probe.cjs');
    const log = JSON.stringify(join(h.home, 'events'));
    writeFileSync(
      probe,
      "const { appendFileSync } = require('fs');\n" +
        `process.on('beforeExit', () => appendFileSync(${log}, 'beforeExit\\n'));\n` +
        `process.on('exit', (code) => appendFileSync(${log}, 'exit ' + code + '\\n'));\n` +
        // Something pending when the command is done: the process must wait for it.
        `if (process.env.PENDING) setTimeout(() => appendFileSync(${log}, 'timer\\n'), 300);\n`,
    );
    expect(h.run(['create', '--title', 'Fast', '--content', 'Ends at once.']).code).toBe(0);
  });
  afterEach(() => h.cleanup());

  const run = (args: string[], env: Record<string, string> = {}) => h.run(args, { env: { NODE_OPTIONS: `--require=${probe}`, ...env } });

  it('runs the exit handlers, keeps the output and the exit code, and ends without the usual way out', () => {
    const listed = run(['list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('Fast');
    expect(events()).toEqual(['exit 0']);

    rmSync(join(h.home, 'events'));
    const missing = run(['show', 'no-such-memory']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('memory not found');
    expect(events()).toEqual(['exit 1']);

    // Without the addon the process ends the usual way, with the same answers.
    rmSync(join(h.home, 'events'));
    const plain = run(['show', 'no-such-memory'], { WHITEMAGIC_NATIVE: '0' });
    expect([plain.code, plain.stderr]).toEqual([missing.code, missing.stderr]);
    expect(events()).toEqual(['beforeExit', 'exit 1']);
  });

  it('ends the usual way when something is still pending', () => {
    const r = run(['list'], { PENDING: '1' });
    expect(r.code).toBe(0);
    expect(events()).toEqual(['timer', 'beforeExit', 'exit 0']);
  });

  it('ends the usual way when Node.js writes a profile or coverage at exit', () => {
    const profiles = join(h.home, 'profiles');
    const r = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profiles}`, `--require=${probe}`, BIN, 'list'], { env: h.env });
    expect(r.status).toBe(0);
    expect(events()).toEqual(['beforeExit', 'exit 0']);
    expect(readdirSync(profiles).filter((f) => f.endsWith('.cpuprofile'))).toHaveLength(1);

    rmSync(join(h.home, 'events'));
    const coverage = join(h.home, 'coverage');
    expect(run(['list'], { NODE_V8_COVERAGE: coverage }).code).toBe(0);
    expect(events()).toEqual(['beforeExit', 'exit 0']);
    expect(readdirSync(coverage).length).toBeGreaterThan(0);
  });

  it('on SQLite too, after its connections are closed', () => {
    expect(h.run(['--context', 'sq', 'init', '--backend', 'sqlite']).code).toBe(0);
    expect(run(['--context', 'sq', 'create', '--title', 'Stored', '--content', 'x']).code).toBe(0);
    expect(events()).toEqual(['exit 0']);
    expect(h.run(['--context', 'sq', 'search', 'stored']).stdout).toContain('Stored');
  });
});

describe('open SQLite connections', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wm-connections-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('are counted until closed, so the command line does not end with one open', () => {
    const before = openConnections();
    const a = openSqlite(join(dir, 'a.db'), {});
    const b = openSqlite(join(dir, 'b.db'), {});
    expect(openConnections()).toBe(before + 2);
    a.close();
    expect(openConnections()).toBe(before + 1);
    b.close();
    expect(openConnections()).toBe(before);
  });
});
