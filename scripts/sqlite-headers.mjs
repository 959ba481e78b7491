// Prints the folder of the SQLite headers better-sqlite3 builds with (its deps/sqlite3), for
// binding.gyp: whitemagic's ranking extension (native/rank.c) is compiled against the very SQLite
// it is loaded into. Prints nothing when they are not there; the extension is then not built.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

try {
  const dir = join(dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json')), 'deps', 'sqlite3');
  if (existsSync(join(dir, 'sqlite3ext.h'))) process.stdout.write(dir);
} catch {
  // better-sqlite3 is not installed: nothing to build against.
}
