import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from '../../util/random.js';
import { CATALOG_FILE, copyChunk, type CatalogWriter } from './catalog.js';

/**
 * Catalog lines a command made and has not yet written into the catalog, kept in a file instead of
 * in memory: the lines of the files a scan read (a cold catalog: every file) and of those a bulk
 * write (restore, clone, migrate, consolidate's moves) wrote. At 100,000 files a bulk write's
 * lines, with the keys and headers that pointed at them and the paths waiting for their flush, were
 * about 950 bytes a file (restore-backup peaked at 231 MiB; docs/performance.md has it now); here a written file
 * costs its id and where its line is. A scan's headers read their
 * titles back from here until the catalog it writes takes over (MarkdownBackend.moveTo).
 *
 * The file is a temporary one at the context's root, named as isTempFileName knows it, and unlinked
 * as soon as it is open where the system allows it (POSIX): a process killed mid-write leaves
 * nothing, and one that could not unlink it (Windows) leaves a file the next scan removes once
 * stale. Lines are ASCII (formatLine), written one byte a character and read back by offset: a
 * header of a spooled line reads its title and extra keys from here (as from the catalog), and
 * saving the catalog copies the lines across in ranges.
 */
export class LineSpool {
  /** Bytes appended so far: the offset the next line gets. */
  size = 0;
  private readonly pending = Buffer.allocUnsafe(64 * 1024);
  private used = 0;
  /** Bytes written to the file (the rest are in `pending`). */
  private flushed = 0;
  private fd: number | undefined;
  /** What copyTo last read: the file from `windowBase`, `windowLength` bytes. */
  private window: Buffer | undefined;
  private windowBase = 0;
  private windowLength = 0;

  private constructor(fd: number, private path: string | undefined) {
    this.fd = fd;
  }

  /** A new, empty spool in the context at `dir`; undefined if no file can be made there (a read-only disk). */
  static create(dir: string): LineSpool | undefined {
    const path = join(dir, `${CATALOG_FILE}.${Buffer.from(randomBytes(6)).toString('hex')}`);
    let fd: number;
    try {
      fd = openSync(path, 'wx+', 0o600);
    } catch {
      return undefined;
    }
    try {
      unlinkSync(path);
      return new LineSpool(fd, undefined);
    } catch {
      return new LineSpool(fd, path); // removed on close, or by a later scan once stale
    }
  }

  /** Adds a line (newline included); returns its offset. */
  append(line: string): number {
    const at = this.size;
    this.windowLength = 0; // copyTo's window may end where this line starts
    if (line.length > this.pending.length - this.used) this.flush();
    if (line.length > this.pending.length) this.writeAll(Buffer.from(line, 'latin1'));
    else this.used += this.pending.write(line, this.used, 'latin1');
    this.size += line.length;
    return at;
  }

  /** The bytes `from` to `to` as text ('' for a spool closed or failing: the header asking repairs itself). */
  read(from: number, to: number): string {
    if (to <= from || this.fd === undefined) return '';
    try {
      if (to > this.flushed) this.flush();
      const bytes = Buffer.allocUnsafe(to - from);
      const n = readSync(this.fd, bytes, 0, bytes.length, from);
      return bytes.toString('latin1', 0, n);
    } catch {
      return '';
    }
  }

  /** The line that starts at `at`, newline included ('' if it cannot be read). */
  lineAt(at: number): string {
    // Lines are short (a few hundred bytes): read a little, more only for a line longer than that.
    for (let length = 4096; ; length *= 4) {
      const text = this.read(at, Math.min(this.size, at + length));
      const eol = text.indexOf('\n');
      if (eol !== -1) return text.slice(0, eol + 1);
      if (at + length >= this.size) return '';
    }
  }

  /**
   * Copies bytes `from` to `to` into a catalog being written, through a window of a megabyte: the
   * lines are asked for in the catalog's order, which is near the order they were written in.
   */
  copyTo(out: CatalogWriter, from: number, to: number): void {
    if (to > this.flushed) this.flush();
    for (let at = from; at < to; ) {
      if (!this.window || at < this.windowBase || at >= this.windowBase + this.windowLength) {
        this.window ??= Buffer.allocUnsafe(copyChunk.size);
        this.windowBase = at;
        this.windowLength = readSync(this.fd!, this.window, 0, Math.min(this.window.length, this.size - at), at);
        if (this.windowLength === 0) throw new Error('spooled catalog lines cut short');
      }
      const end = Math.min(to, this.windowBase + this.windowLength);
      out.bytes(this.window, at - this.windowBase, end - this.windowBase);
      at = end;
    }
  }

  /** Closes the file (and removes it where it kept its name). */
  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
    if (this.path) {
      try {
        unlinkSync(this.path);
      } catch {
        // Left for a later scan's sweep of stale temporary files.
      }
    }
  }

  private flush(): void {
    if (!this.used) return;
    this.writeAll(this.pending.subarray(0, this.used));
    this.used = 0;
  }

  private writeAll(bytes: Buffer): void {
    for (let at = 0; at < bytes.length; ) at += writeSync(this.fd!, bytes, at, bytes.length - at, this.flushed + at);
    this.flushed += bytes.length;
  }
}
