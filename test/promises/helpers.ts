import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { expect } from 'vitest';
import { parseMemoryFile } from '../../src/storage/markdown/file-format.js';
import { isMemoryFileName } from '../../src/storage/markdown/backend.js';
import { MEMORY_TYPES, type MemoryType } from '../../src/memory/types.js';
import { BIN, json, type RunResult } from '../helpers/cli.js';

/**
 * Shared helpers of the promise suites (SPEC section 9): sizes, a seeded random source, what the
 * built bin offers, killable processes, and a check of a context's whole state on disk.
 */

/** `WHITEMAGIC_PROMISES=full` (the stress, crash and fuzz npm scripts) runs the sizes of the issue. */
export const FULL = process.env.WHITEMAGIC_PROMISES === 'full';

/** Prints a figure line of a suite, so runs can be compared. */
export function figure(suite: string, text: string): void {
  process.stdout.write(`[${suite}] ${text}\n`);
}

/** A small seeded PRNG (mulberry32): the same seed gives the same cases on every machine. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    /** An integer in [min, max]. */
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)],
    chance: (p: number) => next() < p,
  };
}
export type Prng = ReturnType<typeof prng>;

/** A throw-away directory; remove it with `rmSync(dir, { recursive: true, force: true })`. */
export function tempDir(prefix = 'wm-promise-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

let commandsCache: Set<string> | undefined;
/** The subcommands the built bin offers (from its --help), so suites grow as commands land. */
export function availableCommands(): Set<string> {
  if (commandsCache) return commandsCache;
  const r = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8', env: { PATH: process.env.PATH, NO_COLOR: '1' } });
  const section = r.stdout.split(/^Commands:$/m)[1] ?? '';
  commandsCache = new Set([...section.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]));
  return commandsCache;
}

/** True when every one of `commands` is in the built bin. */
export function hasCommands(...commands: string[]): boolean {
  const have = availableCommands();
  return commands.every((c) => have.has(c));
}

let backendsCache: string[] | undefined;
/** The backends that can make a context in this build (a placeholder backend refuses). */
export function availableBackends(): string[] {
  if (backendsCache) return backendsCache;
  backendsCache = [];
  for (const backend of ['markdown', 'sqlite']) {
    const dir = tempDir('wm-probe-');
    const r = spawnSync(process.execPath, [BIN, '--base-dir', join(dir, 'c'), '--backend', backend, 'init'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: dir, WHITEMAGIC_HOME: join(dir, 'home') },
    });
    if (r.status === 0) backendsCache.push(backend);
    rmSync(dir, { recursive: true, force: true });
  }
  return backendsCache;
}

/** A run the tool ended with a clean failure: the exit code, one `whitemagic: error:` line, no stack. */
export function expectCleanFailure(r: RunResult, exitCode: 1 | 2, message?: RegExp): void {
  expect(r.code, `exit code; stderr: ${r.stderr}`).toBe(exitCode);
  expectNoStack(r);
  const lines = r.stderr.split('\n').filter((l) => l && !l.startsWith('whitemagic: warning:'));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^whitemagic: error: /);
  if (message) expect(lines[0]).toMatch(message);
}

/** No stack trace and no uncaught-exception dump on stderr. */
export function expectNoStack(r: RunResult): void {
  expect(r.stderr).not.toMatch(/\n\s+at |node:internal|Uncaught|TypeError|RangeError|ReferenceError|SyntaxError:/);
}

/** A run succeeded: exit 0 (stderr shown when not). */
export function expectOk(r: RunResult, what = ''): void {
  expect(r.code, `${what} failed: ${r.stderr}`).toBe(0);
}

export interface Killed {
  /** What the process printed before it died: what it acknowledged. */
  stdout: string;
  stderr: string;
  /** It was killed (SIGKILL) rather than finishing first. */
  killed: boolean;
  code: number | null;
}

/** Runs the bin and kills it with SIGKILL after `delayMs` (unless it ended first). */
export function runAndKill(args: string[], env: NodeJS.ProcessEnv, delayMs: number): Promise<Killed> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, killed: signal === 'SIGKILL', code });
    });
  });
}

/** How long a normal run of `args` takes here, in ms (to spread kills over its whole life). */
export function timeRun(run: () => RunResult): { ms: number; result: RunResult } {
  const start = Date.now();
  const result = run();
  return { ms: Date.now() - start, result };
}

export interface ContextState {
  /** Every memory `list --include-archived` shows, by id. */
  byId: Map<string, { title: string; type: MemoryType; tags: string[]; name: string }>;
  ids: string[];
  /** Problems the tool reports (files it could not read). */
  problems: { path: string; message: string }[];
  /** Leftover temporary files in the memory folders (never memories). */
  tempFiles: string[];
}

/**
 * The whole state of a context as the tool and the disk show it, checked: the listing works,
 * no id appears twice, no temporary file is listed as a memory, every memory file parses or is
 * reported by name (markdown), or the database passes its integrity check (SQLite).
 */
export async function inspectContext(run: (args: string[]) => RunResult | Promise<RunResult>, dir: string): Promise<ContextState> {
  const r = await run(['--base-dir', dir, '--json', 'list', '--include-archived']);
  expectOk(r, `list ${dir}`);
  const listed = json<{ memories: { id: string; title: string; type: MemoryType; tags: string[]; name?: string }[]; problems: ContextState['problems'] }>(r);
  const ids = listed.memories.map((m) => m.id);
  expect(new Set(ids).size, 'no memory is listed twice').toBe(ids.length);
  const byId: ContextState['byId'] = new Map();
  for (const m of listed.memories) {
    byId.set(m.id, { title: m.title, type: m.type, tags: m.tags, name: m.name ?? '' });
    expect(m.name ?? '', 'a temporary file is never a memory').not.toMatch(/\.md\.[0-9a-f]+$/);
  }
  const tempFiles: string[] = [];
  const backend = manifestBackend(dir);
  if (backend === 'sqlite') {
    expect(sqliteIntegrity(join(dir, 'whitemagic.db'))).toBe('ok');
  } else {
    for (const type of MEMORY_TYPES) {
      const folder = join(dir, 'memory', type);
      if (!existsSync(folder)) continue;
      for (const file of readdirSync(folder)) {
        if (!lstatSync(join(folder, file)).isFile()) continue; // links, FIFOs, folders: never read
        if (!isMemoryFileName(file)) {
          if (/\.md\.[0-9a-f]+$/i.test(file)) tempFiles.push(`${type}/${file}`);
          continue;
        }
        // Every file parses, or the tool reports it by name.
        const text = readFileSync(join(folder, file), 'utf8');
        let error: unknown;
        try {
          parseMemoryFile(text, file, type, new Date());
        } catch (err) {
          error = err;
        }
        if (error) expect(listed.problems.map((p) => p.path), `${type}/${file} is reported`).toContain(`memory/${type}/${file}`);
      }
    }
  }
  return { byId, ids, problems: listed.problems ?? [], tempFiles };
}

/** The backend a context's manifest names (markdown when it has none). */
export function manifestBackend(dir: string): string {
  try {
    return JSON.parse(readFileSync(join(dir, 'whitemagic.json'), 'utf8')).backend ?? 'markdown';
  } catch {
    return 'markdown';
  }
}

/** `PRAGMA integrity_check` of a database file, opened read-only in this process. */
export function sqliteIntegrity(file: string): string {
  const Database = createRequire(import.meta.url)('better-sqlite3') as typeof import('better-sqlite3');
  const db = new Database(file, { readonly: true });
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}

/**
 * A fingerprint of everything under `dir` (paths, kinds, sizes, content hashes, link targets), to
 * prove that a command wrote nothing outside the context it works on. `skip` names subtrees to ignore.
 */
export function snapshotTree(dir: string, skip: string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (path: string): void => {
    const rel = relative(dir, path);
    if (skip.some((s) => rel === s || rel.startsWith(s + '/'))) return;
    let st;
    try {
      st = lstatSync(path);
    } catch {
      return;
    }
    if (st.isSymbolicLink()) out.set(rel, `link:${readlinkSync(path)}`);
    else if (st.isDirectory()) {
      out.set(rel, 'dir');
      for (const name of readdirSync(path)) walk(join(path, name));
    } else if (st.isFile()) {
      const hash = st.size > 50_000_000 ? `big:${st.mtimeMs}` : createHash('sha256').update(readFileSync(path)).digest('hex');
      out.set(rel, `file:${st.size}:${hash}`);
    } else out.set(rel, 'other');
  };
  walk(dir);
  return out;
}

/** The entries that differ between two snapshots (added, removed or changed). */
export function treeChanges(before: Map<string, string>, after: Map<string, string>): string[] {
  const changes: string[] = [];
  for (const [k, v] of after) if (before.get(k) !== v) changes.push(before.has(k) ? `changed ${k}` : `added ${k}`);
  for (const k of before.keys()) if (!after.has(k)) changes.push(`removed ${k}`);
  return changes.sort();
}

/** The first id-like token a command printed (create prints the new id). */
export function printedId(stdout: string): string | undefined {
  return /\b([0-9a-hjkmnp-tv-z]{26})\b/.exec(stdout)?.[1];
}

/** Runs async jobs with at most `limit` at once. */
export async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}
