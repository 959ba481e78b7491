import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BIN, ROOT, json, makeHome, runAsync, type Home } from '../helpers/cli.js';
import { availableBackends, comparable, oldMemory, readContext, seedContext } from '../helpers/lifecycle.js';
import type { Memory } from '../../src/memory/types.js';
import type { BackendName } from '../../src/storage/types.js';

/**
 * SPEC section 9: consolidate, restore-backup and clone survive being killed at any point, and a
 * rerun converges; consolidate runs while other processes create memories. Real processes, killed
 * with SIGKILL at varied delays (some before the work starts, some in the middle, some after).
 */

const backends = await availableBackends();
const DELAYS = [150, 350, 700];
/** A killed process leaves its lock until it is stale (10 s): the rerun waits that out, as cron would. */
const WAIT = ['--lock-timeout', '30'];
const COUNT = 240;

let home: Home;
beforeEach(() => {
  home = makeHome('wm-crash-');
});
afterEach(() => home.cleanup());

/** Runs the bin and SIGKILLs it after `delay` ms if it is still running. */
function runKilled(args: string[], delay: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: home.env, stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), delay);
    child.on('error', reject);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function seeds(): Memory[] {
  return Array.from({ length: COUNT }, (_, i) =>
    oldMemory(10 + i / 1000, { title: `Seed ${i}`, tags: i % 3 === 0 ? ['insight', 'x'] : ['x'] }),
  );
}

/** The context holds each seed exactly once, in the place consolidation puts it. */
async function expectConsolidated(dir: string, backend: BackendName, seeded: Memory[]): Promise<void> {
  const { memories, problems } = await readContext(dir, backend);
  expect(problems).toEqual([]);
  const byId = new Map(memories.map((m) => [m.id, m]));
  for (const s of seeded) {
    const m = byId.get(s.id);
    expect(m, s.title).toBeDefined();
    expect(m!.type).toBe(s.tags.includes('insight') ? 'long_term' : 'archive');
  }
  const insights = memories.filter((m) => m.tags.includes('consolidated'));
  expect(insights).toHaveLength(1);
  for (const s of seeded.filter((x) => !x.tags.includes('insight'))) expect(insights[0].content).toContain(`- id: ${s.id}`);
  expect(memories).toHaveLength(seeded.length + 1);
  if (backend === 'markdown') {
    // Memory files only: a write killed half way may leave a fresh temporary file (`x.md.1a2b3c`),
    // never shown as a memory and cleaned once it is old (test/promises checks that).
    const files = ['short_term', 'long_term', 'archive'].flatMap((t) => readdirSync(join(dir, 'memory', t))).filter((f) => f.endsWith('.md'));
    expect(files).toHaveLength(memories.length);
  }
  const log = json(home.run(['--base-dir', dir, '--json', 'consolidate', '--log']));
  expect(log.runs.every((r: { status: string }) => r.status === 'done')).toBe(true);
}

describe.each(backends)('killed at any point, a rerun converges (%s)', (backend) => {
  it('consolidate', async () => {
    for (const delay of DELAYS) {
      const dir = join(home.home, `consolidate-${delay}`);
      const seeded = seeds();
      await seedContext(home, dir, backend, seeded);
      await runKilled(['--base-dir', dir, 'consolidate', '--no-dry-run'], delay);
      const r = home.run(['--base-dir', dir, ...WAIT, 'consolidate', '--no-dry-run', '--quiet']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      await expectConsolidated(dir, backend, seeded);
    }
  });

  it('restore-backup', async () => {
    const src = join(home.home, 'src');
    await seedContext(home, src, backend, seeds());
    const backup = json(home.run(['--base-dir', src, '--json', 'backup'])).path;
    const source = (await readContext(src, backend)).memories.map(comparable);
    for (const delay of DELAYS) {
      const target = join(home.home, `restore-${delay}`);
      await runKilled(['--backend', backend, 'restore-backup', backup, '--target-dir', target], delay);
      // Even refusing every conflict, the rerun finds what the killed run wrote identical and finishes.
      const r = home.run(['--backend', backend, ...WAIT, 'restore-backup', backup, '--target-dir', target, '--on-conflict', 'fail']);
      expect(r.code, r.stderr).toBe(0);
      const restored = await readContext(target, backend);
      expect(restored.problems).toEqual([]);
      expect(restored.memories.map(comparable)).toEqual(source);
    }
  });

  it('clone: DEST is absent or complete, never half-made', async () => {
    const src = join(home.home, 'src');
    await seedContext(home, src, backend, seeds());
    const source = (await readContext(src, backend)).memories.map(comparable);
    for (const delay of DELAYS) {
      const name = `copy-${delay}`;
      const dest = join(home.wmHome, name);
      await runKilled(['--base-dir', src, 'clone', name], delay);
      if (existsSync(dest)) expect((await readContext(dest, backend)).memories.map(comparable)).toEqual(source);
      else {
        const r = home.run(['--base-dir', src, ...WAIT, 'clone', name]);
        expect(r.code, r.stderr).toBe(0);
        expect((await readContext(dest, backend)).memories.map(comparable)).toEqual(source);
      }
      expect(readdirSync(home.wmHome).filter((n) => n.includes('.clone-'))).toEqual([]);
    }
  });
});

describe.each(backends)('consolidate in the background while 4 processes create memories (%s)', (backend) => {
  it('every memory ends in exactly one place', async () => {
    const dir = join(home.home, 'busy');
    expect(home.run(['--base-dir', dir, '--backend', backend, 'init']).code).toBe(0);
    const creator = `
      const { MemoryManager } = await import(process.env.WM_DIST);
      const wm = new MemoryManager({ baseDir: process.env.WM_DIR });
      for (let i = 0; i < 40; i++) {
        const m = await wm.createMemory({ title: process.env.WM_WHO + ' ' + i, content: 'body ' + i, tags: i % 2 ? ['Insight'] : ['plain'] });
        console.log(m.id);
      }`;
    const env = { ...home.env, WM_DIST: join(ROOT, 'dist', 'index.js'), WM_DIR: dir };
    let creating = true;
    const creators = Promise.all(
      [1, 2, 3, 4].map((who) =>
        new Promise<string[]>((resolve, reject) => {
          const child = spawn(process.execPath, ['--input-type=module', '-e', creator], { env: { ...env, WM_WHO: `p${who}` } });
          let out = '';
          child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
          child.on('error', reject);
          child.on('exit', (code) => (code === 0 ? resolve(out.trim().split('\n')) : reject(new Error(`creator ${who} exit ${code}`))));
        }),
      ),
    ).finally(() => (creating = false));
    let runs = 0;
    const consolidating = (async () => {
      while (creating) {
        const r = await runAsync(['--base-dir', dir, 'consolidate', '--no-dry-run', '--older-than', '0s', '--quiet'], { env: home.env });
        expect(r.code, r.stderr).toBe(0);
        runs++;
      }
    })();
    const ids = (await creators).flat();
    await consolidating;
    expect(runs).toBeGreaterThan(0);
    expect(home.run(['--base-dir', dir, 'consolidate', '--no-dry-run', '--older-than', '0s', '--quiet']).code).toBe(0);

    expect(ids).toHaveLength(160);
    const { memories, problems } = await readContext(dir, backend);
    expect(problems).toEqual([]);
    const byId = new Map(memories.map((m) => [m.id, m]));
    const insights = memories.filter((m) => m.tags.includes('consolidated'));
    for (const id of ids) {
      const m = byId.get(id)!;
      expect(m, id).toBeDefined();
      if (m.tags.includes('insight')) expect(m).toMatchObject({ type: 'long_term', meta: { promoted_from: 'short_term' } });
      else {
        expect(m.type).toBe('archive');
        // Listed by exactly one run's Insights memory.
        expect(insights.filter((s) => s.content.includes(`- id: ${id}`))).toHaveLength(1);
      }
    }
    expect(memories).toHaveLength(ids.length + insights.length);
    if (backend === 'markdown') {
      // Memory files only: a write killed half way may leave a fresh temporary file (`x.md.1a2b3c`),
    // never shown as a memory and cleaned once it is old (test/promises checks that).
    const files = ['short_term', 'long_term', 'archive'].flatMap((t) => readdirSync(join(dir, 'memory', t))).filter((f) => f.endsWith('.md'));
      expect(files).toHaveLength(memories.length);
    }
  });
});
