// Takes a context's lock the way whitemagic does (proper-lockfile, lock directory beside the
// memories), says so on stdout, and holds it until killed: a stand-in for a command caught mid-way.
// With `owner`, it also writes the holder file whitemagic writes (`<pid> <host>`); without, it is a
// holder killed between making the lock and naming itself.
import lockfile from 'proper-lockfile';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

const [dir, lockName, withOwner] = process.argv.slice(2);
await lockfile.lock(dir, { lockfilePath: join(dir, lockName), realpath: false, stale: 5_000, update: 1_000 });
if (withOwner === 'owner') writeFileSync(join(dir, lockName, 'owner'), `${process.pid} ${hostname()}\n`);
process.stdout.write('locked\n');
setInterval(() => undefined, 60_000);
