// `npm run bench`: generates (or reuses) realistic contexts, measures whole commands against
// `node -e 0`, library calls, bulk operations and peak memory, then prints one table and writes
// bench/results/latest.json. See docs/performance.md.
//
//   node bench/run.mjs [--quick] [--sizes 1000,10000] [--backends markdown,sqlite] [--runs N] [--only bulk]
//
// Bulk operations (reindex, consolidate, backup, verify, restore, clone, migrate) run once each at
// 10,000 (or the largest size asked for below it), and at 100,000 when it is asked for, where
// their peak memory is checked against the limit. `--only bulk` runs nothing else: the quickest way
// to measure the bulk commands' peak memory at 100,000 (`--sizes 100000 --only bulk`).
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cachedContext, cachedHome, GENERATOR_VERSION } from './generate.mjs';
import { ROOT } from './measure.mjs';
import { benchEnv, bulkMeasures, federatedMeasure, handEditMeasure, inProcessMeasures, processMeasures, removeCopies, versionMeasure } from './suites.mjs';
import { describeTarget, targetFor, verdict } from './targets.mjs';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sizes: { type: 'string' },
    backends: { type: 'string', default: 'markdown,sqlite' },
    runs: { type: 'string' },
    only: { type: 'string' },
  },
});
const sizes = (opts.sizes ?? (opts.quick ? '1000' : '1000,10000,100000')).split(',').map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < 50)) throw new Error('--sizes: whole numbers of 50 or more, such as 1000,10000');
const backends = opts.backends.split(',');
const runs = Number(opts.runs ?? (opts.quick ? 5 : 9));
const GROUPS = ['version', 'commands', 'library', 'edits', 'bulk', 'federated'];
const only = opts.only ? opts.only.split(',') : GROUPS;
if (only.some((g) => !GROUPS.includes(g))) throw new Error(`--only: one or more of ${GROUPS.join(', ')}`);
const runGroup = (group) => only.includes(group);
const CACHE = join(ROOT, 'bench', '.cache');
const log = (text) => process.stderr.write(`bench: ${text}\n`);

/** The sources the generator needs (file format, ids, backends), bundled once per run. */
async function loadLib() {
  const outfile = join(CACHE, 'lib.mjs');
  mkdirSync(CACHE, { recursive: true });
  // The storage code loads some packages with require() on first use: give the ESM bundle a real one.
  const banner = { js: "import { createRequire as __wmCreateRequire } from 'node:module';\nconst require = __wmCreateRequire(import.meta.url);" };
  await build({ entryPoints: [join(ROOT, 'bench', 'lib.ts')], outfile, bundle: true, format: 'esm', platform: 'node', packages: 'external', banner, logLevel: 'warning' });
  return import(`${outfile}?${Date.now()}`);
}

const lib = await loadLib();
const { home, env } = benchEnv();
const rows = [];
const started = Date.now();
try {
  if (runGroup('version')) {
    log(`--version (${runs} runs against node -e 0)`);
    rows.push(...versionMeasure({ runs, env }));
  }
  // Bulk operations at 10,000, or at the largest size asked for when that is smaller (--quick), and
  // at 100,000 when asked for (peak memory there has a limit).
  const bulkSizes = new Set([sizes.includes(10_000) ? 10_000 : Math.max(...sizes.filter((n) => n <= 10_000), 0)]);
  if (sizes.includes(100_000)) bulkSizes.add(100_000);
  for (const backend of backends) {
    const unavailable = `n/a (${backend} backend not available)`;
    for (const size of sizes) {
      log(`${backend} ${size}: generating (cached after the first run)`);
      const dir = await cachedContext(CACHE, backend, size, lib);
      if (!dir) {
        rows.push({ kind: 'process', measure: 'all', backend, size, note: unavailable });
        continue;
      }
      if (runGroup('commands')) {
        log(`${backend} ${size}: commands`);
        rows.push(...processMeasures({ dir, backend, size, runs, env }));
      }
      if (runGroup('library')) {
        log(`${backend} ${size}: library calls`);
        rows.push(...(await inProcessMeasures({ dir, backend, size, runs: Math.max(30, runs * 4) })));
      }
      if (runGroup('edits') && backend === 'markdown' && size <= 10_000) {
        log(`${backend} ${size}: hand edits`);
        rows.push(...handEditMeasure({ dir, size, edits: size / 10, runs, env }));
      }
      if (runGroup('bulk') && bulkSizes.has(size)) {
        log(`${backend} ${size}: bulk operations`);
        rows.push(...bulkMeasures({ dir, backend, size, env, log: (text) => log(`${backend} ${size}: ${text}`) }));
      }
    }
    if (!runGroup('federated')) continue;
    const fedSize = 1_000;
    log(`${backend}: federated search over 10 contexts of ${fedSize}`);
    const fedHome = await cachedHome(CACHE, backend, 10, fedSize, lib);
    if (fedHome) rows.push(...federatedMeasure({ home: fedHome, backend, contexts: 10, size: fedSize, runs }));
    else rows.push({ kind: 'process', measure: 'federated search', backend, size: 10 * fedSize, note: unavailable });
  }
} finally {
  removeCopies();
  rmSync(home, { recursive: true, force: true });
}

for (const r of rows) {
  const target = targetFor(r);
  r.target = describeTarget(target, r.size);
  r.result = r.note ? '' : verdict(r, target);
}
printTable(rows);
const resultsDir = join(ROOT, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const report = {
  date: new Date().toISOString(),
  machine: { node: process.version, platform: process.platform, cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: +(totalmem() / 2 ** 30).toFixed(1) },
  options: { sizes, backends, runs, quick: opts.quick, only, generatorVersion: GENERATOR_VERSION },
  seconds: Math.round((Date.now() - started) / 1000),
  rows,
};
writeFileSync(join(resultsDir, 'latest.json'), JSON.stringify(report, null, 2) + '\n');
log(`done in ${report.seconds} s; results in bench/results/latest.json`);
const failed = rows.filter((r) => r.result === 'FAIL').length;
if (failed) log(`${failed} measure(s) off target`);

function printTable(all) {
  const fmt = (n, digits = 1) => (n === undefined ? '' : n.toFixed(digits));
  const header = ['measure', 'backend', 'size', 'median ms', 'p95 ms', 'x node -e 0', 'peak MiB', 'target', 'result'];
  const lines = all.map((r) => [
    r.measure,
    r.backend,
    r.size === undefined ? '' : r.size.toLocaleString('en-US'),
    r.note ?? fmt(r.medianMs, r.medianMs < 10 ? 2 : 0),
    fmt(r.p95Ms, 2),
    r.ratio === undefined ? '' : `${fmt(r.ratio, 2)}x`,
    fmt(r.peakMiB, 0),
    r.target,
    r.result,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const out = (cells) => cells.map((c, i) => (i === 3 && !c.startsWith('n/a') && !c.startsWith('error') ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  console.log(out(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(out(l));
}
