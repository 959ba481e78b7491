import { openConnections } from '../storage/sqlite/driver.js';
import { nativeAddon } from '../util/native.js';

/**
 * Ends the command line's process as soon as its command is done, when nothing is left to do.
 *
 * Left to itself, Node.js lets a process end only once V8 has finished the optimising
 * compilations it started on background threads for the command's hot functions, and then tears
 * down the heap: measured A/B against ending at once, 2 to 3 ms of a `create`, 6 ms of a `search`
 * at 10,000 memories, 25 ms of the first `list` after 1,000 hand edits, all after the answer was
 * printed. So when the command is done, and nothing is pending (no handle or request in Node's
 * event loop, such as a write to a pipe through `process.stdout`, a timer, a child, a terminal, a
 * server's input; and no SQLite connection left open), the 'exit' handlers run as `process.exit`
 * runs them (the code cache is saved, locks are let go) and the native addon ends the process
 * (`exitNow`, native/exit.c). Otherwise, or where the addon is not built, the process ends the
 * usual way. Output to a pipe or a file is written synchronously (stdio.ts), so none is lost.
 */
export function endNow(code: number): void {
  if (!nothingPending()) return;
  const exitNow = nativeAddon()?.exitNow;
  if (!exitNow) return;
  process.exitCode = code;
  (process as { _exiting?: boolean })._exiting = true;
  process.emit('exit', code);
  exitNow(code);
}

/**
 * Nothing in the event loop, no SQLite connection open, and nothing Node.js writes at its own exit
 * (a CPU or heap profile, V8 coverage for a test runner): ending now loses nothing.
 */
function nothingPending(): boolean {
  return process.getActiveResourcesInfo().length === 0 && openConnections() === 0 && !writesAtExit();
}

function writesAtExit(): boolean {
  const asked = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');
  return process.env.NODE_V8_COVERAGE !== undefined || /--(cpu-prof|heap-prof|prof)\b/.test(asked);
}
