import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Header, PackSync, ReadEntry, list } from 'tar';
import { newId } from '../../src/memory/ids.js';
import type { Memory } from '../../src/memory/types.js';
import { loadBackend } from '../../src/storage/registry.js';
import type { BackendName } from '../../src/storage/types.js';
import type { Home } from './cli.js';

/** Helpers for the consolidation, backup, restore and clone tests: real contexts, real archives. */

const DAY = 86_400_000;

/** The backends these tests run on: every registered one that works in this build. */
export async function availableBackends(): Promise<BackendName[]> {
  const out: BackendName[] = ['markdown'];
  const dir = mkdtempSync(join(tmpdir(), 'wm-probe-'));
  try {
    const sqlite = await loadBackend('sqlite');
    sqlite.create(dir);
    sqlite.open(dir, {}).close();
    out.push('sqlite');
  } catch {
    // Not available in this build.
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

/** A memory `daysAgo` old (created and updated), short-term unless told. */
export function oldMemory(daysAgo: number, over: Partial<Memory> = {}, now = Date.now()): Memory {
  const at = now - daysAgo * DAY;
  const iso = new Date(at).toISOString();
  return {
    id: newId(at),
    title: `Memory from ${daysAgo} days ago`,
    content: `First line of ${daysAgo}\nsecond line\nthird line\nfourth line`,
    type: 'short_term',
    tags: [],
    created: iso,
    updated: iso,
    meta: {},
    ...over,
  };
}

/** Makes the context at `dir` with the CLI (`init`), then stores `memories` through its backend. */
export async function seedContext(home: Home, dir: string, backend: BackendName, memories: Memory[]): Promise<void> {
  const r = home.run(['--base-dir', dir, '--backend', backend, 'init']);
  if (r.code !== 0) throw new Error(`init failed: ${r.stderr}`);
  const storage = (await loadBackend(backend)).open(dir, {});
  try {
    storage.insertMany(memories);
  } finally {
    storage.close();
  }
}

/** Every memory of the context at `dir` (in id order) and the storage's problems. */
export async function readContext(dir: string, backend: BackendName): Promise<{ memories: Memory[]; problems: string[] }> {
  const storage = (await loadBackend(backend)).open(dir, {});
  try {
    return { memories: [...storage.readAll()], problems: storage.problems().map((p) => `${p.path}: ${p.message}`) };
  } finally {
    storage.close();
  }
}

/** The entries of a .tar.gz, as written, with their bytes. */
export async function archiveEntries(file: string): Promise<{ path: string; type: CraftedEntry['type']; data: Buffer }[]> {
  const entries: { path: string; type: CraftedEntry['type']; data: Buffer }[] = [];
  await list({
    file,
    onReadEntry: (e) => {
      const chunks: Buffer[] = [];
      e.on('data', (c: Buffer) => chunks.push(c));
      e.on('end', () => entries.push({ path: e.path, type: e.type as CraftedEntry['type'], data: Buffer.concat(chunks) }));
    },
  });
  return entries;
}

/** Entry of a hand-made archive: a file, or a link when `linkpath` is given. */
export interface CraftedEntry {
  path: string;
  data?: Buffer;
  type?: 'File' | 'SymbolicLink' | 'Link';
  linkpath?: string;
}

/** Writes a .tar.gz with exactly these entries, paths as given (`../x` and `/x` included). */
export function craftArchive(entries: CraftedEntry[]): Buffer {
  const chunks: Buffer[] = [];
  const pack = new PackSync({ gzip: true, portable: true, preservePaths: true });
  pack.on('data', (c: Buffer) => chunks.push(c));
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0);
    const header = new Header({ path: e.path, mode: 0o600, size: data.length, mtime: new Date(0), type: e.type ?? 'File', linkpath: e.linkpath });
    const entry = new ReadEntry(header);
    entry.end(data);
    pack.add(entry);
  }
  pack.end();
  return Buffer.concat(chunks);
}

/** The fields a user sees of a memory, for comparing two contexts. */
export function comparable(m: Memory) {
  return { id: m.id, title: m.title, content: m.content, type: m.type, tags: m.tags, created: m.created, updated: m.updated, meta: m.meta };
}
