import { createHash } from 'node:crypto';
import { grown } from '../util/typed-arrays.js';

/**
 * A backup's `manifest.json` read as it streams out of the archive. Its `files` list has an item
 * per memory (about 200 bytes of JSON each: 20 MB at 100,000 memories), so reading it whole (the
 * bytes, the string, the parsed objects) would take several times that. Instead a scanner follows
 * the JSON's structure byte by byte: each item of the top-level `files` array is parsed on its own
 * as soon as it is complete and kept in `ManifestFiles` (lean: typed arrays), and the rest of the
 * manifest (a few hundred bytes) is parsed at the end with `"files": []` in place of the list.
 *
 * Any JSON is read correctly, however it is laid out: every byte goes either to an item, parsed
 * with JSON.parse, or to the rest, parsed with JSON.parse, and the commas between items are
 * checked; text that is not valid JSON fails one of those. One difference from a plain JSON.parse:
 * a manifest with two top-level `files` keys is refused rather than the last one winning.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Why a manifest could not be read: not JSON at all, or JSON of the wrong shape. */
export type ManifestFault = 'json' | 'shape';

export class ManifestStream {
  /** Bytes outside the files list's content. */
  private rest: Buffer[] = [];
  /** Bytes of the files item being read. */
  private piece: Buffer[] = [];
  private depth = 0;
  private inString = false;
  private escape = false;
  /** The top-level value is an object (undefined until its first byte). */
  private topObject: boolean | undefined;
  /** At depth 1 of the top object, the next string is a key. */
  private expectKey = false;
  /** Bytes of the depth-1 key being read, when one is. */
  private key: Buffer[] | undefined;
  private lastKey: string | undefined;
  /** After `"files":`, until the value starts. */
  private filesNext = false;
  /** Inside the files list (at depth 2 and deeper). */
  private inFiles = false;
  private filesFound = false;
  /** Items of the list so far, and whether a comma came after the last. */
  private items = 0;
  private afterComma = false;
  fault: ManifestFault | undefined;

  /** `onItem` gets each item of the files list, parsed; not called at all when undefined (only counted). */
  constructor(private readonly onItem?: (item: unknown) => void) {}

  /** How many items the files list has. */
  get listed(): number {
    return this.items;
  }

  write(chunk: Buffer): void {
    if (this.fault === 'json') return;
    let start = 0;
    let keyStart = this.key ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (c === BACKSLASH) this.escape = true;
        else if (c === QUOTE) {
          this.inString = false;
          if (keyStart !== -1) {
            this.key!.push(chunk.subarray(keyStart, i + 1));
            this.lastKey = parseOr(Buffer.concat(this.key!).toString('utf8'));
            this.key = undefined;
            keyStart = -1;
          }
        }
        continue;
      }
      if (isSpace(c)) continue;
      if (this.filesNext && c !== LBRACKET) this.filesNext = false;
      switch (c) {
        case QUOTE:
          this.inString = true;
          if (this.depth === 1 && this.topObject && this.expectKey) {
            this.key = [];
            keyStart = i;
          }
          break;
        case LBRACE:
        case LBRACKET:
          if (this.depth === 0) {
            this.topObject = c === LBRACE;
            this.expectKey = this.topObject;
          }
          if (this.filesNext) {
            this.filesNext = false;
            if (this.filesFound) this.fault ??= 'shape';
            this.filesFound = true;
            this.inFiles = true;
            this.depth++;
            // The list's `[` stays in the rest; its content goes to items.
            this.rest.push(chunk.subarray(start, i + 1));
            start = i + 1;
            continue;
          }
          this.depth++;
          break;
        case RBRACE:
        case RBRACKET:
          if (this.inFiles && this.depth === 2) {
            // The end of the list: its last item (none if the list is empty).
            this.piece.push(chunk.subarray(start, i));
            this.endItem(true);
            this.inFiles = false;
            start = i;
          }
          this.depth--;
          if (this.depth < 0) return this.fail();
          break;
        case COMMA:
          if (this.inFiles && this.depth === 2) {
            this.piece.push(chunk.subarray(start, i));
            this.endItem(false);
            start = i + 1;
            continue;
          }
          if (this.depth === 1) this.expectKey = Boolean(this.topObject);
          break;
        case COLON:
          if (this.depth === 1 && this.topObject && !this.inFiles) {
            this.expectKey = false;
            this.filesNext = this.lastKey === 'files';
          }
          break;
      }
    }
    if (keyStart !== -1) this.key!.push(chunk.subarray(keyStart));
    (this.inFiles ? this.piece : this.rest).push(chunk.subarray(start));
  }

  /** One item of the files list has ended (at a comma, or at the list's `]`). */
  private endItem(last: boolean): void {
    const text = (this.piece.length === 1 ? this.piece[0] : Buffer.concat(this.piece)).toString('utf8').trim();
    this.piece = [];
    if (!text) {
      // `[]` is an empty list; an empty item anywhere else (`[,`, `,,`, `,]`) is no JSON.
      if (last && this.items === 0 && !this.afterComma) return;
      return this.fail();
    }
    this.afterComma = !last;
    this.items++;
    if (!this.onItem) return;
    let item: unknown;
    try {
      item = JSON.parse(text);
    } catch {
      return this.fail();
    }
    this.onItem(item);
  }

  private fail(): void {
    this.fault = 'json';
    this.rest = [];
    this.piece = [];
  }

  /**
   * The manifest without its files list (`files: []` when it had one), or the fault. A manifest
   * whose files list was found holds `files` as an empty array; one without any has none.
   */
  end(): { value?: Record<string, unknown>; fault?: ManifestFault } {
    if (this.fault === 'json' || this.inString || this.depth !== 0 || this.inFiles) return { fault: 'json' };
    let value: unknown;
    try {
      value = JSON.parse(Buffer.concat(this.rest).toString('utf8'));
    } catch {
      return { fault: 'json' };
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) return { fault: 'shape' };
    return { value: value as Record<string, unknown>, fault: this.fault };
  }
}

/** A JSON string's value, or undefined when the text is not one. */
function parseOr(text: string): string | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

export const digestOf = (data: Buffer): Buffer => createHash('sha256').update(data).digest();

/**
 * The files a manifest lists, kept lean (a backup of 100,000 memories lists 100,000): each path
 * once, with its size and binary sha256 in typed arrays that grow as needed, and what a check of
 * the archive found of it.
 */
export class ManifestFiles {
  /** Listed paths, in the manifest's order (each once). */
  readonly paths: string[] = [];
  private readonly index = new Map<string, number>();
  private sizes = new Float64Array(256);
  private hashes = Buffer.alloc(256 * 32);
  /** 0: not seen in the archive; 1: seen and matching; 2: seen and wrong (see `wrong`). */
  private state = new Uint8Array(256);
  private readonly wrong = new Map<number, string>();
  /** Sizes that are not numbers, as the manifest gave them (they match nothing). */
  private readonly oddSizes = new Map<number, unknown>();
  /** Listed files whose hash is not a lowercase sha256 in hex (they match nothing). */
  private readonly badHash = new Set<number>();

  get size(): number {
    return this.paths.length;
  }

  has(path: string): boolean {
    return this.index.has(path);
  }

  /** Adds a listed file; false if the path is listed already with another size or hash. */
  add(path: string, size: unknown, sha: unknown): boolean {
    const hex = typeof sha === 'string' && /^[0-9a-f]{64}$/.test(sha) ? sha : undefined;
    const known = this.index.get(path);
    if (known !== undefined) {
      return this.sizes[known] === size && hex !== undefined && this.hashes.toString('hex', known * 32, known * 32 + 32) === hex;
    }
    const i = this.paths.length;
    if (i === this.sizes.length) this.grow();
    this.paths.push(path);
    this.index.set(path, i);
    if (typeof size === 'number') this.sizes[i] = size;
    else {
      this.sizes[i] = NaN;
      this.oddSizes.set(i, size);
    }
    if (hex) this.hashes.write(hex, i * 32, 32, 'hex');
    else this.badHash.add(i);
    return true;
  }

  private grow(): void {
    const n = this.sizes.length * 2;
    this.sizes = grown(this.sizes, n);
    this.hashes = grown(this.hashes, n * 32);
    this.state = grown(this.state, n);
  }

  /** What is wrong with a file of `size` bytes as the listed file `path`, or undefined when it matches (or is not listed). */
  mismatch(path: string, size: number, digest: () => Buffer): string | undefined {
    const i = this.index.get(path);
    if (i === undefined) return undefined;
    if (size !== this.sizes[i]) {
      const said = Number.isNaN(this.sizes[i]) ? JSON.stringify(this.oddSizes.get(i)) : this.sizes[i];
      return `size ${size} bytes, manifest says ${said}`;
    }
    if (this.badHash.has(i) || !digest().equals(this.hashes.subarray(i * 32, i * 32 + 32))) return 'sha256 differs from the manifest (changed or corrupt)';
    return undefined;
  }

  /** Whether `data` is exactly the listed file `path`. */
  matches(path: string, data: Buffer): boolean {
    return this.has(path) && this.mismatch(path, data.length, () => digestOf(data)) === undefined;
  }

  /** Notes what the archive holds at the listed path. */
  see(path: string, wrong: string | undefined): void {
    const i = this.index.get(path)!;
    this.state[i] = wrong === undefined ? 1 : 2;
    if (wrong !== undefined) this.wrong.set(i, wrong);
  }

  /** Whether the archive held the listed path already. */
  seen(path: string): boolean {
    const i = this.index.get(path);
    return i !== undefined && this.state[i] !== 0;
  }

  /** What the check found of the listed file at `i`: whether the archive held it, and what was wrong. */
  found(i: number): { seen: boolean; wrong?: string } {
    return { seen: this.state[i] !== 0, wrong: this.wrong.get(i) };
  }
}
