import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { progressLine, terminalProgress } from '../../src/output/progress.js';
import { BIN, makeHome, type Home } from '../helpers/cli.js';

let h: Home;
beforeEach(() => {
  h = makeHome();
  for (let i = 0; i < 3; i++) expect(h.run(['--context', 'src', 'create', '--title', `m${i}`, '--content', 'x']).code).toBe(0);
});
afterEach(() => h.cleanup());

/** Runs the bin under a pseudo-terminal (util-linux `script`), so stdout and stderr are a terminal. */
function onTerminal(args: string[]): { code: number; screen: string } {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('script', ['-qec', command, '/dev/null'], { env: { ...h.env, TERM: 'dumb' }, encoding: 'utf8' });
  return { code: r.status ?? -1, screen: r.stdout };
}

describe('progress of long work', () => {
  it('is drawn on a terminal, then cleared', () => {
    const r = onTerminal(['--context', 'src', 'clone', join(h.home, 'copy')]);
    expect(r.code).toBe(0);
    expect(r.screen).toContain('clone: 3/3 (100%)');
    expect(r.screen).toContain('\r\x1b[K');
  });

  for (const backend of ['markdown', 'sqlite']) {
    it(`is drawn by reindex on ${backend}`, () => {
      expect(h.run(['--context', 'ix', 'init', '--backend', backend]).code).toBe(0);
      for (let i = 0; i < 3; i++) expect(h.run(['--context', 'ix', 'create', '--title', `m${i}`, '--content', 'x']).code).toBe(0);
      const r = onTerminal(['--context', 'ix', 'reindex']);
      expect(r.code).toBe(0);
      expect(r.screen).toContain('reindex: 3/3 (100%)');
      expect(r.screen).toContain('reindexed 3 memories');
    });
  }

  it('is never drawn with --quiet or --json, nor off a terminal', () => {
    expect(onTerminal(['--context', 'src', '--quiet', 'backup']).screen).not.toMatch(/backup: \d/);
    expect(onTerminal(['--context', 'src', '--json', 'backup']).screen).not.toMatch(/backup: \d/);
    const piped = h.run(['--context', 'src', 'backup']);
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe('');
  });
});

describe('the progress line', () => {
  it('says how far, and waits 100 ms, redraws at most every 100 ms, and always draws the end', () => {
    expect(progressLine('restore', 50, 200)).toBe('restore: 50/200 (25%)');
    let written = '';
    let clock = 0;
    const report = terminalProgress({ write: (s: string) => ((written += s), true) } as unknown as NodeJS.WriteStream, () => clock);
    report('clone', 1, 3);
    clock = 150;
    report('clone', 2, 3);
    clock = 160;
    report('clone', 3, 3);
    expect(written).toBe('\rclone: 2/3 (66%)\rclone: 3/3 (100%)\r\x1b[K');
  });
});
