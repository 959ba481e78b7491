// The measures of the benchmark: whole commands, in-process library calls, bulk operations.
// Every function returns rows: { kind, measure, backend, size, medianMs, p95Ms?, ratio?, peakMiB?, note? }.
import { appendFileSync, cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { QUERIES } from './generate.mjs';
import { ROOT, compareWithFloor, failure, runBin, timeCalls } from './measure.mjs';

const SEARCHES = [
  ['search (one word)', QUERIES.oneWord],
  ['search (two words)', QUERIES.twoWords],
  ['search (a phrase)', QUERIES.phrase],
];

/** A throw-away $WHITEMAGIC_HOME and the environment every measured process gets. */
export function benchEnv(home = mkdtempSync(join(tmpdir(), 'wm-bench-home-'))) {
  return { home, env: { PATH: process.env.PATH, HOME: home, WHITEMAGIC_HOME: home, NO_COLOR: '1' } };
}

function row(kind, measure, backend, size, result) {
  if (result.error) return { kind, measure, backend, size, note: result.error };
  return { kind, measure, backend, size, ...result };
}

/** An id in the context (for show), through the CLI itself. */
function someId(dir, env) {
  const r = runBin(['--base-dir', dir, 'list', '--json', '--limit', '50'], env);
  if (r.code !== 0) throw new Error(`cannot list ${dir}: ${r.stderr}`);
  const { memories } = JSON.parse(r.stdout);
  return memories[memories.length - 1].id;
}

/** Whole processes at one size on one backend, each against `node -e 0`. */
export function processMeasures({ dir, backend, size, runs, env }) {
  const rows = [];
  const at = (args) => ['--base-dir', dir, ...args];
  const measure = (name, args, extra = {}) => rows.push(row('process', name, backend, size, compareWithFloor({ args, env, runs, ...extra })));
  measure('show', at(['show', someId(dir, env)]));
  measure('list --limit 20', at(['list', '--limit', '20']));
  for (const [name, query] of SEARCHES) measure(name, at(['search', query, '--limit', '20']));
  measure('status', at(['status']));
  // Last, as it adds memories: removed again afterwards so the cached context stays as generated.
  const created = [];
  const create = compareWithFloor({ args: (i) => at(['create', '--title', `Bench memory ${i}`, '--content', 'Made by the benchmark.', '--tag', 'bench']), env, runs });
  rows.push(row('process', 'create', backend, size, create));
  const listed = runBin(at(['list', '--json', '--tag', 'bench', '--include-archived']), env);
  if (listed.code === 0) for (const m of JSON.parse(listed.stdout).memories) created.push(m.id);
  for (const id of created) runBin(at(['delete', '--permanent', id]), env);
  return rows;
}

/** `--version`: no context at all. */
export function versionMeasure({ runs, env }) {
  return [row('process', '--version', '-', undefined, compareWithFloor({ args: ['--version'], env, runs }))];
}

/** Federated search over a home of many contexts. */
export function federatedMeasure({ home, backend, contexts, size, runs }) {
  const { env } = benchEnv(home);
  const result = compareWithFloor({ args: ['search', QUERIES.oneWord, '--all-contexts', '--limit', '20'], env, runs });
  return [row('process', `federated search (${contexts} x ${size})`, backend, contexts * size, result)];
}

/**
 * The first command after `edits` files of a markdown context were edited by hand: before each
 * timed run, another round of edits (a line appended, as an editor would save it), then `list`.
 */
export function handEditMeasure({ dir, size, edits, runs, env }) {
  const work = mkdtempSync(join(tmpdir(), 'wm-bench-edits-'));
  const copy = join(work, 'ctx');
  try {
    cpSync(dir, copy, { recursive: true });
    const files = [];
    for (const type of ['short_term', 'long_term', 'archive']) {
      for (const f of readdirSync(join(copy, 'memory', type))) if (f.endsWith('.md')) files.push(join(copy, 'memory', type, f));
    }
    const step = Math.max(1, Math.floor(files.length / edits));
    let round = 0;
    const prepare = () => {
      round++;
      for (let k = 0; k < edits; k++) appendFileSync(files[(k * step + round) % files.length], `\nEdited by hand, round ${round}.\n`);
    };
    const result = compareWithFloor({ args: ['--base-dir', copy, 'list', '--limit', '20'], env, runs, prepare });
    // What an agent does all day: another command creates a memory, then a list (no target: shown
    // for the catalog patch, docs/performance.md).
    const created = () => {
      const r = runBin(['--base-dir', copy, 'create', '--title', `Created by another command ${round++}`, '--content', 'x'], env);
      if (r.code !== 0) throw new Error(failure(r));
    };
    const afterCreate = compareWithFloor({ args: ['--base-dir', copy, 'list', '--limit', '20'], env, runs, prepare: created });
    // And a search: the search index takes the new file in (its own change check, search-index.ts).
    const searchAfterCreate = compareWithFloor({ args: ['--base-dir', copy, 'search', QUERIES.oneWord, '--limit', '20'], env, runs, prepare: created });
    return [
      row('process', `first command after ${edits} hand edits`, 'markdown', size, result),
      row('process', 'first list after a create', 'markdown', size, afterCreate),
      row('process', 'first search after a create', 'markdown', size, searchAfterCreate),
    ];
  } finally {
    removeLater(work);
  }
}

/** Library calls in this process (dist/index.js): create, show, list, search; median and p95. */
export async function inProcessMeasures({ dir, backend, size, runs }) {
  const { MemoryManager } = await import(pathToFileURL(join(ROOT, 'dist', 'index.js')).href);
  const wm = new MemoryManager({ baseDir: dir });
  const rows = [];
  const created = [];
  const first = (await wm.listMemories({ limit: 1 })).memories[0];
  const calls = [
    ['in-process create', async (i) => created.push((await wm.createMemory({ title: `Bench ${i}`, content: 'In-process.', tags: ['bench'] })).id)],
    ['in-process show', () => wm.readMemory(first.id)],
    ['in-process list', () => wm.listMemories({ limit: 20 })],
    ['in-process search', typeof wm.search === 'function' ? () => wm.search(QUERIES.oneWord, { limit: 20 }) : undefined],
  ];
  for (const [name, fn] of calls) {
    if (!fn) {
      rows.push({ kind: 'in-process', measure: name, backend, size, note: 'n/a (not in the library yet)' });
      continue;
    }
    try {
      rows.push({ kind: 'in-process', measure: name, backend, size, ...(await timeCalls(fn, runs)) });
    } catch (err) {
      rows.push({ kind: 'in-process', measure: name, backend, size, note: `error: ${String(err.message).split('\n')[0]}` });
    }
  }
  for (const id of created) await wm.deleteMemory(id, { permanent: true });
  wm.close?.();
  return rows;
}

/**
 * Folders of copies, removed at the end of the whole run (removeCopies), not when their measure
 * ends. Linux's ext4 passes over inodes freed in the last minute (five, while their table block is
 * unwritten) when it makes a file, reading each one's block to check: a restore or clone of 10,000
 * files made right after another measure deleted its 10,000 or 40,000 spent 3 to 4 s in the kernel
 * on that alone (`recently_deleted`, `find_get_block_common` in a kernel profile), which measured
 * the file system's allocator, not whitemagic.
 */
const copies = [];

function removeLater(path) {
  copies.push(path);
}

export function removeCopies() {
  for (const path of copies.splice(0)) rmSync(path, { recursive: true, force: true });
}

/**
 * Operations on every memory, each once on a fresh copy of the context (they change it), with
 * peak memory from the same run (the preload reads the process's own high-water mark, which a
 * one-off run measures as well as many: it is the peak of the data, not of the timing).
 */
export function bulkMeasures({ dir, backend, size, env, log = () => {} }) {
  const work = mkdtempSync(join(tmpdir(), 'wm-bench-bulk-'));
  const fresh = (name) => {
    const copy = join(work, name);
    cpSync(dir, copy, { recursive: true });
    return copy;
  };
  const other = backend === 'sqlite' ? 'markdown' : 'sqlite';
  const backup = join(work, 'backup.tar.gz');
  const ops = [
    // Over an index, as a user runs it and as on SQLite (whose index is in its database): a first
    // search (not timed) makes the markdown copy's, whether or not the cached context has one.
    // Without this the row measured an index or none, as earlier runs had left the cache.
    ['reindex', () => {
      const copy = fresh('reindex');
      if (backend === 'markdown') runBin(['--base-dir', copy, 'search', 'reindex'], env);
      return ['--base-dir', copy, 'reindex'];
    }],
    ['consolidate', () => ['--base-dir', fresh('consolidate'), 'consolidate', '--no-dry-run']],
    ['backup', () => ['--base-dir', dir, 'backup', '--output', backup]],
    ['verify-backup', () => ['--base-dir', dir, 'verify-backup', backup]],
    // Into a new context of the same backend: without --backend it would be a markdown one.
    ['restore-backup', () => ['--base-dir', join(work, 'restored'), '--backend', backend, 'restore-backup', backup]],
    // What a user runs next: on markdown, the catalog a bulk write leaves decides whether it reads every file again.
    ['list after restore-backup', () => ['--base-dir', join(work, 'restored'), 'list', '--limit', '20']],
    ['clone', () => ['--base-dir', dir, 'clone', join(work, 'cloned')]],
    [`migrate to ${other}`, () => ['--base-dir', fresh('migrate'), 'migrate', '--backend', other]],
  ];
  const rows = [];
  try {
    for (const [name, args] of ops) {
      const argv = args();
      log(name);
      const r = runBin(argv, env, { peak: true });
      const base = { kind: 'bulk', measure: name, backend, size };
      rows.push(r.code === 0 ? { ...base, medianMs: r.ms, peakMiB: r.peakMiB } : { ...base, note: failure(r) });
    }
  } finally {
    removeLater(work);
  }
  return rows;
}
