import { closeSync, openSync, readSync } from 'node:fs';

/** Bytes read ahead from the kernel, handed out in order: one read serves many ids. */
const POOL_SIZE = 512;
let pool: Uint8Array = new Uint8Array(0);
let used = 0;

/**
 * Bytes from the kernel's random source: `/dev/urandom` where there is one (the same source
 * `crypto.randomBytes` draws on, without loading `node:crypto` and the streams it brings, a few
 * milliseconds of a command that needs ten bytes), else `node:crypto`. Like crypto's own pool,
 * bytes are read ahead, so a process making many ids pays one system call per fifty of them.
 */
export function randomBytes(n: number): Uint8Array {
  if (n > POOL_SIZE) return readRandom(n);
  if (used + n > pool.length) {
    pool = readRandom(POOL_SIZE);
    used = 0;
  }
  const bytes = pool.slice(used, used + n);
  // Handed-out bytes are zeroed in the pool: nothing can read them out of it later.
  pool.fill(0, used, used + n);
  used += n;
  return bytes;
}

function readRandom(n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  try {
    const fd = openSync('/dev/urandom', 'r');
    try {
      if (readSync(fd, bytes, 0, n, null) === n) return bytes;
    } finally {
      closeSync(fd);
    }
  } catch {
    // No /dev/urandom (Windows, a sandbox): below.
  }
  return (require('node:crypto') as typeof import('node:crypto')).randomBytes(n);
}
