import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, lstatSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root and the built bin the end-to-end tests run (built by `npm test` first). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'whitemagic.js');
export const FIXTURES = join(ROOT, 'test', 'fixtures');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
  cwd?: string;
  /** Run as this user (and group of the same number): needs root. */
  uid?: number;
}

/**
 * A user without privileges, for the tests of a context its user cannot write: root ignores file
 * modes, and the tests run as root here and in CI.
 */
export const UNPRIVILEGED = 65534;

/**
 * Hands `paths` (each tree whole, inside the test's `home`) to `uid`, and makes the folders from
 * `home` down to them traversable, so that user can run the command line on them. False if that
 * user cannot read the build (a checkout inside a private folder): the caller cannot run as it then.
 */
export function handTo(uid: number, home: string, ...paths: string[]): boolean {
  const readable = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(BIN)}, require('fs').constants.R_OK)`], { uid, gid: uid });
  if (readable.status !== 0) return false;
  const walk = (path: string) => {
    chownSync(path, uid, uid);
    if (lstatSync(path).isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  for (const path of paths) {
    walk(path);
    for (let up = dirname(path); up.startsWith(home); up = dirname(up)) chmodSync(up, (statSync(up).mode & 0o777) | 0o001);
  }
  return true;
}

/** A throw-away $WHITEMAGIC_HOME and a `run` bound to it; call `cleanup` in afterEach. */
export function makeHome(prefix = 'wm-test-') {
  const home = mkdtempSync(join(tmpdir(), prefix));
  const baseEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    WHITEMAGIC_HOME: join(home, '.whitemagic'),
    NO_COLOR: '1',
  };
  return {
    home,
    wmHome: join(home, '.whitemagic'),
    env: baseEnv,
    /** Runs the bin synchronously with this home; stdin is empty unless `input` is given. */
    run(args: string[], options: RunOptions = {}): RunResult {
      const r = spawnSync(process.execPath, [BIN, ...args], {
        env: { ...baseEnv, ...options.env },
        input: options.input ?? '',
        cwd: options.cwd ?? home,
        encoding: 'utf8',
        // Past Node's 1 MB: a list of 10,000 memories as JSON is some 6 MB.
        maxBuffer: 64 * 1024 * 1024,
        ...(options.uid !== undefined ? { uid: options.uid, gid: options.uid } : {}),
      });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    /** Runs the bin as a child process, resolving when it exits (for concurrency tests). */
    spawnRun(args: string[], options: RunOptions = {}): Promise<RunResult> {
      return runAsync(args, { ...options, env: { ...baseEnv, ...options.env } });
    },
    /** Copies a fixture folder from test/fixtures into this home; returns its path. */
    copyFixture(name: string, to: string = name): string {
      const dest = join(home, to);
      cpSync(join(FIXTURES, name), dest, { recursive: true });
      return dest;
    },
    cleanup() {
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export type Home = ReturnType<typeof makeHome>;

export function runAsync(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return runProcess([BIN, ...args], options);
}

/** Runs `node` with `args` as a child process, collecting its output; resolves when it exits. */
export function runProcess(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: options.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Parses stdout as JSON, failing the test with the output if it is not. */
export function json<T = any>(r: RunResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}
