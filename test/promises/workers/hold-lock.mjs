// Takes a context's lock the way whitemagic does (proper-lockfile, lock directory beside the
// memories), says so on stdout, and holds it until killed: a stand-in for a command caught mid-way.
import lockfile from 'proper-lockfile';
import { join } from 'node:path';

const [dir, lockName] = process.argv.slice(2);
await lockfile.lock(dir, { lockfilePath: join(dir, lockName), realpath: false, stale: 5_000, update: 1_000 });
process.stdout.write('locked\n');
setInterval(() => undefined, 60_000);
