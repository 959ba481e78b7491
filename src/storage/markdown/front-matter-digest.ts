import { readFileSync } from 'node:fs';
import { nativeAddon } from '../../util/native.js';

/**
 * The digest of a memory file's front matter: what lets a command tell, from a file's bytes and
 * without parsing them, that a file whose stat changed still has the front matter its catalog
 * record was read from (an editor appended to the body, or saved it unchanged). The catalog keeps
 * it beside the stat (catalog.ts); a file whose digest matches keeps its record with its new stat.
 *
 * It covers the bytes from the start of the file to the end of the closing `---` of the front
 * matter, as splitFrontMatter (file-format.ts) finds it: the first `\n---` after the opening
 * `---`. Those bytes decide the split, the block and so the whole header, when the header came
 * from the front matter alone (its title and creation time written there: see
 * `ParsedHeader.fromFrontMatter`); the body only matters for a NUL byte, which `sameFrontMatter`
 * looks for. Written as `<length>.<16 hex digits>`: the length, and two 32-bit hashes mixed
 * differently (an accidental change that keeps the length collides once in 2^64; like git's stat
 * check, this guards against accidents, not against someone forging their own files).
 */
export function frontMatterDigest(bytes: Uint8Array): string | undefined {
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  if (bytes[start] !== DASH || bytes[start + 1] !== DASH || bytes[start + 2] !== DASH || bytes[start + 3] === DASH) return undefined;
  const close = indexOfClose(bytes, start + 3);
  if (close === -1) return undefined;
  const end = close + 4;
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  for (let i = 0; i < end; i++) {
    const b = bytes[i];
    h1 = Math.imul(h1 ^ b, 0x01000193);
    h2 = Math.imul(h2 ^ b, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  return `${end}.${hex8(h1)}${hex8(h2)}`;
}

/**
 * Whether `bytes` (a whole file) have the front matter of `digest` and no NUL byte: its catalog
 * record, read from that front matter, is then still its header.
 */
export function sameFrontMatter(bytes: Uint8Array, digest: string): boolean {
  const dot = digest.indexOf('.');
  // The length first: most changes to front matter change it, and then nothing is hashed.
  if (dot <= 0 || bytes.length < Number(digest.slice(0, dot))) return false;
  return frontMatterDigest(bytes) === digest && bytes.indexOf(0) === -1;
}

/**
 * The digest of each file's front matter, where it has one and no NUL byte; null where the caller
 * must read the file itself to know (it has none, or could not be read). Through the native addon
 * where it is built (one call for all the files), else a read of each.
 */
export function fileDigests(paths: string[]): Array<string | null> {
  const native = nativeAddon()?.frontMatterDigests;
  if (native) return native(paths);
  return paths.map((path) => {
    try {
      const bytes = readFileSync(path);
      return bytes.indexOf(0) === -1 ? (frontMatterDigest(bytes) ?? null) : null;
    } catch {
      return null;
    }
  });
}

const DASH = 0x2d;
const NEWLINE = 0x0a;

/** Where the first `\n---` at or after `from` starts, or -1. */
function indexOfClose(bytes: Uint8Array, from: number): number {
  for (let i = bytes.indexOf(NEWLINE, from); i !== -1; i = bytes.indexOf(NEWLINE, i + 1)) {
    if (bytes[i + 1] === DASH && bytes[i + 2] === DASH && bytes[i + 3] === DASH) return i;
  }
  return -1;
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}
