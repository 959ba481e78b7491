import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { json, makeHome, type Home } from '../helpers/cli.js';

let h: Home;
let id: string;
const lockDir = () => join(h.wmHome, 'default', '.whitemagic.lock');

/** Leaves a lock on disk as a holder would: the directory, and its owner file if `pid` is given. */
function placeLock(pid?: number, ageMs = 0): void {
  mkdirSync(lockDir());
  if (pid !== undefined) writeFileSync(join(lockDir(), 'owner'), `${pid} ${hostname()}\n`);
  const t = new Date(Date.now() - ageMs);
  utimesSync(lockDir(), t, t);
}

/** The pid of a process that has ended. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

beforeEach(() => {
  h = makeHome();
  id = h.run(['create', '--title', 'locked', '--content', 'x']).stdout.trim();
});
afterEach(() => h.cleanup());

describe('the context lock', () => {
  it('makes a locked command wait, then fail "context is busy" (exit 1) while a live process holds it', () => {
    placeLock(process.pid);
    const r = h.run(['update', id, '--title', 'changed', '--lock-timeout', '0.5']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^whitemagic: error: context is busy: another process holds the lock of .*default \(hint: .*--lock-timeout\)/);
    expect(json(h.run(['show', id, '--json'])).title).toBe('locked');
    // A held lock is never taken as stale, however old its mtime (a long synchronous operation).
    utimesSync(lockDir(), new Date(0), new Date(0));
    expect(h.run(['update', id, '--title', 'changed', '--lock-timeout', '0.5']).code).toBe(1);
  });

  it('takes over at once a lock whose holder died', () => {
    placeLock(deadPid());
    const r = h.run(['update', id, '--title', 'changed', '--lock-timeout', '1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(json(h.run(['show', id, '--json'])).title).toBe('changed');
    expect(existsSync(lockDir())).toBe(false);
  });

  it('takes over a lock of unknown owner once it is stale, and not before', () => {
    placeLock(undefined, 0);
    expect(h.run(['delete', id, '--lock-timeout', '0.5']).code).toBe(1);
    utimesSync(lockDir(), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    expect(h.run(['delete', id, '--lock-timeout', '1']).code).toBe(0);
    expect(json(h.run(['show', id, '--json'])).type).toBe('archive');
  });

  it('is released after the command, with nothing left behind', () => {
    expect(h.run(['update', id, '--add-tag', 'x']).code).toBe(0);
    expect(existsSync(lockDir())).toBe(false);
    expect(existsSync(join(h.wmHome, 'default', '.whitemagic.lock.break'))).toBe(false);
  });
});
