import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CTIME, FIELDS, FILE, changedEntries, listingDigest, type FolderListing, INO, KIND, LINK, MISSING, MTIME, OTHER, SIZE, joinedNames, readFolder, readFolderPlain, statError } from '../../src/storage/markdown/folder-listing.js';
import { nativeAddon, setNativeAddon } from '../../src/util/native.js';
import { handTo, makeHome, UNPRIVILEGED } from '../helpers/cli.js';

const ADDON = fileURLToPath(new URL('../../build/Release/whitemagic_native.node', import.meta.url));
// The addon is optional: built on install where a compiler is (scripts/build-native.mjs). Where it
// was not built these cases skip, and the summary's skipped count shows it.
const built = existsSync(ADDON) && process.env.WHITEMAGIC_NATIVE !== '0';
const everyName = () => true;

describe('folder listing: the native addon and Node.js agree', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'wm-folder-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  afterAll(() => setNativeAddon(undefined));

  const readNative = (folder: string) => {
    setNativeAddon(true);
    return readFolder(folder, everyName);
  };

  it.skipIf(!built)('is loaded when it was built', () => {
    setNativeAddon(undefined);
    expect(nativeAddon()).not.toBeNull();
  });

  it.skipIf(!built)('finds the same changed entries', () => {
    const stats = Float64Array.from({ length: 50 * FIELDS }, (_, i) => 1e12 + i * 0.25);
    const recorded = new Float64Array(stats);
    for (const [entry, field] of [[0, 0], [7, 2], [7, 4], [31, 1], [49, 3]]) recorded[entry * FIELDS + field] += 1;
    const bytes = Buffer.alloc(recorded.byteLength + 3).subarray(3); // unaligned, as in a catalog's index
    bytes.set(new Uint8Array(recorded.buffer));
    setNativeAddon(false);
    const plain = Array.from(changedEntries(stats, bytes));
    setNativeAddon(true);
    expect(Array.from(changedEntries(stats, bytes))).toEqual(plain);
    expect(plain).toEqual([0, 7, 31, 49]);
    expect(Array.from(changedEntries(stats, new Uint8Array(new Float64Array(stats).buffer)))).toEqual([]);
  });

  it.skipIf(!built)('gives a listing digest that its twin here computes too, and that any change to a name or stat changes', () => {
    const listing = (names: string[], base = 1e12): FolderListing => ({ names, stats: Float64Array.from({ length: names.length * FIELDS }, (_, i) => base + i * 0.5), joined: names.join('/') });
    const listings = [listing(['a.md', 'b.md', 'ünï ☕.md']), undefined, listing(Array.from({ length: 37 }, (_, i) => `n${i}.md`), 7)];
    setNativeAddon(true);
    const digest = listingDigest(listings)!;
    expect(digest).toMatch(/^[0-9a-f]{32}$/);
    expect(digest).toBe(digestHere(listings));
    const changes: Array<Array<FolderListing | undefined>> = [
      [listing(['a.md', 'b.md', 'ünï ☕.md']), undefined, undefined],
      [listing(['a.md', 'b.md', 'ünï ☕!.md']), undefined, listings[2]],
      [listing(['a.md', 'b.md', 'ünï ☕.md'], 2e12), undefined, listings[2]],
      [undefined, listings[0], listings[2]],
      [listing(['a.md', 'b.md', 'ünï ☕.md']), listing([]), listings[2]],
    ];
    for (const changed of changes) expect(listingDigest(changed)).not.toBe(digest);
    const touched = listing(['a.md', 'b.md', 'ünï ☕.md']);
    touched.stats[FIELDS + MTIME] += 1;
    expect(listingDigest([touched, undefined, listings[2]])).not.toBe(digest);
    setNativeAddon(false);
    expect(listingDigest(listings)).toBeUndefined(); // without the addon the search index keeps the listing whole
  });

  it.skipIf(!built)('gives the same names, order and stats for every kind of entry', () => {
    const names = ['b.md', 'a.md', 'with space.md', 'é-accent.md', '日本.md', 'new\nline.md', '\uE000.md', '\uFFFD-replacement.md'];
    names.forEach((name, i) => writeFileSync(join(dir, name), 'x'.repeat(i)));
    mkdirSync(join(dir, 'folder.md'));
    symlinkSync(join(dir, 'a.md'), join(dir, 'link.md'));
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling.md'));
    const fifo = spawnSync('mkfifo', [join(dir, 'pipe.md')]).status === 0;

    const plain = readFolderPlain(dir, everyName);
    const native = readNative(dir);
    expect(native.names).toEqual(plain.names);
    expect([...native.stats]).toEqual([...plain.stats]);
    // And each is what lstat says, to the bit.
    const kindOf = (name: string) => native.stats[native.names.indexOf(name) * FIELDS + KIND];
    expect(kindOf('a.md')).toBe(FILE);
    expect(kindOf('folder.md')).toBe(OTHER);
    expect(kindOf('link.md')).toBe(LINK);
    expect(kindOf('dangling.md')).toBe(LINK);
    if (fifo) expect(kindOf('pipe.md')).toBe(OTHER);
    native.names.forEach((name, i) => {
      const st = lstatSync(join(dir, name));
      const at = i * FIELDS;
      expect([native.stats[at + SIZE], native.stats[at + MTIME], native.stats[at + CTIME], native.stats[at + INO]], name).toEqual([st.size, st.mtimeMs, st.ctimeMs, st.ino]);
    });
    expect(native.names).toEqual([...native.names].sort());
  });

  it.skipIf(!built)('sorts as JavaScript does where byte order differs (a character past U+FFFF)', () => {
    for (const name of ['\u{1F600}.md', '\uE000.md', 'a.md']) writeFileSync(join(dir, name), name);
    // In byte (code point) order U+E000 comes first; in JavaScript's (UTF-16 unit) order, last.
    const [joined, , sameOrder] = nativeAddon()!.readFolder(dir);
    expect([joined.split('/'), sameOrder]).toEqual([['a.md', '\uE000.md', '\u{1F600}.md'], false]);
    const native = readNative(dir);
    expect(native.names).toEqual(['a.md', '\u{1F600}.md', '\uE000.md']);
    expect(native).toEqual(readFolderPlain(dir, everyName));
  });

  it.skipIf(!built)('reports a name that is not UTF-8 as missing, as Node.js cannot name it', () => {
    writeFileSync(Buffer.from(join(dir, 'bad-\xff-name.md'), 'latin1'), 'x');
    writeFileSync(join(dir, 'good.md'), 'x');
    const plain = readFolderPlain(dir, everyName);
    const native = readNative(dir);
    expect(native.names).toEqual(plain.names);
    expect([...native.stats]).toEqual([...plain.stats]);
    const bad = native.names.findIndex((n) => n.startsWith('bad-'));
    expect(native.stats[bad * FIELDS + KIND]).toBe(MISSING);
  });

  it.skipIf(!built)('agrees on an empty folder, a large one, and folders that cannot be read', () => {
    const empty = readNative(dir);
    expect({ names: empty.names, stats: empty.stats, joined: empty.joined, fromRecord: empty.fromRecord }).toEqual({ names: [], stats: new Float64Array(0), joined: '', fromRecord: false });
    // The folder's own inode and times, and when they were taken (a catalog's record of the folder).
    expect(empty.folder?.[0]).toBe(lstatSync(dir).ino);
    expect(empty.folder?.[1]).toBe(lstatSync(dir).mtimeMs);
    for (let i = 0; i < 2500; i++) writeFileSync(join(dir, `m-${String(i).padStart(5, '0')}.md`), String(i)); // past the threaded size
    const native = readNative(dir);
    const plain = readFolderPlain(dir, everyName);
    expect(native.names).toHaveLength(2500);
    expect([...native.stats]).toEqual([...plain.stats]);
    // What the catalog's clean index compares is the same both ways.
    expect(joinedNames(native)).toBe(joinedNames(plain));

    const codeOf = (read: () => unknown) => {
      try {
        read();
        return 'read';
      } catch (err) {
        return (err as NodeJS.ErrnoException).code;
      }
    };
    for (const folder of [join(dir, 'missing'), join(dir, 'm-00001.md')]) {
      expect(codeOf(() => readNative(folder))).toBe(codeOf(() => readFolderPlain(folder, everyName)));
    }
    const tooLong = join(dir, 'x'.repeat(9000));
    expect(codeOf(() => readNative(tooLong))).toBe(codeOf(() => readFolderPlain(tooLong, everyName)));
    expect(codeOf(() => readNative(join(dir, 'missing')))).toBe('ENOENT');
    expect(codeOf(() => readNative(join(dir, 'm-00001.md')))).toBe('ENOTDIR');
  });

  // Root reads and searches any folder: the command line runs as an unprivileged user for this.
  it.skipIf(!built)('reports each file of a folder it may list but not search alike, with and without the addon', (test) => {
    const h = makeHome();
    try {
      expect(h.run(['--context', 'c', 'create', '--title', 'Kept', '--content', 'x', '--type', 'long_term']).code).toBe(0);
      expect(h.run(['--context', 'c', 'create', '--title', 'Hidden', '--content', 'x']).code).toBe(0);
      const context = join(h.wmHome, 'c');
      const asRoot = process.getuid?.() === 0;
      // Skipped only as root with a build the unprivileged user cannot read (a checkout inside a
      // private folder): root searches any folder, so only that user meets the denied lookups.
      // In CI and here the build is readable and the test runs.
      if (asRoot && !handTo(UNPRIVILEGED, h.home, context)) return test.skip('running as root, and the build is not readable by an unprivileged user');
      chmodSync(join(context, 'memory', 'short_term'), 0o600); // listed (r), not searched (no x)
      const list = (env: Record<string, string>) => h.run(['--context', 'c', '--json', 'list'], { env, uid: asRoot ? UNPRIVILEGED : undefined });
      const native = list({});
      const plain = list({ WHITEMAGIC_NATIVE: '0' });
      expect(native.code, native.stderr).toBe(0);
      expect(JSON.parse(native.stdout).memories.map((m: { title: string }) => m.title)).toEqual(['Kept']);
      expect(native.stderr).toMatch(/memory\/short_term\/.*\.md: permission denied/);
      expect(plain).toEqual(native);
    } finally {
      spawnSync('chmod', ['-R', 'u+rwx', h.home]);
      h.cleanup();
    }
  });

  // The C library may set errno in a call that succeeds (glibc's malloc does, when growing its
  // heap fails and it maps memory instead). The addon took that for a failed readdir: on a loaded
  // machine `list` failed now and then with "ENOMEM ... scandir". A preloaded strdup that always
  // succeeds and always sets errno makes it happen every time. Skipped only where the addon was not
  // built, there is no C compiler to build the preload, or LD_PRELOAD is not Linux's (it runs in CI).
  const cc = spawnSync('cc', ['--version']).status === 0;
  it.skipIf(!built || !cc || process.platform !== 'linux')('is not misled by errno left set by a call that succeeded', () => {
    const shim = join(dir, 'errno-shim.c');
    writeFileSync(
      shim,
      '#define _GNU_SOURCE\n#include <dlfcn.h>\n#include <errno.h>\n' +
        'char *strdup(const char *s) { static char *(*real)(const char *); if (!real) real = (char *(*)(const char *))dlsym(RTLD_NEXT, "strdup");' +
        ' char *copy = real(s); errno = ENOMEM; return copy; }\n',
    );
    const lib = join(dir, 'errno-shim.so');
    const compiled = spawnSync('cc', ['-shared', '-fPIC', '-o', lib, shim, '-ldl'], { encoding: 'utf8' });
    expect(compiled.status, compiled.stderr).toBe(0);
    const folder = join(dir, 'memories');
    mkdirSync(folder);
    for (let i = 0; i < 300; i++) writeFileSync(join(folder, `m-${i}.md`), 'x');
    const script = `const r = require(${JSON.stringify(ADDON)}).readFolder(${JSON.stringify(folder)}); console.log(r[0].split('/').length)`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, LD_PRELOAD: lib } });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('300');
  });

  // In a child process: a process reads ahead once (the state is the addon's own).
  it.skipIf(!built)('hands a folder read ahead to the first read of that path only, and reads a failed one again', () => {
    const ahead = join(dir, 'ahead');
    const later = join(dir, 'later');
    mkdirSync(ahead);
    mkdirSync(later);
    writeFileSync(join(ahead, 'a.md'), 'one');
    const script = `
      const fs = require('fs');
      const addon = require(${JSON.stringify(ADDON)});
      const sizes = (folder) => [...addon.readFolder(folder)[1]].filter((_, i) => i % 5 === 1);
      addon.prefetch([${JSON.stringify(ahead)}, ${JSON.stringify(join(dir, 'missing'))}]);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500); // the thread (microseconds of work) has read by now, even on a loaded machine
      fs.appendFileSync(${JSON.stringify(join(ahead, 'a.md'))}, ' two');
      fs.mkdirSync(${JSON.stringify(join(dir, 'missing'))});
      fs.writeFileSync(${JSON.stringify(join(later, 'b.md'))}, 'b');
      console.log(JSON.stringify({
        first: sizes(${JSON.stringify(ahead)}),
        second: sizes(${JSON.stringify(ahead)}),
        missing: addon.readFolder(${JSON.stringify(join(dir, 'missing'))})[0],
        later: sizes(${JSON.stringify(later)}),
      }));`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    // The first read is the one taken ahead (before the append); the next reads the folder again.
    // The folder that was missing then is read now rather than failing with the old error.
    expect(JSON.parse(run.stdout)).toEqual({ first: [3], second: [7], missing: '', later: [1] });
  });

  it('turns a failed lstat into the error Node.js would give', () => {
    const err = statError(-13, '/x/a.md');
    expect(err).toMatchObject({ code: 'EACCES', errno: -13, syscall: 'lstat', path: '/x/a.md' });
    expect(err.message).toBe("EACCES: permission denied, lstat '/x/a.md'");
  });

  it('states only the names the caller wants on the plain path', () => {
    writeFileSync(join(dir, 'a.md'), 'x');
    writeFileSync(join(dir, 'b.tmp'), 'x');
    const { names, stats } = readFolderPlain(dir, (name) => name.endsWith('.md'));
    expect(names).toEqual(['a.md', 'b.tmp']);
    expect([stats[KIND], stats[FIELDS + KIND]]).toEqual([FILE, MISSING]);
  });
});

/** native/folder.c's listingDigest, in JavaScript (BigInt), to check the C against. */
function digestHere(listings: Array<FolderListing | undefined>): string {
  const MASK = (1n << 64n) - 1n;
  const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (64n - r))) & MASK;
  let a = 0x243f6a8885a308d3n;
  let b = 0x13198a2e03707344n;
  let length = 0n;
  const word = (w: bigint) => {
    a = rotl(((a ^ w) * 0x9e3779b97f4a7c15n) & MASK, 31n);
    b = rotl(((b + w) * 0xc2b2ae3d27d4eb4fn) & MASK, 29n) ^ a;
  };
  const bytes = (data: Uint8Array) => {
    let i = 0;
    for (; i + 8 <= data.length; i += 8) word(Buffer.from(data.subarray(i, i + 8)).readBigUInt64LE(0));
    const tail = Buffer.alloc(8);
    tail.set(data.subarray(i));
    word(tail.readBigUInt64LE(0));
    word(BigInt(data.length));
    length += BigInt(data.length);
  };
  listings.forEach((listing, i) => {
    word(BigInt(i));
    if (!listing) return word(MASK);
    bytes(Buffer.from(joinedNames(listing), 'utf8'));
    bytes(new Uint8Array(listing.stats.buffer, listing.stats.byteOffset, listing.stats.byteLength));
  });
  word(length);
  return a.toString(16).padStart(16, '0') + b.toString(16).padStart(16, '0');
}
