// Realistic contexts for the benchmark: memories of about 1 KB drawn from a varied vocabulary,
// with tags, extra front-matter keys and all three types. Deterministic (seeded), and cached
// under bench/.cache/ keyed by size, backend and GENERATOR_VERSION, because 100,000 memories take
// a while to write and every run should measure the same data.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Bump when the generated data changes, so old caches are not reused. 2: SQLite contexts whose
 * search index is merged after the bulk write, as whitemagic now leaves it (markdown contexts
 * build theirs at the first search of a run).
 */
export const GENERATOR_VERSION = 2;

/** Words every query of the benchmark can find, at known rough frequencies. */
export const QUERIES = {
  oneWord: 'latency',
  twoWords: 'cache invalidation',
  phrase: '"connection pool"',
};

const TECH_WORDS = `api cache database index query latency throughput schema migration deploy rollback
  release branch merge commit review test fixture mock benchmark profile memory heap stack thread
  process queue worker scheduler cron backup restore snapshot replica shard partition cluster node
  kubernetes docker container image registry token session cookie auth oauth password secret key
  certificate tls proxy gateway router endpoint handler middleware logger metric trace span alert
  dashboard incident outage postmortem runbook oncall pager budget estimate sprint roadmap milestone
  customer invoice payment refund subscription pricing tier quota limit retry timeout backoff
  idempotent transaction lock mutex semaphore deadlock race condition invariant contract interface
  adapter factory builder parser lexer compiler bundler linter formatter typescript javascript
  python rust golang sqlite postgres redis kafka rabbitmq elasticsearch search ranking embedding
  vector prompt agent model context window summary decision insight pattern heuristic lesson
  invalidation eviction warmup pool connection socket stream buffer encoding unicode locale timezone`
  .split(/\s+/)
  .filter(Boolean);

const SYLLABLES = 'ka lo mi ne ru sa te vo zi pa re do fu gi ha ja ku le mo na po qui ri so tu va we xi yo ze'.split(' ');

const TAGS = `frontend backend infra security performance bug feature refactor docs testing ops design
  api database release customer meeting idea todo research learning review urgent later personal
  project-alpha project-beta project-gamma client-acme client-globex team-platform team-data
  decision insight pattern heuristic proven python typescript rust sql devops ml`
  .split(/\s+/)
  .filter(Boolean);

const PHRASES = ['connection pool', 'cache invalidation', 'race condition', 'exponential backoff', 'feature flag'];

/** mulberry32: a small, fast, seeded generator, so every run writes the same corpus. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A vocabulary of a few thousand words: real technical words plus made-up ones (a long tail). */
function vocabulary(random) {
  const words = new Set(TECH_WORDS);
  while (words.size < 4000) {
    const n = 2 + Math.floor(random() * 3);
    let w = '';
    for (let i = 0; i < n; i++) w += SYLLABLES[Math.floor(random() * SYLLABLES.length)];
    words.add(w);
  }
  return [...words];
}

/** An endless stream of memories (deterministic for a seed), created over the past year. */
export function* memories(count, lib, seed = 1) {
  const random = rng(seed);
  const words = vocabulary(rng(7));
  // Zipf-like: a few words are everywhere, most are rare, as in real notes.
  const word = () => words[Math.floor(Math.pow(random(), 2.2) * words.length)];
  const pick = (list) => list[Math.floor(random() * list.length)];
  const sentence = () => {
    const n = 6 + Math.floor(random() * 12);
    const parts = [];
    for (let i = 0; i < n; i++) parts.push(word());
    if (random() < 0.08) parts.splice(Math.floor(random() * parts.length), 0, pick(PHRASES));
    if (random() < 0.1) parts.push(`\`${word()}()\``);
    const s = parts.join(' ');
    return s[0].toUpperCase() + s.slice(1) + '.';
  };
  const now = Date.UTC(2025, 0, 1);
  const year = 365 * 86_400_000;
  // Creation times increase with the index, as they would in a real context.
  for (let i = 0; i < count; i++) {
    const createdMs = now - year + Math.floor((year * (i + random())) / count);
    const created = new Date(createdMs).toISOString();
    const titleWords = [];
    for (let k = 0, n = 3 + Math.floor(random() * 5); k < n; k++) titleWords.push(word());
    const title = titleWords.join(' ').replace(/^./, (c) => c.toUpperCase());
    let content = '';
    while (content.length < 850 + random() * 300) {
      const r = random();
      if (r < 0.1) content += `## ${word()} ${word()}\n\n`;
      else if (r < 0.2) content += `- ${sentence()}\n- ${sentence()}\n\n`;
      else content += `${sentence()} ${sentence()} ${sentence()}\n\n`;
    }
    const tags = [];
    for (let k = 0, n = Math.floor(random() * 5); k < n; k++) {
      const t = pick(TAGS);
      if (!tags.includes(t)) tags.push(t);
    }
    const r = random();
    const type = r < 0.15 ? 'archive' : r < 0.4 ? 'long_term' : 'short_term';
    const meta = {};
    if (random() < 0.2) meta.source = `https://example.com/${word()}/${i}`;
    if (random() < 0.1) meta.priority = 1 + Math.floor(random() * 5);
    if (type === 'archive') meta.archived_from = 'short_term';
    const updated = random() < 0.3 ? new Date(createdMs + Math.floor(random() * 30 * 86_400_000)).toISOString() : created;
    yield { id: lib.newId(createdMs), title, content: content.trimEnd(), type, tags, created, updated, meta };
  }
}

/** Writes a markdown context directly in the on-disk format (SPEC sections 2-3). */
function writeMarkdownContext(dir, count, lib, seed) {
  for (const type of ['short_term', 'long_term', 'archive']) mkdirSync(join(dir, 'memory', type), { recursive: true, mode: 0o700 });
  for (const m of memories(count, lib, seed)) {
    writeFileSync(join(dir, 'memory', m.type, `${lib.memoryName(m)}.md`), lib.serialiseMemory(m), { mode: 0o600 });
  }
  lib.writeManifest(dir, { format: lib.FORMAT_VERSION, backend: 'markdown', created: new Date().toISOString() });
}

/** Fills a SQLite context through the backend in one bulk insert; false if the backend is not built yet. */
async function writeSqliteContext(dir, count, lib, seed) {
  const factory = await lib.loadBackend('sqlite');
  try {
    factory.create(dir);
  } catch (err) {
    if (err && err.code === 'unsupported') return false;
    throw err;
  }
  lib.writeManifest(dir, { format: lib.FORMAT_VERSION, backend: 'sqlite', created: new Date().toISOString() });
  const storage = factory.open(dir, {});
  try {
    storage.insertMany(memories(count, lib, seed), 'fail');
  } finally {
    storage.close();
  }
  return true;
}

/**
 * The cached context of `count` memories on `backend`, generated on first use; null when the
 * backend is not available in this build. Generated beside the cache and renamed into place, so
 * an interrupted run never leaves a half-made context in the cache.
 */
export async function cachedContext(cacheDir, backend, count, lib, seed = 1) {
  const dir = join(cacheDir, 'contexts', `${backend}-${count}-s${seed}-v${GENERATOR_VERSION}`);
  if (existsSync(dir)) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true, mode: 0o700 });
  try {
    const ok = backend === 'markdown' ? (writeMarkdownContext(tmp, count, lib, seed), true) : await writeSqliteContext(tmp, count, lib, seed);
    if (!ok) {
      rmSync(tmp, { recursive: true, force: true });
      return null;
    }
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  renameSync(tmp, dir);
  return dir;
}

/**
 * A $WHITEMAGIC_HOME holding `n` contexts of `count` memories each (different data in each), for
 * federated search; null when the backend is not available.
 */
export async function cachedHome(cacheDir, backend, n, count, lib) {
  const home = join(cacheDir, 'homes', `${backend}-${n}x${count}-v${GENERATOR_VERSION}`);
  if (existsSync(home)) return home;
  const tmp = `${home}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true, mode: 0o700 });
  for (let i = 0; i < n; i++) {
    const dir = join(tmp, `ctx-${String(i).padStart(2, '0')}`);
    mkdirSync(dir, { mode: 0o700 });
    const ok = backend === 'markdown' ? (writeMarkdownContext(dir, count, lib, 100 + i), true) : await writeSqliteContext(dir, count, lib, 100 + i);
    if (!ok) {
      rmSync(tmp, { recursive: true, force: true });
      return null;
    }
  }
  renameSync(tmp, home);
  return home;
}
