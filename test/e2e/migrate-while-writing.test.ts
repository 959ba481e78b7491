import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { BIN, json, makeHome, type Home } from '../helpers/cli.js';

let h: Home;
beforeEach(() => {
  h = makeHome();
});
afterEach(() => h.cleanup());

function bash(script: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', script], { env: { ...h.env, ...env, BIN }, stdio: 'ignore' });
    child.on('close', (code) => resolve(code ?? -1));
  });
}

it('creates racing a migration back and forth all end up in the context', async () => {
  const dir = join(h.home, 'ctx');
  expect(h.run(['--base-dir', dir, 'init']).code).toBe(0);
  const writers = Array.from({ length: 4 }, (_, w) =>
    bash(`for i in $(seq 1 20); do node "$BIN" --base-dir "$DIR" create --title "w${w} n$i" --content x >/dev/null || exit 1; done`, { DIR: dir }),
  );
  const migrator = bash(
    'for b in sqlite markdown sqlite markdown; do node "$BIN" --base-dir "$DIR" --lock-timeout 60 migrate --backend $b >/dev/null || exit 1; done',
    { DIR: dir },
  );
  expect(await Promise.all([...writers, migrator])).toEqual([0, 0, 0, 0, 0]);
  const listed = json(h.run(['--base-dir', dir, 'list', '--json']));
  const titles = listed.memories.map((m: { title: string }) => m.title).sort();
  const expected = Array.from({ length: 4 }, (_, w) => Array.from({ length: 20 }, (_, i) => `w${w} n${i + 1}`)).flat().sort();
  expect(titles).toEqual(expected);
}, 300_000);
