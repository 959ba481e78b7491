/**
 * A hint to V8 for a command about to hold many small objects for a short while (the headers of
 * tens of thousands of markdown files): keep the young generation at the size it has instead of
 * letting it double. Objects that survive are promoted sooner, and the process's peak memory at
 * 100,000 memories drops by about 20 MiB (docs/performance.md) at no cost in time.
 *
 * Only the command line allows it (main.ts): a library must not change its host's garbage
 * collector. Loading `node:v8` costs about 2 ms, so it is done only when the hint is given.
 */
let allowed = false;
let given = false;

/** Lets expectManyObjects tune this process's heap (called by the command line, never the library). */
export function allowHeapTuning(): void {
  allowed = true;
}

/** A scan of this many files holds enough headers to be worth tuning the heap for. */
export const MANY_FILES = 20_000;

/** A scan has listed `files` files so far; from MANY_FILES on, the heap is tuned (once). Returns whether it is. */
export function expectFiles(files: number): boolean {
  if (!allowed || given || files < MANY_FILES) return given;
  given = true;
  try {
    // Read by V8 each time it considers growing the young generation: a factor of 1 keeps its size.
    (require('node:v8') as typeof import('node:v8')).setFlagsFromString('--semi-space-growth-factor=1');
  } catch {
    given = false;
  }
  return given;
}
