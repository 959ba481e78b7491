// Builds whitemagic's optional native code (native/, binding.gyp: the addon, and the SQLite ranking
// extension where better-sqlite3's headers are there) on install, with the node-gyp
// that npm ships, as npm would for any package with a binding.gyp; but a failure never fails the
// install. Without the addon whitemagic gives the same answers on Node.js alone, more slowly
// (src/util/native.ts). WHITEMAGIC_NATIVE=0 skips the build; `npm run build:native` rebuilds.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(root, 'build', 'Release', 'whitemagic_native.node');
// Built beside it where better-sqlite3's SQLite headers are found (binding.gyp, native/rank.c).
const rank = join(root, 'build', 'Release', 'whitemagic_rank.node');

if (process.env.WHITEMAGIC_NATIVE === '0') {
  console.log('whitemagic: WHITEMAGIC_NATIVE=0, the native addon is not built');
  process.exit(0);
}

// npm tells its scripts where its node-gyp is; outside npm, one on the PATH.
const gyp = process.env.npm_config_node_gyp;
const [command, args] = gyp && existsSync(gyp) ? [process.execPath, [gyp, 'rebuild']] : ['node-gyp', ['rebuild']];
const run = spawnSync(command, args, { cwd: root, encoding: 'utf8', shell: process.platform === 'win32' && command === 'node-gyp' });

if (run.status === 0 && existsSync(addon)) {
  const ranking = existsSync(rank) ? ' and the ranking extension (faster repeated searches)' : '';
  console.log(`whitemagic: built the native addon (faster folder reads for markdown contexts)${ranking}`);
} else {
  // Leave no half-built addon behind to be loaded.
  rmSync(addon, { force: true });
  rmSync(rank, { force: true });
  const output = `${run.stderr ?? ''}${run.stdout ?? ''}`.trim().split('\n');
  const reason = run.error?.message ?? output.find((line) => /ERR!|error:/.test(line)) ?? `node-gyp exited with ${run.status}`;
  console.warn(`whitemagic: the optional native addon was not built (${reason.trim()}); whitemagic works without it, more slowly on large markdown contexts`);
}
