import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { json, makeHome, type Home } from '../helpers/cli.js';

/**
 * A markdown context's catalog records each folder's own inode and times beside its names, and the
 * native addon takes a folder's names from that record, instead of reading the folder, while the
 * folder's stat is unchanged (native/folder.c, CatalogIndex in src/storage/markdown/catalog.ts).
 * SPEC section 3: files added, copied in, removed or renamed by hand are still seen by the next
 * command, and files edited in place too (each is still stated).
 */

const ADDON = fileURLToPath(new URL('../../build/Release/whitemagic_native.node', import.meta.url));
const built = existsSync(ADDON) && process.env.WHITEMAGIC_NATIVE !== '0';
const TYPES = ['short_term', 'long_term', 'archive'];
const CATALOG = '.whitemagic-catalog.tsv';

/**
 * Waits until the folders' last changes are past the racy window (file-times.ts: 50 ms where the
 * file system keeps fine times, 2 s where it keeps whole seconds), so that a read records them.
 */
function settle(dir: string): void {
  const coarse = statSync(join(dir, 'memory', 'short_term')).mtimeMs % 1000 === 0;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, coarse ? 2100 : 120);
}

interface AheadRead {
  /** Per folder: whether the read ahead took its names from the catalog's record (null: no folder). */
  fromRecord: Array<boolean | null>;
  /** Per folder: whether the read ahead gave the same names and stats as reading the folder again. */
  same: Array<boolean | null>;
  names: string[][];
}

/** Reads the context's folders ahead as the launcher does (src/cli/read-ahead.ts), in a process of its own. */
function readAhead(dir: string): AheadRead {
  const folders = TYPES.map((t) => join(dir, 'memory', t));
  const script = `
    const addon = require(${JSON.stringify(ADDON)});
    const folders = ${JSON.stringify(folders)};
    addon.prefetch(folders, folders.map((_, i) => [${JSON.stringify(join(dir, CATALOG))}, i]));
    const read = (f) => { try { return addon.readFolder(f); } catch { return null; } };
    const ahead = folders.map(read);
    const again = folders.map(read);
    const same = (a, b) => a[0] === b[0] && Buffer.from(a[1].buffer).equals(Buffer.from(b[1].buffer));
    console.log(JSON.stringify({
      fromRecord: ahead.map((r) => r && r[4]),
      same: ahead.map((r, i) => r && same(r, again[i])),
      names: ahead.map((r) => (r && r[0] ? r[0].split('/') : [])),
    }));`;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as AheadRead;
}

/** The titles `list` shows (every type). */
function titles(h: Home, dir: string): string[] {
  const r = h.run(['--base-dir', dir, 'list', '--include-archived', '--json']);
  expect(r.stderr).toBe('');
  return (json<{ memories: Array<{ title: string }> }>(r).memories ?? []).map((m) => m.title).sort();
}

/** Where a catalog's clean index starts (the last number of its first line). */
const indexStart = (bytes: Buffer) => Number(bytes.toString('latin1', 0, 200).split('\n')[0].split(' ')[3]);

interface IndexHead {
  folders: Array<{ names: number; stats: number; folder?: string }>;
}

/**
 * A catalog's bytes with its index's head changed by `edit` (the index's length field written
 * again), and, given `names`, the first folder's names replaced by them.
 */
function withHead(bytes: Buffer, edit: (head: IndexHead) => void, names?: string): Buffer {
  const at = indexStart(bytes);
  const headLength = bytes.readUInt32LE(at);
  const head = JSON.parse(bytes.toString('latin1', at + 4, at + 4 + headLength)) as IndexHead;
  const oldNames = head.folders[0].names;
  edit(head);
  const text = Buffer.from(JSON.stringify(head), 'latin1');
  const length = Buffer.alloc(4);
  length.writeUInt32LE(text.length);
  const after = at + 4 + headLength;
  const rest = names === undefined ? [bytes.subarray(after)] : [Buffer.from(names, 'latin1'), bytes.subarray(after + oldNames)];
  return Buffer.concat([bytes.subarray(0, at), length, text, ...rest]);
}

/** The catalog's clean index: where folder `i`'s names are in the file, and how long they are. */
function namesInCatalog(dir: string, i: number): { bytes: Buffer; at: number; length: number } {
  const bytes = readFileSync(join(dir, CATALOG));
  const indexAt = indexStart(bytes);
  const headLength = bytes.readUInt32LE(indexAt);
  const folders = (JSON.parse(bytes.toString('latin1', indexAt + 4, indexAt + 4 + headLength)) as { folders: Array<{ names: number; stats: number }> }).folders;
  let at = indexAt + 4 + headLength;
  for (let k = 0; k < i; k++) at += folders[k].names + folders[k].stats;
  return { bytes, at, length: folders[i].names };
}

describe.skipIf(!built)("a folder's names from the catalog's record of it", () => {
  let h: Home;
  let dir: string;
  let short: string;
  beforeEach(() => {
    h = makeHome('wm-record-');
    dir = join(h.home, 'ctx');
    for (const title of ['alpha', 'beta', 'gamma']) expect(h.run(['--base-dir', dir, 'create', '--title', title, '--content', `${title} body`]).code).toBe(0);
    expect(h.run(['--base-dir', dir, 'create', '--title', 'delta', '--content', 'kept', '--type', 'long_term']).code).toBe(0);
    short = join(dir, 'memory', 'short_term');
    settle(dir);
    // The first read after the creates writes the catalog, with the folders' record.
    expect(titles(h, dir)).toEqual(['alpha', 'beta', 'delta', 'gamma']);
  });
  afterEach(() => h.cleanup());

  it('takes the names of unchanged folders from the record: the names and stats a read of the folder gives', () => {
    const read = readAhead(dir);
    expect(read.fromRecord).toEqual([true, true, true]);
    expect(read.same).toEqual([true, true, true]);
    expect(read.names[0]).toEqual(readdirSync(short).sort());
  });

  it('still states every file: an edit in place is seen while the names come from the record', () => {
    const file = join(short, readdirSync(short).find((f) => f.includes('alpha'))!);
    appendFileSync(file, '\nadded by hand\n');
    const read = readAhead(dir);
    expect(read.fromRecord[0]).toBe(true);
    expect(read.same[0]).toBe(true);
    expect(h.run(['--base-dir', dir, 'show', file.split('/').pop()!.slice(0, -3)]).stdout).toContain('added by hand');
  });

  it('reads a folder again when a file was added, removed or renamed by hand, and the next command sees it', () => {
    const [first] = readdirSync(short).sort();
    const copy = readFileSync(join(short, first), 'utf8').replace(/^id: .*$/m, 'id: 01hzzzzzzzzzzzzzzzzzzzzzzz').replace(/^title: .*$/m, 'title: copied in');
    writeFileSync(join(short, '2026-01-01_copied-in_zzzz.md'), copy);
    let read = readAhead(dir);
    expect(read.fromRecord).toEqual([false, true, true]);
    expect(read.names[0]).toContain('2026-01-01_copied-in_zzzz.md');
    expect(titles(h, dir)).toContain('copied in');

    settle(dir);
    expect(titles(h, dir)).toContain('copied in'); // records the folder again
    expect(readAhead(dir).fromRecord).toEqual([true, true, true]);
    renameSync(join(short, '2026-01-01_copied-in_zzzz.md'), join(short, '2026-01-01_renamed_zzzz.md'));
    read = readAhead(dir);
    expect(read.fromRecord[0]).toBe(false);
    expect(read.names[0]).toContain('2026-01-01_renamed_zzzz.md');
    expect(read.names[0]).not.toContain('2026-01-01_copied-in_zzzz.md');

    settle(dir);
    expect(titles(h, dir)).toContain('copied in');
    unlinkSync(join(short, '2026-01-01_renamed_zzzz.md'));
    read = readAhead(dir);
    expect(read.fromRecord[0]).toBe(false);
    expect(read.names[0]).toHaveLength(3);
    expect(titles(h, dir)).not.toContain('copied in');
  });

  it('is not fooled by a folder whose mtime was set back after a file was added (its ctime moved)', () => {
    const before = statSync(short, { bigint: true });
    const [first] = readdirSync(short).sort();
    const copy = readFileSync(join(short, first), 'utf8').replace(/^id: .*$/m, 'id: 01hyyyyyyyyyyyyyyyyyyyyyyy').replace(/^title: .*$/m, 'title: slipped in');
    writeFileSync(join(short, '2026-01-02_slipped-in_yyyy.md'), copy);
    // Set back to the nanosecond (utimes through Node.js rounds to about a microsecond).
    const ns = before.mtimeNs;
    const touched = spawnSync('touch', ['-m', '-d', `@${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`, short], { encoding: 'utf8' });
    expect(touched.stderr).toBe('');
    expect(statSync(short, { bigint: true }).mtimeNs).toBe(before.mtimeNs);
    expect(statSync(short, { bigint: true }).ctimeNs).not.toBe(before.ctimeNs);
    const read = readAhead(dir);
    expect(read.fromRecord[0]).toBe(false);
    expect(read.names[0]).toContain('2026-01-02_slipped-in_yyyy.md');
    expect(titles(h, dir)).toContain('slipped in');
  });

  it('reads the folder when the record cannot vouch for it: a recorded name gone, names out of order, a name leading out, a damaged head', () => {
    const { bytes, at, length } = namesInCatalog(dir, 0);
    const names = bytes.toString('latin1', at, at + length);
    const catalog = join(dir, CATALOG);
    // The last name made one that is not there (still the greatest, so the names stay in order).
    const last = names.lastIndexOf('/') + 1;
    const gone = Buffer.from(bytes);
    gone.write('~', at + last, 'latin1');
    writeFileSync(catalog, gone);
    let read = readAhead(dir);
    expect(read.fromRecord).toEqual([false, true, true]);
    expect(read.names[0]).toEqual(readdirSync(short).sort());

    // Every name there, but out of order: alpha's and gamma's names (of one length) swapped.
    const [alpha, , gamma] = names.split('/');
    expect(alpha.length).toBe(gamma.length);
    const disordered = Buffer.from(bytes);
    disordered.write([gamma, names.split('/')[1], alpha].join('/'), at, 'latin1');
    writeFileSync(catalog, disordered);
    read = readAhead(dir);
    expect(read.fromRecord[0]).toBe(false);
    expect(read.names[0]).toEqual(readdirSync(short).sort());

    // A name that would lead out of the folder (a record made by hand): refused, the folder is read.
    const escaping = ['..', ...names.split('/').slice(1)].join('/');
    writeFileSync(catalog, withHead(bytes, (head) => (head.folders[0].names = escaping.length), escaping));
    read = readAhead(dir);
    expect(read.fromRecord[0]).toBe(false);
    expect(read.names[0]).toEqual(readdirSync(short).sort());

    // A head whose folders cannot be found: no record at all, and nothing worse.
    const damaged = Buffer.from(bytes);
    const indexAt = indexStart(bytes);
    damaged.write('"fodders"', bytes.indexOf('"folders"', indexAt), 'latin1');
    writeFileSync(catalog, damaged);
    read = readAhead(dir);
    expect(read.fromRecord).toEqual([false, false, false]);
    expect(read.same).toEqual([true, true, true]);
    expect(titles(h, dir)).toEqual(['alpha', 'beta', 'delta', 'gamma']);
  });

  it('records the folders once in a catalog written without them, by a command that reads ahead, and a read of an unchanged context writes nothing', () => {
    const other = join(h.home, 'plain');
    const plain = { env: { WHITEMAGIC_NATIVE: '0' } };
    expect(h.run(['--base-dir', other, 'create', '--title', 'one', '--content', 'x'], plain).code).toBe(0);
    settle(other);
    expect(h.run(['--base-dir', other, 'list'], plain).code).toBe(0); // a catalog without the folders' record
    expect(readAhead(other).fromRecord).toEqual([false, false, false]);
    const unrecorded = statSync(join(other, CATALOG)).ino;
    // A bulk command reads nothing ahead: it leaves the catalog as it is (a rewrite would only add to its peak).
    expect(h.run(['--base-dir', other, 'backup', '--output', join(h.home, 'b.tar.gz')]).code).toBe(0);
    expect(statSync(join(other, CATALOG)).ino).toBe(unrecorded);
    expect(h.run(['--base-dir', other, 'list']).code).toBe(0);
    const recorded = statSync(join(other, CATALOG)).ino;
    expect(recorded).not.toBe(unrecorded);
    expect(readAhead(other).fromRecord).toEqual([true, true, true]);
    expect(h.run(['--base-dir', other, 'list']).code).toBe(0);
    expect(statSync(join(other, CATALOG)).ino).toBe(recorded);
  });

  it('leaves a folder the catalog left out (it had just changed) to the next list, not to a search', () => {
    // The catalog as a read right after a create writes it: no record of short_term, records of the rest.
    const bytes = readFileSync(join(dir, CATALOG));
    const edited = withHead(bytes, (head) => {
      expect(head.folders.every((f) => typeof f.folder === 'string')).toBe(true);
      delete head.folders[0].folder;
    });
    writeFileSync(join(dir, CATALOG), edited);
    const before = statSync(join(dir, CATALOG)).ino;
    expect(readAhead(dir).fromRecord).toEqual([false, true, true]);
    expect(h.run(['--base-dir', dir, 'search', 'alpha']).stdout).toContain('alpha');
    expect(statSync(join(dir, CATALOG)).ino).toBe(before);
    expect(titles(h, dir)).toEqual(['alpha', 'beta', 'delta', 'gamma']);
    expect(statSync(join(dir, CATALOG)).ino).not.toBe(before);
    expect(readAhead(dir).fromRecord).toEqual([true, true, true]);
  });

  it('has a search write the record once too, where the catalog lacks it', () => {
    const other = join(h.home, 'searched');
    const plain = { env: { WHITEMAGIC_NATIVE: '0' } };
    expect(h.run(['--base-dir', other, 'create', '--title', 'one', '--content', 'needle'], plain).code).toBe(0);
    settle(other);
    expect(h.run(['--base-dir', other, 'list'], plain).code).toBe(0);
    const unrecorded = statSync(join(other, CATALOG)).ino;
    expect(h.run(['--base-dir', other, 'search', 'needle']).stdout).toContain('one');
    const recorded = statSync(join(other, CATALOG)).ino;
    expect(recorded).not.toBe(unrecorded);
    expect(readAhead(other).fromRecord).toEqual([true, true, true]);
    expect(h.run(['--base-dir', other, 'search', 'needle']).stdout).toContain('one');
    expect(statSync(join(other, CATALOG)).ino).toBe(recorded);
  });
});
