import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN } from './cli.js';

/** Puts a `whitemagic` command on a PATH inside `home` (as an installed package would); returns the PATH. */
export function installBin(home: string): string {
  const dir = join(home, 'bin');
  mkdirSync(dir, { recursive: true });
  const wrapper = join(dir, 'whitemagic');
  writeFileSync(wrapper, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`);
  chmodSync(wrapper, 0o755);
  return `${dir}:${process.env.PATH}`;
}

/**
 * True when a program the test drives (zsh, fish, direnv) is missing on a developer's machine:
 * those tests are then skipped with a note, so `npm test` works on a fresh machine. In CI
 * (CI set), .ci/run installs them and nothing is skipped: a missing one fails the test.
 */
export function missingOutsideCi(name: string): boolean {
  if (process.env.CI) return false;
  const missing = spawnSync('sh', ['-c', `command -v ${name}`]).status !== 0;
  if (missing) process.stderr.write(`note: ${name} is not installed; its tests are skipped (apt-get install -y ${name})\n`);
  return missing;
}

/** The path of a shell, or a failure saying how to install it (CI installs them from Debian's packages). */
export function requireShell(name: string): string {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const path = r.stdout.trim();
  if (r.status !== 0 || !path) throw new Error(`${name} is not installed: apt-get install -y zsh fish direnv`);
  return path;
}

/** Runs a shell with a script, failing on a non-zero exit; returns stdout. */
export function runShell(shell: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(shell, args, { env, cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
