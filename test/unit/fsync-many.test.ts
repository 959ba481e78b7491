import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fsyncMany } from '../../src/util/fsync-many.js';

describe('fsyncMany', () => {
  let dir: string;
  let files: string[];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wm-fsync-'));
    files = Array.from({ length: 100 }, (_, i) => join(dir, `m${i}.md`));
    for (const f of files) writeFileSync(f, `memory ${f}\n`);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.runIf(process.platform === 'linux')('flushes a large batch with one syncfs of its file system on Linux', () => {
    expect(fsyncMany(files, [dir])).toBe('file-system');
  });

  it('falls back to a flush per path where there is no sync command, skipping paths that are gone', () => {
    const gone = join(dir, 'moved-away.md');
    expect(fsyncMany([...files, gone], [dir], { PATH: join(dir, 'no-such-folder') })).toBe('per-path');
    expect(readFileSync(files[99], 'utf8')).toBe(`memory ${files[99]}\n`);
  });

  it('flushes a small batch path by path, and names a path it cannot flush', () => {
    expect(fsyncMany(files.slice(0, 3), [dir])).toBe('per-path');
    expect(() => fsyncMany([join(dir, 'm0.md', 'not-a-folder')])).toThrow(/ENOTDIR/);
  });
});
