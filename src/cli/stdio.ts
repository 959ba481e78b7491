import { fstatSync, statSync, writeSync } from 'node:fs';

/**
 * The command line's standard streams, without Node's stream objects where it can.
 *
 * `process.stdout` on a pipe is a `net.Socket`: touching it loads `net` and the stream modules,
 * a few milliseconds of every command, and agents and scripts (and the benchmark) read whitemagic
 * through pipes. So output to a pipe or a file is written with `fs.writeSync`, which is what Node
 * itself does for those on Linux (synchronous writes), and only a terminal gets `process.stdout`
 * (which knows its width and colours). Whether a descriptor is a terminal is asked of `node:tty`
 * only for character devices other than `/dev/null`, so a pipe or a discarded output never loads it.
 */
export type Fd = 0 | 1 | 2;

const terminals = new Map<Fd, boolean>();

/** The descriptor is a terminal (what `process.stdout.isTTY` says, without creating the stream). */
export function isTerminal(fd: Fd): boolean {
  let answer = terminals.get(fd);
  if (answer === undefined) {
    try {
      const st = fstatSync(fd);
      answer = st.isCharacterDevice() && !isDevNull(st.rdev) && (require('node:tty') as typeof import('node:tty')).isatty(fd);
    } catch {
      answer = false;
    }
    terminals.set(fd, answer);
  }
  return answer;
}

/** `/dev/null` is a character device too, and cron jobs send output there: no need to load `node:tty` for it. */
function isDevNull(rdev: number): boolean {
  try {
    return statSync('/dev/null').rdev === rdev;
  } catch {
    return false;
  }
}

/** Writes text to stdout (1) or stderr (2), whole, before returning. */
export function writeTo(fd: 1 | 2, text: string): void {
  if (isTerminal(fd)) {
    (fd === 1 ? process.stdout : process.stderr).write(text);
    return;
  }
  const data = Buffer.from(text, 'utf8');
  let written = 0;
  while (written < data.length) {
    try {
      written += writeSync(fd, data, written, data.length - written);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A pipe another process made non-blocking is full: wait a moment for its reader.
      if (code === 'EAGAIN') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
      // The reader is gone (`whitemagic list | head -1`): the rest is not wanted, as with git.
      else if (code === 'EPIPE') return;
      else throw err;
    }
  }
}
