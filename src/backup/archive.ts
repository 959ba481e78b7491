import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { InvalidInputError, fromFsError } from '../errors.js';
import { MEMORY_TYPES, isMemoryType, type MemoryType } from '../memory/types.js';
import { parseMemoryFile, serialiseMemory } from '../storage/markdown/file-format.js';
import { isKeepableName, memoryName } from '../memory/fields.js';
import type { BackendName, StoredMemory } from '../storage/types.js';
import { detached } from '../storage/bulk.js';
import { digestOf, ManifestFiles, ManifestStream } from './manifest-stream.js';
import { itemDone, loopDone } from '../util/heap.js';

/**
 * The backup archive (SPEC section 7): one `.tar.gz`, backend-neutral. `manifest.json` comes first
 * (format, tool version, source backend, counts, sha256 and size of every file), then every memory
 * as `memory/<type>/<name>.md` in the markdown file format, so either backend restores it the same.
 *
 * Both directions stream, so a backup of 100,000 memories never holds them all: writing spools the
 * memory entries to a file beside the archive while it hashes them (the manifest, which comes first,
 * needs every hash), then compresses manifest and spool into the archive. Reading never extracts:
 * entries are parsed one at a time from the file (`ArchiveReader`), and anything that is not a plain
 * file at a path of that layout is refused, so an archive cannot write outside a context.
 */

declare const __VERSION__: string;
const TOOL_VERSION: string = typeof __VERSION__ === 'string' ? __VERSION__ : '0.0.0-dev';

/** The archive format this version writes and reads up to. */
export const ARCHIVE_FORMAT = 1;
export const ARCHIVE_MANIFEST = 'manifest.json';
/** An entry larger than this is refused before it is read (no memory is anywhere near it). */
const MAX_ENTRY_BYTES = 64 * 1024 * 1024;
const MEMORY_ENTRY = /^memory\/(short_term|long_term|archive)\/([^/\\]+\.md)$/;
/** Bytes read from the archive file at a time: a few hundred entries once decompressed. */
const READ_CHUNK = 64 * 1024;
/** Bytes copied from a spool file at a time. */
const COPY_CHUNK = 1024 * 1024;

export interface ArchiveFile {
  path: string;
  size: number;
  sha256: string;
}

export interface ArchiveManifest {
  format: number;
  tool: string;
  version: string;
  /** When the snapshot was taken (ISO). */
  created: string;
  /** The context it was taken from. */
  context: { name: string; path: string };
  source_backend: BackendName;
  /** `pre-restore` for the safety copy restore-backup makes; `backup` otherwise. */
  kind: 'backup' | 'pre-restore';
  counts: Record<MemoryType, number> & { total: number };
  files: ArchiveFile[];
}

export interface ArchiveSource {
  context: { name: string; path: string };
  backend: BackendName;
  kind: ArchiveManifest['kind'];
  now?: Date;
}

/** Something wrong with one entry of an archive (or with the archive itself, path `''`). */
export interface ArchiveProblem {
  path: string;
  message: string;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

type Tar = typeof import('tar');
const loadTar = (): Promise<Tar> => import('tar');

/** Writes all of `data` at the file's current position. */
function writeAll(fd: number, data: Buffer): void {
  let offset = 0;
  while (offset < data.length) offset += writeSync(fd, data, offset);
}

function removeQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // never made, or gone already
  }
}

/**
 * The file's bytes from the start, read into `buffer` a buffer's length at a time: each chunk is
 * valid until the next is asked for (compressInto consumes each before it asks).
 */
function* chunksOf(fd: number, buffer: Buffer): Generator<Buffer> {
  for (let position = 0; ; ) {
    const n = readSync(fd, buffer, 0, buffer.length, position);
    if (n === 0) return;
    position += n;
    yield buffer.subarray(0, n);
  }
}

/** The spool files of an archive being written at `path`: removed when it is done. */
export const SPOOL_SUFFIXES = ['.entries', '.files'];

/**
 * Writes the `.tar.gz` of a snapshot of `memories` to the new file `path` (mode 0600, fsynced), and
 * returns its manifest without the list of files. Each memory's entry is named by the name it is
 * stored under when that is a safe file name (restore keeps it), else by the naming rule.
 *
 * `memories` is read once. Its entries go, as tar, to a spool file beside `path` while their sizes
 * and hashes go, as the manifest's JSON, to another; the archive is then the manifest entry and the
 * spool, compressed. So memory holds one memory at a time and the paths already used.
 */
export async function writeArchive(
  memories: Iterable<StoredMemory>,
  source: ArchiveSource,
  path: string,
): Promise<{ manifest: Omit<ArchiveManifest, 'files'>; files: number }> {
  const { Header, PackSync, ReadEntry } = await loadTar();
  const created = (source.now ?? new Date()).toISOString();
  const mtime = new Date(created);
  const [entriesPath, filesPath] = SPOOL_SUFFIXES.map((suffix) => path + suffix);
  let entriesFd: number | undefined;
  let filesFd: number | undefined;
  try {
    entriesFd = openSync(entriesPath, 'wx+', 0o600);
    filesFd = openSync(filesPath, 'wx+', 0o600);
    const counts = { short_term: 0, long_term: 0, archive: 0, total: 0 };
    // The names used, by type folder: a name string the memory has already (not a path made for each).
    const used = new Map<string, Set<string>>();
    let filesBytes = 0;
    const spool = entriesFd;
    const pack = new PackSync({ portable: true });
    pack.on('data', (chunk: Buffer) => writeAll(spool, chunk));
    for (const memory of memories) {
      let name = isKeepableName(memory.name) ? memory.name : memoryName(memory);
      let names = used.get(memory.type);
      if (!names) used.set(memory.type, (names = new Set()));
      // Two memories may share a name only if their ids share a tail; the full id tells them apart.
      if (names.has(name)) name = `${name}_${memory.id}`;
      names.add(name);
      const entry = `memory/${memory.type}/${name}.md`;
      const { name: _name, ...stored } = memory;
      void _name;
      const data = Buffer.from(serialiseMemory(stored), 'utf8');
      const readEntry = new ReadEntry(new Header({ path: entry, mode: 0o600, size: data.length, mtime, type: 'File', uid: 0, gid: 0 }));
      readEntry.end(data);
      pack.add(readEntry);
      // The manifest's `files` item, laid out as JSON.stringify(manifest, null, 2) lays it out.
      const item = `${counts.total ? ',' : ''}\n    ${JSON.stringify({ path: entry, size: data.length, sha256: sha256(data) }, null, 2).replace(/\n/g, '\n    ')}`;
      const bytes = Buffer.from(item, 'utf8');
      writeAll(filesFd, bytes);
      filesBytes += bytes.length;
      counts[memory.type]++;
      counts.total++;
    }
    pack.end();
    used.clear();
    loopDone();

    const manifest: Omit<ArchiveManifest, 'files'> = {
      format: ARCHIVE_FORMAT,
      tool: 'whitemagic',
      version: TOOL_VERSION,
      created,
      context: source.context,
      source_backend: source.backend,
      kind: source.kind,
      counts,
    };
    // `"files": []` closes the object; the items go between the brackets.
    const text = JSON.stringify({ ...manifest, files: [] }, null, 2);
    const head = Buffer.from(counts.total ? text.slice(0, -3) : text, 'utf8');
    const tail = Buffer.from(counts.total ? '\n  ]\n}\n' : '\n', 'utf8');
    const size = head.length + filesBytes + tail.length;
    const header = Buffer.alloc(512);
    new Header({ path: ARCHIVE_MANIFEST, mode: 0o600, size, mtime, type: 'File', uid: 0, gid: 0 }).encode(header, 0);
    const files = filesFd;
    const spooled = entriesFd;
    // One buffer for every chunk copied from the spools: a new one per chunk was garbage outside
    // the heap, some 20 MiB of it waiting for a collection at the peak of a backup of 100,000.
    const copy = Buffer.allocUnsafe(COPY_CHUNK);
    function* archive(): Generator<Buffer> {
      yield header;
      yield head;
      yield* chunksOf(files, copy);
      yield tail;
      yield Buffer.alloc((512 - (size % 512)) % 512);
      // The memory entries, and the two zero blocks that end a tar file.
      yield* chunksOf(spooled, copy);
    }
    await compressInto(archive(), path);
    return { manifest, files: counts.total };
  } finally {
    if (entriesFd !== undefined) closeSync(entriesFd);
    if (filesFd !== undefined) closeSync(filesFd);
    removeQuiet(entriesPath);
    removeQuiet(filesPath);
  }
}

/**
 * Gzips `chunks` into the new file `path` (mode 0600) and flushes it to disk. Each chunk is fully
 * taken in by the compressor (its write callback) before the next is asked for, so a generator may
 * hand out the same buffer each time.
 */
async function compressInto(chunks: Iterable<Buffer>, path: string): Promise<void> {
  const [{ pipeline }, { createGzip }, { createWriteStream }] = await Promise.all([import('node:stream/promises'), import('node:zlib'), import('node:fs')]);
  const fd = openSync(path, 'wx', 0o600);
  try {
    const gzip = createGzip();
    const written = pipeline(gzip, createWriteStream('', { fd, autoClose: false }));
    written.catch(() => undefined); // awaited below, after the writes
    let failed: { error: unknown } | undefined;
    try {
      for (const chunk of chunks) {
        await new Promise<void>((resolve, reject) => gzip.write(chunk, (err) => (err ? reject(err) : resolve())));
      }
    } catch (error) {
      failed = { error };
    }
    gzip.end();
    // The file's own error (a full disk, say) first: a write refused after it says less.
    await written;
    if (failed) throw failed.error;
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Why an entry path is refused, or undefined when it is a path of the archive layout. */
function refusePath(path: string): string | undefined {
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'absolute path refused';
  if (path.includes('\\')) return 'backslash in path refused';
  if (path.split('/').includes('..')) return "'..' in path refused";
  if (path.includes('\u0000')) return 'NUL in path refused';
  if (path === ARCHIVE_MANIFEST) return undefined;
  const m = MEMORY_ENTRY.exec(path);
  if (!m || m[2].startsWith('.')) return 'not a whitemagic backup entry';
  return undefined;
}

const DIRECTORY_ENTRIES = new Set(['memory/', 'memory', ...MEMORY_TYPES.flatMap((t) => [`memory/${t}`, `memory/${t}/`])]);

/** A manifest as read from an archive: the manifest without its list of files, and that list. */
export interface ManifestRead {
  /** Undefined when it is not valid JSON or not an object. */
  manifest?: Omit<ArchiveManifest, 'files'>;
  /** How many files it lists. */
  listed: number;
  /** The listed files of the archive layout (when read with `index`, and the manifest can be used). */
  files?: ManifestFiles;
  /** What is wrong with the manifest; empty when it can be used. */
  problems: ArchiveProblem[];
}

/**
 * One entry of an archive, in archive order: a plain file of the layout with its bytes, the
 * manifest (read as it streams, never held whole), or why an entry was refused.
 */
export type ArchiveEntry =
  | { path: string; data: Buffer; problem?: undefined; manifest?: undefined }
  | { path: string; problem: string; data?: undefined; manifest?: undefined }
  | { path: typeof ARCHIVE_MANIFEST; manifest: ManifestRead; data?: undefined; problem?: undefined };

/**
 * What `entries` does with `manifest.json`: `index` reads it with its list of files, `summary`
 * without (counted only), `skip` not at all (a later pass, once it is known).
 */
export type ManifestMode = 'index' | 'summary' | 'skip';

/**
 * An archive file open for reading. `entries()` parses it from the start, one entry at a time,
 * without extracting anything; each call is a new pass over the same open file.
 */
export class ArchiveReader {
  private constructor(
    readonly path: string,
    private readonly fd: number,
    private readonly tar: Tar,
  ) {}

  /** Opens `file`; throws a file-system error if it cannot be read. */
  static async open(file: string): Promise<ArchiveReader> {
    const tar = await loadTar();
    try {
      return new ArchiveReader(file, openSync(file, 'r'), tar);
    } catch (err) {
      throw fromFsError(err, file);
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  /**
   * Every entry of the archive, in order. Entries that are unsafe (absolute, `..`, a link, a
   * device), foreign or too large come with a `problem`, and so does a damaged archive (path `''`).
   */
  *entries(manifestMode: ManifestMode = 'skip'): Generator<ArchiveEntry> {
    const queue: ArchiveEntry[] = [];
    const damaged = (message: unknown) => {
      queue.push({ path: '', problem: `not a valid .tar.gz: ${String(message instanceof Error ? message.message : message)}` });
    };
    const parser = new this.tar.Parser({
      strict: false,
      onwarn: (_code: string, message: string | Error) => damaged(message),
    });
    parser.on('error', damaged);
    parser.on('entry', (entry) => {
      const path = entry.path;
      const shown = path.replace(/[\u0000-\u001f\u007f]/g, '?');
      const refuse = (problem: string) => {
        queue.push({ path: shown, problem });
        entry.resume();
      };
      if (entry.type === 'Directory' && DIRECTORY_ENTRIES.has(path)) return entry.resume();
      if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') {
        const what = /Link/.test(entry.type) ? `a link (${entry.type} to ${entry.linkpath ?? '?'})` : `a ${entry.type}`;
        return refuse(`${what}; only plain files are allowed`);
      }
      const refused = refusePath(path);
      if (refused) return refuse(refused);
      if (path === ARCHIVE_MANIFEST) {
        if (manifestMode === 'skip') return entry.resume();
        const reading = new ManifestReading(manifestMode === 'index');
        entry.on('data', (chunk: Buffer) => reading.write(chunk));
        entry.on('end', () => queue.push({ path: ARCHIVE_MANIFEST, manifest: reading.end() }));
        return;
      }
      if (entry.size > MAX_ENTRY_BYTES) return refuse(`too large (${entry.size} bytes)`);
      // Copied into one buffer of the entry's size as it comes, unless it comes in one piece.
      let data: Buffer | undefined;
      let filled = 0;
      entry.on('data', (chunk: Buffer) => {
        if (!data && chunk.length === entry.size) {
          data = chunk;
          filled = chunk.length;
        } else {
          data ??= Buffer.allocUnsafe(entry.size);
          filled += chunk.copy(data, filled);
        }
      });
      entry.on('end', () => queue.push({ path, data: data ? data.subarray(0, filled) : Buffer.alloc(0) }));
    });
    const write = (chunk?: Buffer) => {
      try {
        if (chunk) parser.write(chunk);
        else parser.end();
      } catch (err) {
        damaged(err);
      }
    };
    let position = 0;
    // A compressed archive is inflated as it is written to the parser, which keeps none of the
    // input: one buffer serves every read. A plain tar's entries are slices of the input itself.
    let buffer = Buffer.allocUnsafe(READ_CHUNK);
    let reuse: boolean | undefined;
    for (;;) {
      if (reuse === false) buffer = Buffer.allocUnsafe(READ_CHUNK);
      let n: number;
      try {
        n = readSync(this.fd, buffer, 0, READ_CHUNK, position);
      } catch (err) {
        throw fromFsError(err, this.path);
      }
      if (position === 0) reuse = n >= 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
      position += n;
      write(n ? buffer.subarray(0, n) : undefined);
      // Handed out as they complete; the parser never runs ahead by more than one chunk.
      let i = 0;
      while (i < queue.length) yield queue[i++];
      queue.length = 0;
      if (n === 0) return;
    }
  }
}

/** `manifest.json` being read from an archive: streamed, its list of files indexed or only counted. */
class ManifestReading {
  private readonly stream: ManifestStream;
  private readonly files?: ManifestFiles;
  /** Listed paths that are refused (checked as items come, reported if the manifest is usable). */
  private readonly refused: ArchiveProblem[] = [];

  constructor(index: boolean) {
    if (!index) {
      this.stream = new ManifestStream();
      return;
    }
    const files = new ManifestFiles();
    this.files = files;
    this.stream = new ManifestStream((item) => {
      // An item is one file of the archive's list (100,000 of them at 100,000 memories): reported
      // as a bulk loop's item, so that the heap is tuned from here on and not only once the
      // entries are read, after parsing the list let the young generation grow.
      itemDone();
      const f = item as Partial<ArchiveFile> | null;
      const path = typeof f?.path === 'string' ? f.path : '';
      const refused = refusePath(path);
      if (refused || path === ARCHIVE_MANIFEST) {
        this.refused.push({ path: ARCHIVE_MANIFEST, message: `lists '${path}': ${refused ?? 'the manifest itself'}` });
      } else if (!files.add(path, f?.size, f?.sha256)) {
        this.refused.push({ path, message: 'listed twice in the manifest, with different sizes or hashes' });
      }
    });
  }

  write(chunk: Buffer): void {
    this.stream.write(chunk);
  }

  end(): ManifestRead {
    const { value, fault } = this.stream.end();
    const listed = this.stream.listed;
    if (!value) {
      const message = fault === 'json' ? 'is not valid JSON' : 'is not a whitemagic backup manifest';
      return { listed: 0, problems: [{ path: ARCHIVE_MANIFEST, message }] };
    }
    const { files: list, ...manifest } = value as unknown as ArchiveManifest;
    if (fault || typeof manifest.format !== 'number' || !Array.isArray(list)) {
      return { manifest, listed, problems: [{ path: ARCHIVE_MANIFEST, message: 'is not a whitemagic backup manifest' }] };
    }
    if (manifest.format > ARCHIVE_FORMAT) {
      const message = `written by a newer whitemagic (archive format ${manifest.format}; this version reads up to ${ARCHIVE_FORMAT})`;
      return { manifest, listed, problems: [{ path: ARCHIVE_MANIFEST, message }] };
    }
    return { manifest, listed, files: this.files, problems: this.refused };
  }
}

/** What verifying an archive found: its manifest (without its list of files), those files, and everything wrong. */
export interface ArchiveCheck {
  manifest?: Omit<ArchiveManifest, 'files'>;
  /** How many files the manifest lists. */
  listed: number;
  /** The manifest's files of the archive layout. */
  files: ManifestFiles;
  problems: ArchiveProblem[];
}

/**
 * Re-hashes every entry of an archive against its manifest, in one pass: a changed, missing,
 * doubled or unsafe file, a file not in the manifest, a manifest of a newer format. Holds the
 * manifest's list of files (lean) and one entry at a time. `onMemory`, if given, is handed each
 * memory entry as it is read (restore parses them in the same pass).
 */
export function checkArchive(
  reader: ArchiveReader,
  onMemory?: (path: string, data: Buffer, manifest: Omit<ArchiveManifest, 'files'> | undefined) => void,
): ArchiveCheck {
  const problems: ArchiveProblem[] = [];
  let damaged = false;
  let read: ManifestRead | undefined;
  let files: ManifestFiles | undefined;
  /** Size and digest of entries seen before the manifest (none in a whitemagic archive: it comes first). */
  const early = new Map<string, { size: number; digest: Buffer }>();
  /** Paths the archive holds that the manifest does not list (or all of them, when it cannot be used). */
  const unlisted = new Set<string>();

  for (const entry of reader.entries('index')) {
    itemDone();
    if (entry.problem !== undefined) {
      problems.push({ path: entry.path, message: entry.problem });
      if (entry.path === '') damaged = true;
      continue;
    }
    if (entry.manifest) {
      if (read) {
        problems.push({ path: ARCHIVE_MANIFEST, message: 'appears twice in the archive' });
        continue;
      }
      read = entry.manifest;
      problems.push(...read.problems);
      files = read.files;
      for (const [p, got] of early) {
        if (!files) unlisted.add(p);
        else if (files.has(p)) files.see(p, files.mismatch(p, got.size, () => got.digest));
        else unlisted.add(p);
      }
      early.clear();
      continue;
    }
    const { path, data } = entry;
    if (files?.seen(path) || unlisted.has(path) || early.has(path)) {
      problems.push({ path, message: 'appears twice in the archive' });
      continue;
    }
    onMemory?.(path, data, read?.manifest);
    if (!read) early.set(path, { size: data.length, digest: digestOf(data) });
    else if (files?.has(path)) files.see(path, files.mismatch(path, data.length, () => digestOf(data)));
    else unlisted.add(path);
  }

  if (!read) {
    if (!damaged) problems.push({ path: ARCHIVE_MANIFEST, message: 'missing: this is not a whitemagic backup' });
    return { listed: 0, files: new ManifestFiles(), problems };
  }
  const { manifest, listed } = read;
  if (!files) return { manifest, listed, files: new ManifestFiles(), problems };
  // In the manifest's order, as a person reading it would look for them.
  const reported = new Set(problems.map((p) => p.path));
  files.paths.forEach((path, i) => {
    const { seen, wrong } = files!.found(i);
    if (!seen && !reported.has(path)) problems.push({ path, message: 'missing from the archive' });
    if (wrong) problems.push({ path, message: wrong });
  });
  for (const path of unlisted) problems.push({ path, message: 'not in the manifest' });
  return { manifest, listed, files, problems };
}

/**
 * The memories of an archive `checkArchive` passed, in archive order, each with its entry's name
 * (kept by the backend restoring it where safe) and the entry's path. Each entry is checked against
 * the manifest again as it is read, so a file changed since the check is refused, not restored.
 * Throws InvalidInputError naming a file that does not parse.
 */
export function* archiveEntries(reader: ArchiveReader, check: ArchiveCheck): Generator<{ memory: StoredMemory; path: string }> {
  const mtime = archiveTime(check.manifest);
  for (const entry of reader.entries('skip')) {
    if (!MEMORY_ENTRY.test(entry.path)) continue;
    if (entry.data === undefined || !check.files.matches(entry.path, entry.data)) {
      throw new InvalidInputError(`backup entry ${entry.path} changed since it was verified`, 'the archive is being changed; restore a copy of it');
    }
    yield { memory: parseArchiveMemory(entry.path, entry.data, mtime), path: entry.path };
  }
}

/** The time a file of the archive counts as last changed (for a memory without dates): the snapshot's. */
export function archiveTime(manifest: Pick<ArchiveManifest, 'created'> | undefined): Date {
  return new Date(manifest?.created ?? 0);
}

/**
 * The memory of a `memory/<type>/<name>.md` entry, with its entry's name. Throws InvalidInputError
 * naming the entry when it does not parse (or is no memory entry).
 */
export function parseArchiveMemory(path: string, data: Buffer, mtime: Date): StoredMemory {
  const m = MEMORY_ENTRY.exec(path);
  try {
    if (!m || !isMemoryType(m[1])) throw new Error('not a memory entry');
    const { memory } = parseMemoryFile(data.toString('utf8'), m[2], m[1], mtime);
    // Its header fields are slices of the entry's text: copied, so whoever keeps them keeps no entry.
    return detached({ ...memory, name: m[2].slice(0, -3) });
  } catch (err) {
    throw new InvalidInputError(`backup entry ${path}: ${(err as Error).message}`, 'the archive is damaged; restore another backup');
  }
}

/** Whether an archive path is a memory entry (`memory/<type>/<name>.md`). */
export function isMemoryEntry(path: string): boolean {
  return MEMORY_ENTRY.test(path);
}

/** The memories of `archiveEntries` whose id `only` holds. */
export function* archiveMemories(reader: ArchiveReader, check: ArchiveCheck, only: { has(id: string): boolean }): Generator<StoredMemory> {
  for (const { memory } of archiveEntries(reader, check)) if (only.has(memory.id)) yield memory;
}

/**
 * The manifest of an archive without its list of files, reading no further than its first entry
 * (for listing backups); undefined when that is not a readable manifest.
 */
export async function readArchiveManifest(file: string): Promise<Omit<ArchiveManifest, 'files'> | undefined> {
  let reader: ArchiveReader;
  try {
    reader = await ArchiveReader.open(file);
  } catch {
    return undefined;
  }
  try {
    for (const entry of reader.entries('summary')) {
      return entry.manifest?.manifest;
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    reader.close();
  }
}
