import { appendFileSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { json, makeHome, type Home, type RunResult } from '../helpers/cli.js';
import {
  FULL,
  availableBackends,
  expectOk,
  figure,
  hasCommands,
  inspectContext,
  manifestBackend,
  printedId,
  prng,
  runAndKill,
  type Killed,
  type Prng,
} from './helpers.js';
import { PROMOTING_TAG, addMemories, seedContext } from './seed.js';

/**
 * SPEC section 9, crashes: processes are killed with SIGKILL at many points of their run (a seeded
 * random delay, spread over a normal run's length). After each kill: the next command works, nothing
 * acknowledged is lost, nothing is duplicated, no temporary file is a memory, and a lock the dead
 * process held is recovered by the next locked command within its default wait.
 *
 * Adding an operation is one entry in OPERATIONS. `npm run crash` runs at least 200 kills;
 * `npm test` about 20.
 */

/** One series: one operation killed over and over in one context of one backend. */
interface Series {
  h: Home;
  dir: string;
  backend: string;
  rng: Prng;
  /** Ids that must exist from now on (acknowledged, or seen existing). */
  expected: Set<string>;
  /** Per-operation state. */
  data: Record<string, any>;
  run(args: string[]): Promise<RunResult>;
}

interface CrashOperation {
  name: string;
  /** Commands of the bin it needs; the operation is skipped (and named) until they exist. */
  commands: string[];
  /** Needs at least two backends (migrate). */
  twoBackends?: boolean;
  /** Only for this backend (what it checks exists only there). */
  backend?: string;
  prepare(s: Series): Promise<void>;
  /** The command run (and killed) in this round. */
  args(s: Series, round: number): Promise<string[]> | string[];
  /** After the run or the kill: bring the context forward as a user would, and check the promises. */
  after(s: Series, killed: Killed, round: number): Promise<void> | void;
}

const SEEDED = FULL ? 300 : 60;

/** Every expected id is there exactly once, and the listing holds nothing else the rule refuses. */
async function checkSet(s: Series, allowExtra: (id: string, title: string, tags: string[]) => boolean = () => false) {
  const state = await inspectContext(s.run, s.dir);
  for (const id of s.expected) expect(state.byId.has(id), `acknowledged ${id} is still there`).toBe(true);
  for (const [id, m] of state.byId) {
    if (!s.expected.has(id)) expect(allowExtra(id, m.title, m.tags), `unexpected memory ${id} '${m.title}'`).toBe(true);
  }
  return state;
}

const OPERATIONS: CrashOperation[] = [
  {
    // The first command after hand edits brings the catalog up to date (catalog-patch.ts): killed
    // while it reads the files or writes the catalog, the next command still sees every edit.
    name: 'list after hand edits',
    commands: ['list'],
    backend: 'markdown',
    async prepare(s) {
      const seeded = await seedContext(s.h, s.dir, s.backend, SEEDED);
      s.data.titles = new Map(seeded.map((m) => [m.id, m.title]));
      for (const m of seeded) s.expected.add(m.id);
      expectOk(await s.run(['--base-dir', s.dir, 'list']), 'the first list');
      await new Promise((resolve) => setTimeout(resolve, 100)); // the catalog's records settle
      expectOk(await s.run(['--base-dir', s.dir, 'list']), 'a list from the clean catalog');
    },
    args(s, round) {
      const files = readdirSync(join(s.dir, 'memory', 'short_term')).map((f) => join(s.dir, 'memory', 'short_term', f));
      s.data.appended = undefined;
      for (const [i, file] of files.entries()) {
        const text = readFileSync(file, 'utf8');
        const id = /^id: (.+)$/m.exec(text)![1];
        if (i % 3 === round % 3) {
          appendFileSync(file, `\nedited by hand in round ${round}\n`);
          s.data.appended ??= id;
        }
        if (i % 17 === round % 17) {
          const title = `hand ${round} ${i}`;
          writeFileSync(file, readFileSync(file, 'utf8').replace(/^title: .*$/m, `title: ${title}`));
          s.data.titles.set(id, title);
        }
      }
      return ['--base-dir', s.dir, 'list', '--limit', '5'];
    },
    async after(s, _killed, round) {
      const state = await checkSet(s);
      for (const [id, title] of s.data.titles) expect(state.byId.get(id)?.title, `${id} as edited by hand`).toBe(title);
      const shown = json(await s.run(['--base-dir', s.dir, '--json', 'show', s.data.appended]));
      expect(shown.content).toContain(`edited by hand in round ${round}`);
    },
  },
  {
    name: 'create',
    commands: ['create'],
    async prepare(s) {
      for (const m of await seedContext(s.h, s.dir, s.backend, 5)) s.expected.add(m.id);
    },
    args: (s, round) => ['--base-dir', s.dir, 'create', '--title', `crash ${round}`, '--content', `body ${round}`, '--tag', 'crash'],
    async after(s, killed) {
      const id = printedId(killed.stdout);
      if (id) s.expected.add(id);
      const next = await s.run(['--base-dir', s.dir, 'create', '--title', 'after a kill', '--content', 'x']);
      expectOk(next, 'the next create');
      s.expected.add(printedId(next.stdout)!);
      // A create killed after its rename but before printing may exist: then it must stay.
      const state = await checkSet(s, (_id, title) => /^crash \d+$/.test(title));
      for (const id of state.ids) s.expected.add(id);
    },
  },
  {
    name: 'update',
    commands: ['update'],
    async prepare(s) {
      const seeded = await seedContext(s.h, s.dir, s.backend, 5);
      for (const m of seeded) s.expected.add(m.id);
      s.data.id = seeded[0].id;
      s.data.title = seeded[0].title;
    },
    args: (s, round) => ['--base-dir', s.dir, 'update', s.data.id, '--title', `round ${round}`, '--content', `updated in round ${round}`],
    async after(s, killed, round) {
      // The next locked command must get the lock even if the dead process held it (stale lock).
      const next = await s.run(['--base-dir', s.dir, 'update', s.data.id, '--add-tag', `r${round}`]);
      expectOk(next, 'the next update (stale lock recovered)');
      const shown = json(await s.run(['--base-dir', s.dir, '--json', 'show', s.data.id]));
      if (/^updated /.test(killed.stdout)) expect(shown.title).toBe(`round ${round}`);
      else expect([s.data.title, `round ${round}`]).toContain(shown.title);
      // Title and body were written together: never one without the other.
      const k = /^round (\d+)$/.exec(shown.title)?.[1];
      if (k !== undefined) expect(shown.content).toBe(`updated in round ${k}`);
      s.data.title = shown.title;
      await checkSet(s);
    },
  },
  {
    name: 'consolidate',
    commands: ['consolidate'],
    async prepare(s) {
      for (const m of await seedContext(s.h, s.dir, s.backend, SEEDED)) s.expected.add(m.id);
    },
    async args(s, round) {
      // Fresh work for every round: old short-term memories to archive or promote.
      if (round > 0) for (const m of await addMemories(s.dir, s.backend, Math.ceil(SEEDED / 4), { label: `round ${round}` })) s.expected.add(m.id);
      return ['--base-dir', s.dir, 'consolidate', '--no-dry-run'];
    },
    async after(s) {
      const rerun = await s.run(['--base-dir', s.dir, 'consolidate', '--no-dry-run']);
      expectOk(rerun, 'a rerun of consolidate converges');
      const state = await checkSet(s, (_id, title, tags) => tags.includes('consolidated') || /^Consolidated Insights/.test(title));
      for (const id of s.expected) {
        const m = state.byId.get(id)!;
        expect(m.type, `${id} was consolidated`).toBe(m.tags.includes(PROMOTING_TAG) ? 'long_term' : 'archive');
      }
    },
  },
  {
    name: 'migrate',
    commands: ['migrate'],
    twoBackends: true,
    async prepare(s) {
      for (const m of await seedContext(s.h, s.dir, s.backend, SEEDED)) s.expected.add(m.id);
    },
    args(s) {
      s.data.target = manifestBackend(s.dir) === 'sqlite' ? 'markdown' : 'sqlite';
      return ['--base-dir', s.dir, '--backend', s.data.target, 'migrate'];
    },
    async after(s) {
      const state = await checkSet(s);
      expect(state.ids.length).toBe(s.expected.size);
      const rerun = await s.run(['--base-dir', s.dir, '--backend', s.data.target, 'migrate']);
      expectOk(rerun, 'a rerun of migrate converges');
      expect(manifestBackend(s.dir)).toBe(s.data.target);
      expect((await checkSet(s)).ids.length).toBe(s.expected.size);
    },
  },
  {
    name: 'clone',
    commands: ['clone'],
    async prepare(s) {
      for (const m of await seedContext(s.h, s.dir, s.backend, SEEDED)) s.expected.add(m.id);
    },
    args(s, round) {
      s.data.dest = join(s.h.home, 'clones', `c${round}`);
      return ['--base-dir', s.dir, 'clone', s.data.dest];
    },
    async after(s) {
      const dest = s.data.dest as string;
      // No half-made context: the copy is absent or whole.
      if (existsSync(dest)) {
        const copy = await inspectContext(s.run, dest);
        expect(new Set(copy.ids)).toEqual(s.expected);
      } else {
        expectOk(await s.run(['--base-dir', s.dir, 'clone', dest]), 'a rerun of clone');
        expect(new Set((await inspectContext(s.run, dest)).ids)).toEqual(s.expected);
      }
      await checkSet(s);
      rmSync(dest, { recursive: true, force: true });
    },
  },
  {
    name: 'restore-backup',
    commands: ['backup', 'restore-backup'],
    async prepare(s) {
      for (const m of await seedContext(s.h, s.dir, s.backend, SEEDED)) s.expected.add(m.id);
      const made = await s.run(['--base-dir', s.dir, '--json', 'backup', '--output', join(s.h.home, 'backups') + '/']);
      expectOk(made, 'backup');
      s.data.archive = json(made).path;
    },
    args(s) {
      s.data.target = join(s.h.home, 'target');
      return ['--base-dir', s.dir, '--backend', s.backend, 'restore-backup', s.data.archive, '--target-dir', s.data.target, '--on-conflict', 'replace'];
    },
    async after(s) {
      const target = s.data.target as string;
      const rerun = await s.run(['--base-dir', s.dir, 'restore-backup', s.data.archive, '--target-dir', target, '--on-conflict', 'replace']);
      expectOk(rerun, 'a rerun of restore-backup converges');
      expect(new Set((await inspectContext(s.run, target)).ids)).toEqual(s.expected);
      await checkSet(s);
      rmSync(target, { recursive: true, force: true });
    },
  },
  {
    name: 'reindex',
    commands: ['reindex', 'search'],
    async prepare(s) {
      for (const m of await seedContext(s.h, s.dir, s.backend, SEEDED)) s.expected.add(m.id);
    },
    args: (s) => ['--base-dir', s.dir, 'reindex'],
    async after(s) {
      const found = await s.run(['--base-dir', s.dir, '--json', 'search', 'crashword', '--limit', String(SEEDED * 2)]);
      expectOk(found, 'search after a killed reindex');
      const hits = json(found);
      const ids = (hits.hits ?? hits.results ?? hits).map((x: { id: string }) => x.id);
      expect(new Set(ids)).toEqual(s.expected);
      await checkSet(s);
    },
  },
];

interface Figures {
  operation: string;
  backend: string;
  rounds: number;
  kills: number;
  finishedFirst: number;
  meanRunMs: number;
}
const figures: Figures[] = [];
/** `npm run crash`: at least 200 kills over all series; `npm test`: about 20. */
const TOTAL_KILLS = FULL ? 210 : 20;

describe('promises: SIGKILL at any point', () => {
  const backends = availableBackends();
  const series = OPERATIONS.flatMap((op) => backends.filter((b) => !op.backend || op.backend === b).map((backend) => ({ op, backend })));
  const runnable = series.filter(({ op }) => hasCommands(...op.commands) && (!op.twoBackends || backends.length > 1));
  const kills = Math.max(2, Math.ceil(TOTAL_KILLS / Math.max(1, runnable.length)));

  afterAll(() => {
    const kills = figures.reduce((n, f) => n + f.kills, 0);
    for (const f of figures) {
      figure('crash', `${f.operation} on ${f.backend}: ${f.kills} kills in ${f.rounds} rounds (${f.finishedFirst} finished first), normal run ${f.meanRunMs} ms`);
    }
    const skipped = series.filter((x) => !runnable.includes(x)).map(({ op, backend }) => `${op.name}/${backend}`);
    figure('crash', `total: ${kills} kills over ${figures.length} series${skipped.length ? `; not in this build: ${skipped.join(', ')}` : ''}`);
  });

  for (const { op, backend } of series) {
    const ready = runnable.some((x) => x.op === op && x.backend === backend);
    (ready ? it.concurrent : it.concurrent.skip)(`${op.name} on ${backend}: killed ${kills} times, every promise holds`, async () => {
      const h = makeHome(`wm-crash-${op.name}-`);
      try {
        const s: Series = {
          h,
          dir: join(h.home, 'ctx'),
          backend,
          rng: prng(0x5eed + OPERATIONS.indexOf(op) * 7919 + backend.length),
          expected: new Set(),
          data: {},
          run: (args) => h.spawnRun(args),
        };
        await op.prepare(s);
        // Round 0 runs to the end: it proves the operation works and times it, to spread the kills.
        const started = Date.now();
        const first = await runAndKill(await op.args(s, 0), h.env, 600_000);
        let runMs = Date.now() - started;
        expect(first.code, `a normal run: ${first.stderr}`).toBe(0);
        expect(first.killed).toBe(false);
        await op.after(s, first, 0);
        const f: Figures = { operation: op.name, backend, rounds: 0, kills: 0, finishedFirst: 0, meanRunMs: runMs };
        // Rounds until enough runs were really killed (a run may finish before its delay), bounded.
        for (let round = 1; f.kills < kills && round <= kills * 10; round++) {
          f.rounds = round;
          const delay = Math.round(runMs * (0.1 + 0.85 * s.rng.next()));
          const args = await op.args(s, round);
          const began = Date.now();
          const killed = await runAndKill(args, h.env, delay);
          if (killed.killed) f.kills++;
          else {
            // Runs got faster than the timed one (a loaded machine): aim the next kills inside them.
            runMs = Math.min(runMs, Date.now() - began);
            f.finishedFirst++;
            expect(killed.code, `a run that was not killed succeeds: ${killed.stderr}`).toBe(0);
          }
          await op.after(s, killed, round);
        }
        figures.push(f);
        expect(f.kills).toBeGreaterThanOrEqual(kills);
      } finally {
        h.cleanup();
      }
    }, FULL ? 900_000 : 240_000);
  }
});
