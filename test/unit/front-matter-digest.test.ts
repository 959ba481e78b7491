import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { fileDigests, frontMatterDigest, sameFrontMatter } from '../../src/storage/markdown/front-matter-digest.js';
import { parseMemoryHeader, splitFrontMatter } from '../../src/storage/markdown/file-format.js';
import { digestOfLine, formatLine, recordOfLine } from '../../src/storage/markdown/catalog.js';
import { setNativeAddon } from '../../src/util/native.js';

/**
 * The digest of a file's front matter stands for its header when a file's stat changed
 * (catalog-patch.ts): equal digests must mean equal headers, whatever else changed.
 */
const FILES = [
  '---\nid: a1\ntitle: Plain\ntags:\n  - x\ncreated: 2024-01-01T00:00:00.000Z\nupdated: 2024-01-01T00:00:00.000Z\n---\n\nBody.\n',
  '\ufeff---\ntitle: With a BOM\ncreated: 2024-01-01\n---\nBody\n',
  '---yaml\r\ntitle: CRLF and a language\r\ncreated: 2024-01-01T00:00:00Z\r\n---\r\nBody\r\n',
  '---\ntitle: "Ünïcode ☕ 😀"\ncreated: 2024-01-01T00:00:00Z\nnote: [1, 2]\n---\n# Heading\n',
  '---\ntitle: Closed by a longer line\ncreated: 2024-01-01T00:00:00Z\n-----\nBody\n',
  '---\ntitle: No body\ncreated: 2024-01-01T00:00:00Z\n---',
  '---\n---\n# Empty front matter\n',
  '----\ntitle: not front matter\n----\n',
  '---\ntitle: never closed\n',
  'No front matter at all\n',
  '',
];

describe('front matter digest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wm-digest-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is given exactly when splitFrontMatter finds a closed front matter, and covers it', () => {
    for (const text of FILES) {
      const bytes = Buffer.from(text);
      const digest = frontMatterDigest(bytes);
      const plain = text.replace(/^\ufeff/, '');
      const closed = plain.startsWith('---') && plain[3] !== '-' && plain.indexOf('\n---', 3) !== -1;
      expect(digest !== undefined, JSON.stringify(text)).toBe(closed);
      if (!digest) continue;
      // It ends where splitFrontMatter's block ends: just past the closing `---`.
      const end = Number(digest.slice(0, digest.indexOf('.')));
      expect(bytes.subarray(end - 4, end).toString(), JSON.stringify(text)).toBe('\n---');
      expect(bytes.subarray(0, end).toString().includes(splitFrontMatter(plain).body.trim() || '\u0000')).toBe(false);
    }
  });

  it('stays when only the body changes, and equal digests give equal headers', () => {
    const random = seeded(7);
    let changedFrontMatter = 0;
    for (const text of FILES.slice(0, 6)) {
      const bytes = Buffer.from(text);
      const digest = frontMatterDigest(bytes)!;
      const end = Number(digest.slice(0, digest.indexOf('.')));
      const header = parseMemoryHeader(text, 'x.md', new Date(0));
      expect(header.fromFrontMatter, text).toBe(true);
      for (let trial = 0; trial < 400; trial++) {
        const mutated = Buffer.from(bytes);
        const at = Math.floor(random() * mutated.length);
        mutated[at] = 0x20 + Math.floor(random() * 0x5e);
        const appended = Buffer.concat([mutated, Buffer.from(`\nappended ${trial}\n`)]);
        for (const file of [mutated, appended]) {
          const now = frontMatterDigest(file);
          // A change after the front matter keeps the digest; a change within it does not.
          if (at >= end || mutated[at] === bytes[at]) expect(now).toBe(digest);
          else expect(now).not.toBe(digest);
          if (now === digest) {
            expect(sameFrontMatter(file, digest)).toBe(true);
            expect(parseMemoryHeader(file.toString(), 'x.md', new Date(0))).toEqual(header);
          } else changedFrontMatter++;
        }
      }
    }
    expect(changedFrontMatter).toBeGreaterThan(100); // the trials changed front matter too
  });

  it('is not vouched for by a file with a NUL byte, or by other front matter of the same length', () => {
    const text = FILES[0];
    const digest = frontMatterDigest(Buffer.from(text))!;
    expect(sameFrontMatter(Buffer.from(`${text}NUL \u0000 in the body\n`), digest)).toBe(false);
    expect(sameFrontMatter(Buffer.from(text.replace('Plain', 'Plan!')), digest)).toBe(false);
    expect(sameFrontMatter(Buffer.from(`${text}more body\n`), digest)).toBe(true);
  });

  const built = existsSync(fileURLToPath(new URL('../../build/Release/whitemagic_native.node', import.meta.url)));
  it.skipIf(!built)('is the same read natively, which may only leave a file to be read by its caller (null)', () => {
    const paths = FILES.map((text, i) => {
      const path = join(dir, `f${i}.md`);
      writeFileSync(path, text);
      return path;
    });
    const long = join(dir, 'long.md');
    writeFileSync(long, `---\ntitle: Long front matter\nnote: ${'x'.repeat(70_000)}\ncreated: 2024-01-01T00:00:00Z\n---\nbody\n`);
    const nulFar = join(dir, 'nul-far.md');
    writeFileSync(nulFar, `${FILES[0]}${'y'.repeat(70_000)}\u0000\n`);
    const link = join(dir, 'link.md');
    symlinkSync(paths[0], link);
    const all = [...paths, long, nulFar, link, join(dir, 'missing.md')];
    try {
      setNativeAddon(false);
      const plain = fileDigests(all);
      setNativeAddon(true);
      const native = fileDigests(all);
      expect(native.slice(0, FILES.length)).toEqual(plain.slice(0, FILES.length));
      expect(plain.slice(FILES.length)).toEqual([expect.any(String), null, expect.any(String), null]);
      expect(native.slice(FILES.length)).toEqual([null, null, null, null]); // read by the caller
      // Past 64 files the reads are shared between two threads: the same answers, in order.
      const many = Array.from({ length: 9 }, () => all).flat();
      expect(fileDigests(many)).toEqual(Array.from({ length: 9 }, () => native).flat());
    } finally {
      setNativeAddon(undefined);
    }
  });

  it('is read from a catalog line as the whole record gives it', () => {
    const st = { size: 1234, mtimeMs: 1700000000123.25, ctimeMs: 1700000000456.5, ino: 987654 };
    const body = { id: 'a1', title: 'T', tags: ['x'], created: '2024-01-01T00:00:00.000Z', updated: '2024-01-01T00:00:00.000Z', meta: {}, derivedId: false };
    for (const [file, digest] of [['plain.md', '301.0123456789abcdef'], ['tab\there.md', '12.fedcba9876543210'], ['nodigest.md', undefined]] as const) {
      const line = formatLine('long_term', file, st, { ...body, digest })!;
      const record = recordOfLine(line)!;
      expect(record.digest).toBe(digest ?? '-');
      const lean = digestOfLine(line, 'long_term', file);
      if (file.includes('\t')) expect(lean).toBeUndefined(); // a quoted key: the whole record is read instead
      else expect(lean).toEqual({ size: 1234, digest: record.digest, digestAt: record.digestAt });
      expect(digestOfLine(line, 'short_term', file)).toBeUndefined();
    }
    expect(digestOfLine(formatLine('archive', 'bad.md', st, 'cannot parse')!, 'archive', 'bad.md')).toBeUndefined();
  });
});

/** A small deterministic random source, so a failure can be replayed. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
