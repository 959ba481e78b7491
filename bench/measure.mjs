// How the benchmark times things: whole processes against `node -e 0` run in the same rounds,
// medians and 95th percentiles, and peak memory from a preload on separate runs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(HERE, '..');
export const BIN = join(ROOT, 'bin', 'whitemagic.js');
const PRELOAD = pathToFileURL(join(HERE, 'peak-rss.mjs')).href;

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

/** Runs the built bin once; returns its exit code, output and wall time in ms. */
export function runBin(args, env, { peak = false } = {}) {
  const nodeArgs = peak ? ['--import', PRELOAD, BIN, ...args] : [BIN, ...args];
  return timed(nodeArgs, env, peak);
}

/** Runs `node -e 0`, the floor of any Node.js program. */
export function runFloor(env) {
  return timed(['-e', '0'], env, false);
}

function timed(nodeArgs, env, peak) {
  let rssDir;
  const fullEnv = { ...env };
  if (peak) {
    rssDir = mkdtempSync(join(tmpdir(), 'wm-bench-rss-'));
    fullEnv.WM_BENCH_RSS_FILE = join(rssDir, 'rss');
  }
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, nodeArgs, { env: fullEnv, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  let peakMiB;
  if (rssDir) {
    try {
      peakMiB = Number(readFileSync(join(rssDir, 'rss'), 'utf8')) / 1024;
    } catch {
      peakMiB = undefined;
    }
    rmSync(rssDir, { recursive: true, force: true });
  }
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms, peakMiB };
}

/** A command this build does not have yet (another issue builds it): Commander's usage error. */
export function notBuilt(result) {
  return result.code === 2 && /unknown (command|option)/.test(result.stderr);
}

/** Why a run failed, in one line, for the table. */
export function failure(result) {
  if (notBuilt(result)) return 'n/a (command not built yet)';
  const line = (result.stderr || result.stdout).trim().split('\n')[0] || `exit ${result.code}`;
  return `error: ${line.replace(/^whitemagic: error: /, '').slice(0, 80)}`;
}

/**
 * Times a command against `node -e 0`, interleaved round by round (the order flips every round) so
 * drift in the machine's load hits both alike. `prepare` runs untimed before each timed run (hand
 * edits, for instance); `args` may be a function of the round. One warm-up run first, and one more
 * run with the preload for peak memory.
 */
export function compareWithFloor({ args, env, runs, prepare, warmup = true }) {
  const argsFor = typeof args === 'function' ? args : () => args;
  if (warmup) {
    const first = runBin(argsFor(-1), env);
    if (first.code !== 0) return { error: failure(first) };
  }
  const floor = [];
  const times = [];
  for (let i = 0; i < runs; i++) {
    const steps = [() => floor.push(runFloor(env).ms), () => {
      prepare?.(i);
      const r = runBin(argsFor(i), env);
      if (r.code !== 0) throw Object.assign(new Error('run failed'), { result: r });
      times.push(r.ms);
    }];
    if (i % 2) steps.reverse();
    try {
      for (const step of steps) step();
    } catch (err) {
      if (err.result) return { error: failure(err.result) };
      throw err;
    }
  }
  prepare?.(runs);
  const mem = runBin(argsFor(runs), env, { peak: true });
  const medianMs = median(times);
  const floorMs = median(floor);
  return { medianMs, floorMs, ratio: medianMs / floorMs, peakMiB: mem.peakMiB };
}

/** Times an async in-process call `runs` times after one warm-up: median and 95th percentile. */
export async function timeCalls(fn, runs) {
  await fn(-1);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await fn(i);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return { medianMs: median(times), p95Ms: percentile(times, 95) };
}
