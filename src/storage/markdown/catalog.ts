import { readFileSync, unlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { lazyModule } from '../../util/lazy.js';
import { MEMORY_TYPES, type MemoryHeader, type MemoryType } from '../../memory/types.js';

/** Loaded on first write: reading commands never pay for it. */
const writeFileAtomic = lazyModule<typeof import('write-file-atomic')>(() => require('write-file-atomic'));

/**
 * The catalog of a markdown context: a derived file holding the front matter of every memory file,
 * keyed by `<type>/<file>` with the file's size, times and inode, so a command re-reads only the
 * files that changed since the last command instead of parsing all of them.
 *
 * It is a cache, never the truth: every command still lists the three folders and stats each file
 * (SPEC section 3: files edited, added, copied in or removed by hand are seen by the next command),
 * and any file whose stat differs from its record is parsed again. A missing, unreadable, foreign
 * or damaged catalog only costs a rebuild. It is written atomically and never backed up.
 *
 * The format is one line per file, in the order the backend reads the folders (type, then file
 * name), so a command walks it beside the sorted folder listing without building a map of it:
 *
 *     whitemagic-catalog 2 <scannedAt>
 *     <type>/<file> TAB size TAB mtime TAB ctime TAB ino TAB id TAB created TAB updated TAB tags TAB rest
 *
 * Times are the 16 hex digits of the stat's `mtimeMs` and `ctimeMs` as IEEE doubles: compared
 * exactly and without making a string per file (turning two doubles into decimal text for each
 * of 10,000 files cost over 10 ms).
 * `tags` is a JSON list and `rest` a JSON array [title, meta or 0, derivedId 0/1]: both are parsed
 * only when a command needs them (a `list` of 20 parses 20, not 10,000). A file that cannot be read
 * has `!` for its id and the problem as a JSON string after it. The file is plain ASCII (other
 * characters are JSON escapes; a key that is not plain is a JSON string), so it loads as a one-byte
 * string, half the memory of a two-byte one.
 */
export const CATALOG_FILE = '.whitemagic-catalog.tsv';

/** Catalogs of earlier versions: removed when a new one is written. */
const OLD_CATALOG_FILES = ['.whitemagic-catalog.json'];

/** The first line's start; bump the version when the record layout changes (an older catalog is then rebuilt). */
const MAGIC = 'whitemagic-catalog 2 ';

/**
 * A record is trusted only if its file was last changed this long before the catalog's scan began.
 * File times are coarse (a clock tick, up to 2 s on some file systems): a file rewritten within the
 * same tick as it was read could keep the same size and times, the "racily clean" case git knows.
 */
export const RACY_MS = 2_000;

/** The id column of a record of a file that cannot be read (no memory id starts with `!`). */
const PROBLEM = '!';

type FileStat = Pick<Stats, 'size' | 'mtimeMs' | 'ctimeMs' | 'ino'>;

/** The catalog as loaded: its record lines (from `start` in `text`) and when its scan began. */
export interface Catalog {
  text: string;
  start: number;
  scannedAt: number;
}

/** The catalog of the context at `dir`; empty when missing, unreadable or of another version. */
export function loadCatalog(dir: string): Catalog {
  let text: string;
  try {
    // latin1: the file is ASCII, and this makes a one-byte string without decoding UTF-8.
    text = readFileSync(join(dir, CATALOG_FILE), 'latin1');
  } catch {
    return { text: '', start: 0, scannedAt: 0 };
  }
  const eol = text.indexOf('\n');
  const scannedAt = text.startsWith(MAGIC) && eol > 0 ? Number(text.slice(MAGIC.length, eol)) : NaN;
  if (!Number.isFinite(scannedAt)) return { text: '', start: 0, scannedAt: 0 };
  return { text, start: eol + 1, scannedAt };
}

/** The file last changed long enough before `scanStart` that an unchanged stat means unchanged content. */
export function settled(st: FileStat, scanStart: number): boolean {
  return Math.max(st.mtimeMs, st.ctimeMs) < scanStart - RACY_MS;
}

/**
 * Walks the catalog's lines in step with the backend's reading order (type, then file name). Lines
 * of files passed over were removed since; a file with no line is new. A line that is out of order
 * or damaged only means its file is read again, never a crash. What `take` finds is left in the
 * cursor's fields rather than in a new object: this runs once per file.
 */
export class CatalogCursor {
  /** Start of the current line. */
  pos: number;
  /** Lines passed over: files removed or renamed since, or damaged lines. */
  skipped = 0;
  /** Set by take: the line taken ([lineStart, lineEnd) including its newline), and its record. */
  lineStart = 0;
  lineEnd = 0;
  id = '';
  created = '';
  updated = '';
  tailStart = 0;
  tailEnd = 0;
  /** Set by take for a record of a file that cannot be read; undefined otherwise. */
  problem: string | undefined;

  constructor(readonly text: string, start: number) {
    this.pos = start;
  }

  /**
   * Moves to the line of `type`/`file` and returns where its fields begin (after the key's tab),
   * or -1 when the catalog has no line for it; lines of files ordered before it are passed over.
   */
  seek(typeIndex: number, type: string, file: string): number {
    const text = this.text;
    while (this.pos < text.length) {
      const pos = this.pos;
      // The common case: the next line is this file's, under a plain key.
      const slash = pos + type.length;
      const tab = slash + 1 + file.length;
      if (text.charCodeAt(tab) === 9 && text.charCodeAt(slash) === 47 && text.startsWith(file, slash + 1) && text.startsWith(type, pos)) return tab + 1;
      const order = compareKey(text, pos, typeIndex, file);
      if (order > 0) return -1; // a new file: the line here belongs to a later one
      if (order === 0) return text.indexOf('\t', pos) + 1; // a key written as a JSON string
      const end = text.indexOf('\n', pos);
      this.pos = end === -1 ? text.length : end + 1;
      this.skipped++;
    }
    return -1;
  }

  /**
   * Takes the current line, given where its fields begin: true if the file is exactly as recorded
   * (same size, times and inode) and the record well formed, its parts then in this cursor's
   * fields. False: read the file.
   */
  take(fields: number, st: FileStat): boolean {
    const text = this.text;
    const end = text.indexOf('\n', fields);
    this.lineStart = this.pos;
    this.pos = end === -1 ? text.length : end + 1;
    this.lineEnd = this.pos;
    if (end === -1) return false;
    const a = sameStat(text, fields, st);
    if (a === -1) return false;
    const t1 = text.indexOf('\t', a);
    if (t1 === -1 || t1 > end || t1 === a) return false;
    if (t1 - a === 1 && text.charCodeAt(a) === 33) {
      const problem = parseJson(text.slice(t1 + 1, end));
      this.problem = typeof problem === 'string' ? problem : undefined;
      return this.problem !== undefined;
    }
    const t2 = text.indexOf('\t', t1 + 1);
    const t3 = t2 === -1 ? -1 : text.indexOf('\t', t2 + 1);
    if (t3 === -1 || t3 > end || t2 === t1 + 1 || t3 === t2 + 1) return false;
    this.problem = undefined;
    this.id = text.slice(a, t1);
    this.created = text.slice(t1 + 1, t2);
    this.updated = text.slice(t2 + 1, t3);
    this.tailStart = t3 + 1;
    this.tailEnd = end;
    return true;
  }

  /** Lines left after the last file: their files are gone. */
  get rest(): boolean {
    return this.pos < this.text.length;
  }
}

/** Big-endian view of one double, to read and write times as their bits. */
const timeBits = new DataView(new ArrayBuffer(8));

/** A time as 16 hex digits (the bits of the double). */
function hexTime(ms: number): string {
  timeBits.setFloat64(0, ms);
  return timeBits.getUint32(0).toString(16).padStart(8, '0') + timeBits.getUint32(4).toString(16).padStart(8, '0');
}

/**
 * Whether the columns at `at` are `size TAB mtime TAB ctime TAB ino TAB` of this stat: where the
 * next column begins, or -1. Read digit by digit: no string is made.
 */
function sameStat(text: string, at: number, st: FileStat): number {
  let p = decimalIs(text, at, st.size);
  if (p === -1 || !timeIs(text, p, st.mtimeMs)) return -1;
  p += 17;
  if (!timeIs(text, p, st.ctimeMs)) return -1;
  return decimalIs(text, p + 17, st.ino);
}

/** Whether a whole number `value` is written at `at`, followed by a tab: the position after the tab, or -1. */
function decimalIs(text: string, at: number, value: number): number {
  let n = 0;
  let p = at;
  for (let c = text.charCodeAt(p); c >= 48 && c <= 57; c = text.charCodeAt(++p)) n = n * 10 + (c - 48);
  return p > at && p - at <= 16 && text.charCodeAt(p) === 9 && n === value ? p + 1 : -1;
}

/**
 * Whether the 16 hex digits at `at`, followed by a tab, are the time `ms`. Compared 16 bits at a
 * time: small integers, which even unoptimised code handles without allocating.
 */
function timeIs(text: string, at: number, ms: number): boolean {
  timeBits.setFloat64(0, ms);
  for (let i = 0; i < 4; i++) {
    let n = 0;
    for (let p = at + 4 * i; p < at + 4 * i + 4; p++) {
      const c = text.charCodeAt(p);
      const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
      if (digit === -1) return false;
      n = n * 16 + digit;
    }
    if (n !== timeBits.getUint16(2 * i)) return false;
  }
  return text.charCodeAt(at + 16) === 9;
}

/** A key that can be written as is: printable ASCII, no backslash, not starting with a quote. */
function isPlainKey(name: string): boolean {
  return /^[\x20-\x5b\x5d-\x7e]+$/.test(name) && name.charCodeAt(0) !== 34;
}

function quoteKey(type: string, file: string): string {
  return asciiJson(`${type}/${file}`);
}

/**
 * How the line at `pos` orders against `type`/`file` in reading order: negative before, 0 the
 * same file, positive after. A line whose key cannot be read orders before anything (passed over).
 */
function compareKey(text: string, pos: number, typeIndex: number, file: string): number {
  const tab = text.indexOf('\t', pos);
  const eol = text.indexOf('\n', pos);
  if (tab === -1 || (eol !== -1 && eol < tab)) return -1;
  let key: unknown = text.slice(pos, tab);
  if ((key as string).charCodeAt(0) === 34) key = parseJson(key as string);
  if (typeof key !== 'string') return -1;
  const slash = key.indexOf('/');
  const lineType = MEMORY_TYPES.indexOf(key.slice(0, slash) as MemoryType);
  if (slash === -1 || lineType === -1) return -1;
  if (lineType !== typeIndex) return lineType - typeIndex;
  const lineFile = key.slice(slash + 1);
  return lineFile < file ? -1 : lineFile > file ? 1 : 0;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** JSON with every character beyond ASCII escaped, so the catalog stays one-byte. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A column that needs no escaping: printable ASCII without spaces (ids and ISO times always are). */
function isPlainColumn(value: string): boolean {
  return /^[\x21-\x7e]+$/.test(value);
}

/** The front matter a catalog line keeps beyond the columns: parsed on first use. */
export interface HeaderTail {
  title: string;
  tags: string[];
  meta: Record<string, unknown>;
  derivedId: boolean;
}

/** What a new catalog line holds: a file's header and whether its id was derived, or why it cannot be read. */
export type RecordBody = (Omit<MemoryHeader, 'type' | 'name' | 'bytes'> & { derivedId: boolean }) | string;

/**
 * The catalog line of `type`/`file` with these stats, or undefined if it cannot be kept (an id or
 * date with characters the format does not allow; the file is then simply read every time).
 */
export function formatLine(type: MemoryType, file: string, st: FileStat, body: RecordBody): string | undefined {
  const key = isPlainKey(file) ? `${type}/${file}` : quoteKey(type, file);
  const head = `${key}\t${st.size}\t${hexTime(st.mtimeMs)}\t${hexTime(st.ctimeMs)}\t${st.ino}\t`;
  if (typeof body === 'string') return `${head}${PROBLEM}\t${asciiJson(body)}\n`;
  if (!isPlainColumn(body.id) || !isPlainColumn(body.created) || !isPlainColumn(body.updated) || body.id.startsWith(PROBLEM)) return undefined;
  const meta = Object.keys(body.meta).length ? body.meta : 0;
  return `${head}${body.id}\t${body.created}\t${body.updated}\t${asciiJson(body.tags)}\t${asciiJson([body.title, meta, body.derivedId ? 1 : 0])}\n`;
}

/** The tail of a line (`tags TAB rest`) as values, or undefined if it is damaged. */
export function parseTail(text: string, start: number, end: number): HeaderTail | undefined {
  const tab = text.indexOf('\t', start);
  if (tab === -1 || tab >= end) return undefined;
  const tags = parseJson(text.slice(start, tab));
  const rest = parseJson(text.slice(tab + 1, end));
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) return undefined;
  if (!Array.isArray(rest) || rest.length !== 3 || typeof rest[0] !== 'string') return undefined;
  const meta = rest[1] && typeof rest[1] === 'object' && !Array.isArray(rest[1]) ? (rest[1] as Record<string, unknown>) : {};
  return { title: rest[0], tags: tags as string[], meta, derivedId: rest[2] === 1 };
}

/** Only the tags of a line's tail (what `status` needs of every memory), or undefined if damaged. */
export function parseTags(text: string, start: number, end: number): string[] | undefined {
  const tab = text.indexOf('\t', start);
  if (tab === -1 || tab >= end) return undefined;
  const tags = parseJson(text.slice(start, tab));
  return Array.isArray(tags) && tags.every((t) => typeof t === 'string') ? (tags as string[]) : undefined;
}

/** The key of a line, decoded, with its type's place in reading order; undefined if damaged. */
export function keyOfLine(line: string): { typeIndex: number; file: string; key: string } | undefined {
  const tab = line.indexOf('\t');
  if (tab === -1) return undefined;
  let key: unknown = line.slice(0, tab);
  if ((key as string).charCodeAt(0) === 34) key = parseJson(key as string);
  if (typeof key !== 'string') return undefined;
  const slash = key.indexOf('/');
  const typeIndex = MEMORY_TYPES.indexOf(key.slice(0, slash) as MemoryType);
  if (slash === -1 || typeIndex === -1) return undefined;
  return { typeIndex, file: key.slice(slash + 1), key };
}

/**
 * The record lines of a catalog with some files' lines replaced, added or (null) removed, in
 * reading order: what a command's own writes after its scan make of the catalog it scanned.
 */
export function mergeLines(body: string, edits: Map<string, string | null>): string {
  const lines: Array<{ typeIndex: number; file: string; line: string }> = [];
  for (const line of body.split('\n')) {
    const k = line && keyOfLine(line);
    if (k && !edits.has(k.key)) lines.push({ typeIndex: k.typeIndex, file: k.file, line: `${line}\n` });
  }
  for (const line of edits.values()) {
    const k = line && keyOfLine(line);
    if (k) lines.push({ typeIndex: k.typeIndex, file: k.file, line });
  }
  lines.sort((a, b) => a.typeIndex - b.typeIndex || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return lines.map((l) => l.line).join('');
}

/**
 * Writes the catalog atomically. No fsync: it is derived, and a lost or torn write only costs a
 * rebuild. Failing to write (a read-only disk, permissions) is not an error for the command.
 * `body` is the record lines, in reading order.
 */
export function saveCatalog(dir: string, body: string, scannedAt: number): void {
  try {
    writeFileAtomic().sync(join(dir, CATALOG_FILE), Buffer.from(`${MAGIC}${scannedAt}\n${body}`, 'latin1'), { mode: 0o600, fsync: false });
  } catch {
    return; // Derived data: the next command rebuilds what this one could not write.
  }
  for (const old of OLD_CATALOG_FILES) {
    try {
      unlinkSync(join(dir, old));
    } catch {
      // Usually not there.
    }
  }
}
