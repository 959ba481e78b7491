import { closeSync, openSync, readSync } from 'node:fs';

/**
 * Bytes from the kernel's random source: `/dev/urandom` where there is one (the same source
 * `crypto.randomBytes` draws on, without loading `node:crypto` and the streams it brings, a few
 * milliseconds of a command that needs ten bytes), else `node:crypto`.
 */
export function randomBytes(n: number): Uint8Array {
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
