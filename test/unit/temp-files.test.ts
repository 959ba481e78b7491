import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTempFileName, removeStaleTempFiles, TEMP_MAX_AGE_MS, writeFileForBatch } from '../../src/storage/markdown/temp-files.js';

describe('temporary files of atomic writes', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'wm-temp-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a batch write leaves the file, owner-only, and no temporary file', () => {
    const path = join(dir, '2026-01-01-note-abcdefgh.md');
    writeFileForBatch(path, Buffer.from('first\n'), 0o600);
    writeFileForBatch(path, Buffer.from('second\n'), 0o600);
    expect(readFileSync(path, 'utf8')).toBe('second\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['2026-01-01-note-abcdefgh.md']);
  });

  it('removes its temporary file when the write fails, and names it so the sweep cleans what a killed process leaves', () => {
    // Writing into a folder that does not exist fails before anything is made; a rename onto a
    // folder fails after the temporary file was written, and the temporary file is removed.
    const target = join(dir, 'taken.md'); // a folder with a memory's name
    writeFileSync(join(dir, 'keep.md'), 'x');
    expect(() => writeFileForBatch(join(dir, 'missing', 'a.md'), Buffer.from('x'), 0o600)).toThrow(/ENOENT/);
    mkdirSync(join(target, 'inside'), { recursive: true });
    expect(() => writeFileForBatch(target, Buffer.from('x'), 0o600)).toThrow();
    expect(readdirSync(dir).sort()).toEqual(['keep.md', 'taken.md']);

    // What a process killed between write and rename leaves behind:
    const leftover = `${join(dir, 'note.md')}.0badf00d1`;
    writeFileSync(leftover, 'partial');
    expect(isTempFileName('note.md.0badf00d1')).toBe(true);
    expect(removeStaleTempFiles(dir, readdirSync(dir))).toBe(0); // fresh: a live writer may own it
    const old = (Date.now() - TEMP_MAX_AGE_MS - 1000) / 1000;
    utimesSync(leftover, old, old);
    expect(removeStaleTempFiles(dir, readdirSync(dir))).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['keep.md', 'taken.md']);
  });
});
