import { mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fromFsError } from '../errors.js';
import { lazyModule } from '../util/lazy.js';
import { ACTIVE_CONTEXT_FILE } from './resolve.js';

/** Loaded on first write: listing contexts never pays for it. */
const writeFileAtomic = lazyModule<typeof import('write-file-atomic')>('write-file-atomic');

/** Remembers `whitemagic switch NAME` in $WHITEMAGIC_HOME (rule 5 of SPEC section 2), atomically. */
export function writeSwitchedContext(home: string, name: string): void {
  const path = join(home, ACTIVE_CONTEXT_FILE);
  try {
    mkdirSync(home, { recursive: true, mode: 0o700 });
    writeFileAtomic().sync(path, name + '\n', { mode: 0o600 });
  } catch (err) {
    throw fromFsError(err, path);
  }
}

/** Forgets the switch: the default context applies again. */
export function clearSwitchedContext(home: string): void {
  const path = join(home, ACTIVE_CONTEXT_FILE);
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fromFsError(err, path);
  }
}
