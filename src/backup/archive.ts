import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { InvalidInputError, fromFsError } from '../errors.js';
import { MEMORY_TYPES, isMemoryType, type Memory, type MemoryType } from '../memory/types.js';
import { parseMemoryFile, serialiseMemory } from '../storage/markdown/file-format.js';
import { isKeepableName, memoryName } from '../memory/fields.js';
import type { BackendName, StoredMemory } from '../storage/types.js';

/**
 * The backup archive (SPEC section 7): one `.tar.gz`, backend-neutral. `manifest.json` comes first
 * (format, tool version, source backend, counts, sha256 and size of every file), then every memory
 * as `memory/<type>/<name>.md` in the markdown file format, so either backend restores it the same.
 *
 * Reading never extracts: entries are listed and read into memory, and anything that is not a
 * plain file at a path of that layout is refused, so an archive cannot write outside a context.
 */

declare const __VERSION__: string;
const TOOL_VERSION: string = typeof __VERSION__ === 'string' ? __VERSION__ : '0.0.0-dev';

/** The archive format this version writes and reads up to. */
export const ARCHIVE_FORMAT = 1;
export const ARCHIVE_MANIFEST = 'manifest.json';
/** An entry larger than this is refused before it is read (no memory is anywhere near it). */
const MAX_ENTRY_BYTES = 64 * 1024 * 1024;
const MEMORY_ENTRY = /^memory\/(short_term|long_term|archive)\/([^/\\]+\.md)$/;

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

/** An archive read into memory: its manifest, its files by path, and everything wrong with it. */
export interface ArchiveContents {
  manifest?: ArchiveManifest;
  files: Map<string, Buffer>;
  problems: ArchiveProblem[];
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/**
 * The `.tar.gz` bytes of a snapshot of `memories`, and its manifest. Each memory's entry is named
 * by the name it is stored under when that is a safe file name (restore keeps it), else by the
 * naming rule.
 */
export async function buildArchive(memories: Iterable<StoredMemory>, source: ArchiveSource): Promise<{ data: Buffer; manifest: ArchiveManifest }> {
  const { Header, PackSync, ReadEntry } = await import('tar');
  const counts = { short_term: 0, long_term: 0, archive: 0, total: 0 };
  const entries: { path: string; data: Buffer }[] = [];
  const used = new Set<string>();
  for (const memory of memories) {
    const name = isKeepableName(memory.name) ? memory.name : memoryName(memory);
    let path = `memory/${memory.type}/${name}.md`;
    // Two memories may share a name only if their ids share a tail; the full id tells them apart.
    if (used.has(path)) path = `memory/${memory.type}/${name}_${memory.id}.md`;
    used.add(path);
    const { name: _name, ...stored } = memory;
    void _name;
    entries.push({ path, data: Buffer.from(serialiseMemory(stored), 'utf8') });
    counts[memory.type]++;
    counts.total++;
  }
  const manifest: ArchiveManifest = {
    format: ARCHIVE_FORMAT,
    tool: 'whitemagic',
    version: TOOL_VERSION,
    created: (source.now ?? new Date()).toISOString(),
    context: source.context,
    source_backend: source.backend,
    kind: source.kind,
    counts,
    files: entries.map((e) => ({ path: e.path, size: e.data.length, sha256: sha256(e.data) })),
  };
  const mtime = new Date(manifest.created);
  const chunks: Buffer[] = [];
  const pack = new PackSync({ gzip: true, portable: true });
  pack.on('data', (chunk: Buffer) => chunks.push(chunk));
  const add = (path: string, data: Buffer) => {
    const entry = new ReadEntry(new Header({ path, mode: 0o600, size: data.length, mtime, type: 'File', uid: 0, gid: 0 }));
    entry.end(data);
    pack.add(entry);
  };
  add(ARCHIVE_MANIFEST, Buffer.from(JSON.stringify(manifest, null, 2) + '\n', 'utf8'));
  for (const e of entries) add(e.path, e.data);
  pack.end();
  return { data: Buffer.concat(chunks), manifest };
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

/**
 * Reads an archive into memory without extracting anything, noting every entry that is unsafe
 * (absolute, `..`, a link, a device), foreign or duplicated. Throws only if the file cannot be read.
 */
export async function readArchive(file: string): Promise<ArchiveContents> {
  const { list } = await import('tar');
  const files = new Map<string, Buffer>();
  const problems: ArchiveProblem[] = [];
  let bad = false;
  try {
    await list({
      file,
      strict: false,
      onwarn: (_code: string, message: string | Error) => {
        bad = true;
        problems.push({ path: '', message: `not a valid .tar.gz: ${String(message instanceof Error ? message.message : message)}` });
      },
      onReadEntry: (entry) => {
        const path = entry.path;
        const shown = path.replace(/[\u0000-\u001f\u007f]/g, '?');
        const skip = (message: string) => {
          problems.push({ path: shown, message });
          entry.resume();
        };
        if (entry.type === 'Directory' && DIRECTORY_ENTRIES.has(path)) return entry.resume();
        if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') {
          const what = /Link/.test(entry.type) ? `a link (${entry.type} to ${entry.linkpath ?? '?'})` : `a ${entry.type}`;
          return skip(`${what}; only plain files are allowed`);
        }
        const refused = refusePath(path);
        if (refused) return skip(refused);
        if (files.has(path)) return skip('appears twice in the archive');
        if (entry.size > MAX_ENTRY_BYTES) return skip(`too large (${entry.size} bytes)`);
        const chunks: Buffer[] = [];
        entry.on('data', (chunk: Buffer) => chunks.push(chunk));
        entry.on('end', () => files.set(path, Buffer.concat(chunks)));
      },
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR' || e.code === 'EPERM') throw fromFsError(err, file);
    problems.push({ path: '', message: `not a valid .tar.gz: ${e.message ?? String(err)}` });
    bad = true;
  }
  const contents: ArchiveContents = { files, problems };
  const raw = files.get(ARCHIVE_MANIFEST);
  if (raw) {
    try {
      contents.manifest = JSON.parse(raw.toString('utf8')) as ArchiveManifest;
    } catch {
      problems.push({ path: ARCHIVE_MANIFEST, message: 'is not valid JSON' });
    }
  } else if (!bad) problems.push({ path: ARCHIVE_MANIFEST, message: 'missing: this is not a whitemagic backup' });
  return contents;
}

/**
 * Every mismatch between an archive's files and its manifest: a changed or missing file, a file not
 * in the manifest, a manifest of a newer format. Adds to the problems found while reading.
 */
export function verifyContents(contents: ArchiveContents): ArchiveProblem[] {
  const problems = [...contents.problems];
  const manifest = contents.manifest;
  if (!manifest) return problems;
  if (typeof manifest.format !== 'number' || !Array.isArray(manifest.files)) {
    problems.push({ path: ARCHIVE_MANIFEST, message: 'is not a whitemagic backup manifest' });
    return problems;
  }
  if (manifest.format > ARCHIVE_FORMAT) {
    problems.push({ path: ARCHIVE_MANIFEST, message: `written by a newer whitemagic (archive format ${manifest.format}; this version reads up to ${ARCHIVE_FORMAT})` });
    return problems;
  }
  const listed = new Set<string>();
  for (const f of manifest.files) {
    const path = typeof f?.path === 'string' ? f.path : '';
    const refused = refusePath(path);
    if (refused || path === ARCHIVE_MANIFEST) {
      problems.push({ path: ARCHIVE_MANIFEST, message: `lists '${path}': ${refused ?? 'the manifest itself'}` });
      continue;
    }
    listed.add(path);
    const data = contents.files.get(path);
    if (!data) {
      if (!problems.some((p) => p.path === path)) problems.push({ path, message: 'missing from the archive' });
      continue;
    }
    if (data.length !== f.size) problems.push({ path, message: `size ${data.length} bytes, manifest says ${f.size}` });
    else if (sha256(data) !== f.sha256) problems.push({ path, message: 'sha256 differs from the manifest (changed or corrupt)' });
  }
  for (const path of contents.files.keys()) {
    if (path !== ARCHIVE_MANIFEST && !listed.has(path)) problems.push({ path, message: 'not in the manifest' });
  }
  return problems;
}

/**
 * The memories of a verified archive, each with its entry's name (kept by the backend restoring it
 * where safe). Throws InvalidInputError naming a file that does not parse.
 */
export function memoriesOf(contents: ArchiveContents): StoredMemory[] {
  const mtime = new Date(contents.manifest?.created ?? 0);
  const memories: StoredMemory[] = [];
  const seen = new Map<string, string>();
  for (const [path, data] of contents.files) {
    const m = MEMORY_ENTRY.exec(path);
    if (!m || !isMemoryType(m[1])) continue;
    let memory: Memory;
    try {
      memory = parseMemoryFile(data.toString('utf8'), m[2], m[1], mtime).memory;
    } catch (err) {
      throw new InvalidInputError(`backup entry ${path}: ${(err as Error).message}`, 'the archive is damaged; restore another backup');
    }
    const other = seen.get(memory.id);
    if (other) throw new InvalidInputError(`backup entries ${other} and ${path} carry the same id ${memory.id}`, 'the archive is damaged; restore another backup');
    seen.set(memory.id, path);
    memories.push({ ...memory, name: m[2].slice(0, -3) });
  }
  return memories.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The manifest of an archive, reading no further than its first entry (for listing backups). */
export async function readArchiveManifest(file: string): Promise<ArchiveManifest | undefined> {
  const { Parser } = await import('tar');
  return new Promise((resolve) => {
    const stream = createReadStream(file);
    const parser = new Parser({ strict: false });
    let settled = false;
    const finish = (value: ArchiveManifest | undefined) => {
      if (settled) return;
      settled = true;
      stream.destroy();
      resolve(value);
    };
    parser.on('entry', (entry) => {
      if (entry.path !== ARCHIVE_MANIFEST || entry.type !== 'File' || entry.size > MAX_ENTRY_BYTES) {
        entry.resume();
        return finish(undefined);
      }
      const chunks: Buffer[] = [];
      entry.on('data', (c: Buffer) => chunks.push(c));
      entry.on('end', () => {
        try {
          finish(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ArchiveManifest);
        } catch {
          finish(undefined);
        }
      });
    });
    parser.on('warn', () => finish(undefined));
    parser.on('end', () => finish(undefined));
    parser.on('error', () => finish(undefined));
    stream.on('error', () => finish(undefined));
    stream.pipe(parser as unknown as NodeJS.WritableStream);
  });
}
