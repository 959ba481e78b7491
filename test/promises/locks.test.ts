import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOCK_FILE, STALE_MS, lockTimeoutMs, withContextLock } from '../../src/context/lock.js';
import { makeHome, type Home } from '../helpers/cli.js';
import { expectCleanFailure, expectOk, printedId } from './helpers.js';

/** SPEC section 9: operations hold the context's lock, wait a bounded time, and recover stale locks. */
describe('promises: the context lock', () => {
  let h: Home;
  let dir: string;
  let id: string;
  beforeEach(() => {
    h = makeHome('wm-lock-');
    dir = join(h.home, 'ctx');
    const r = h.run(['--base-dir', dir, 'create', '--title', 'locked one', '--content', 'x']);
    expectOk(r);
    id = printedId(r.stdout)!;
  });
  afterEach(() => h.cleanup());

  it('a held lock makes a locked operation fail "context is busy" with exit 1 after --lock-timeout', async () => {
    await withContextLock(
      dir,
      async () => {
        const r = await h.spawnRun(['--base-dir', dir, '--lock-timeout', '1', 'update', id, '--title', 'changed']);
        expectCleanFailure(r, 1, /context is busy/);
        expect(r.stderr).toMatch(/--lock-timeout/);
        const env = await h.spawnRun(['--base-dir', dir, '--json', 'update', id, '--title', 'changed'], { env: { WHITEMAGIC_LOCK_TIMEOUT: '0.5' } });
        expect(env.code).toBe(1);
        expect(JSON.parse(env.stderr).error).toMatchObject({ code: 'busy', exitCode: 1 });
      },
      5_000,
    );
    const after = h.run(['--base-dir', dir, '--json', 'show', id]);
    expectOk(after);
    expect(JSON.parse(after.stdout).title).toBe('locked one');
  });

  it('a lock held past its refreshes (a long command) is removed on release, not left for the next command to wait out', async () => {
    // Refreshed every second: held for 2.5 s, it is refreshed twice; each refresh checks the lock
    // directory's mtime is the one proper-lockfile set (the owner file written in it must not change it).
    await withContextLock(dir, () => new Promise((resolve) => setTimeout(resolve, 2_500)));
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('a lock released within the timeout is waited for, and the operation then succeeds', async () => {
    let release!: () => void;
    const held = withContextLock(dir, () => new Promise<void>((r) => (release = r)), 5_000);
    await new Promise((r) => setTimeout(r, 100));
    const waiting = h.spawnRun(['--base-dir', dir, '--lock-timeout', '30', 'update', id, '--title', 'after the wait']);
    setTimeout(() => release(), 1_500);
    const r = await waiting;
    await held;
    expectOk(r);
    expect(r.stdout).toMatch(/^updated /);
  });

  for (const owner of ['owner', 'no-owner']) {
    it(`a lock left by a SIGKILLed holder (${owner} file) is taken over within the default wait`, async () => {
      const holder = spawn(process.execPath, [join(__dirname, 'workers', 'hold-lock.mjs'), dir, LOCK_FILE, owner], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on('data', (d) => String(d).includes('locked') && resolve());
        holder.on('exit', () => reject(new Error('the lock holder exited early')));
      });
      holder.removeAllListeners('exit');
      holder.kill('SIGKILL');
      await new Promise((r) => holder.on('close', r));
      expect(existsSync(join(dir, LOCK_FILE)), 'the dead holder left its lock').toBe(true);
      // The default wait (no --lock-timeout) must outlast the staleness of an ownerless lock.
      expect(STALE_MS).toBeLessThan(lockTimeoutMs({}));
      const r = await h.spawnRun(['--base-dir', dir, 'update', id, '--title', 'recovered']);
      expectOk(r);
      expect(existsSync(join(dir, LOCK_FILE)), 'the lock is released afterwards').toBe(false);
      expect(JSON.parse(h.run(['--base-dir', dir, '--json', 'show', id]).stdout).title).toBe('recovered');
    });
  }

  it('a stale lock holding an empty owner file (holder killed while naming itself) is recovered', async () => {
    mkdirSync(join(dir, LOCK_FILE));
    writeFileSync(join(dir, LOCK_FILE, 'owner'), '');
    const old = Date.now() / 1000 - 60;
    utimesSync(join(dir, LOCK_FILE), old, old);
    const r = await h.spawnRun(['--base-dir', dir, 'update', id, '--title', 'recovered']);
    expectOk(r);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('refuses a --lock-timeout that is not a number of seconds (exit 2)', () => {
    expectCleanFailure(h.run(['--base-dir', dir, '--lock-timeout', 'soon', 'update', id, '--title', 'x']), 2, /lock-timeout/);
  });

  it('concurrent updates of one memory all succeed, one after another, none lost', async () => {
    const tags = Array.from({ length: 6 }, (_, i) => `t${i}`);
    const results = await Promise.all(tags.map((t) => h.spawnRun(['--base-dir', dir, 'update', id, '--add-tag', t])));
    for (const r of results) expectOk(r);
    const shown = JSON.parse(h.run(['--base-dir', dir, '--json', 'show', id]).stdout);
    expect([...shown.tags].sort()).toEqual(tags);
  });
});
