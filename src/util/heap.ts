/**
 * A hint to V8 for a command about to hold many small objects for a short while (the headers of
 * tens of thousands of markdown files) or to stream many memories (a bulk loop, once it has
 * reported HeapPacer.CHECK_EVERY items): keep the young generation at the size it has instead of
 * letting it double. Objects that survive are promoted sooner, and the process's peak memory at
 * 100,000 memories drops by 20 to 50 MiB (docs/performance.md) at no cost in time.
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
  return keepYoungGeneration();
}

/**
 * A bulk command is starting (consolidate, migrate, restore, clone, backup, reindex): the heap is
 * tuned now (once, where allowed), before the lists it makes first (a plan's ids, an archive's
 * list of files, a scan's headers) let the young generation grow, and not only at its loop's
 * HeapPacer.CHECK_EVERY-th item.
 */
export function expectBulkWork(): void {
  keepYoungGeneration();
}

/** Gives the hint (once, where allowed): the young generation keeps the size it has. */
function keepYoungGeneration(): boolean {
  if (!allowed || given) return given;
  given = true;
  try {
    // Read by V8 each time it considers growing the young generation: a factor of 1 keeps its size.
    // (V8 raises a factor below 2 given at start-up to 2; set later, it is used as it is.)
    (require('node:v8') as typeof import('node:v8')).setFlagsFromString('--semi-space-growth-factor=1');
  } catch {
    given = false;
  }
  return given;
}

/**
 * Garbage collection paced by a bulk command's progress. V8 sizes its old generation for
 * throughput: a command streaming 100,000 memories (buffers and strings that live across a few
 * turns of a stream, or a batch, are promoted before they die) let the heap grow to several
 * hundred MiB of garbage before its first full collection, and the Buffers those objects hold
 * outside the heap with it. A bulk command reports each memory it is done with (`itemDone`:
 * `counted` in src/commands/progress.ts, reindex, migrate's check, consolidate's reads, an
 * archive's entries) and a markdown scan each file it reads; every CHECK_EVERY items the
 * heap and the memory outside it are compared with what the last collection left, and grown by
 * more than a budget (BUDGET_FLOOR, or a quarter of what was left when more), the garbage is
 * collected. The work this adds is bounded: a collection costs in proportion to what is live, and
 * the budget grows with it.
 *
 * V8's own flags for this (`--max-old-space-size` and its kin) are read only at start-up, which the
 * command line cannot set without a launcher process; the collector is reached the way test
 * runners reach it in a running process (`--expose-gc` set, then `gc` taken from a new context).
 * Only the command line allows it (`allowHeapTuning`): a library leaves its host's collector alone.
 */
export class HeapPacer {
  static readonly CHECK_EVERY = 256;
  /**
   * The least growth that starts a collection. 16 MiB until round 14: what a bulk command frees
   * outside the heap (an archive's inflated chunks, the buffers of files read) waits for the
   * collection that finds its owners dead, and the C allocator keeps much of what is then freed
   * for reuse rather than returning it: a smaller budget keeps that high-water mark lower (at
   * 100,000: 4 to 26 MiB off the peaks of restore, migrate, clone, reindex and backup, at no cost
   * in time measured: a collection of the 20 to 50 MiB these commands keep takes milliseconds).
   */
  static readonly BUDGET_FLOOR = 6 * 1024 * 1024;
  /** In use when a bulk loop starts, past which the loop starts with a collection (itemDone). */
  static readonly COLLECT_BEFORE_LOOP = 32 * 1024 * 1024;
  private items = 0;
  /** What the last collection left; before the first, as much as a small command uses anyway. */
  private left = HeapPacer.BUDGET_FLOOR;

  constructor(
    /** Bytes in use now: the heap and the memory its objects hold outside it. */
    private readonly measure: () => number,
    private readonly collect: () => void,
  ) {}

  /** One more item done; collects (and returns true) when the heap grew past the budget. */
  itemDone(): boolean {
    if (++this.items % HeapPacer.CHECK_EVERY) return false;
    if (this.measure() <= this.left + Math.max(HeapPacer.BUDGET_FLOOR, this.left / 4)) return false;
    this.collectNow();
    return true;
  }

  /**
   * The first item the process reports (its first bulk loop, or a scan): what came before, when it
   * is large, is collected first, so that the loop's growth is counted from what is live. A catalog
   * patched at 100,000 memories left some 30 MB behind it, and a backup right after a create peaked
   * at 123 to 124 MiB (112 to 114 with this). The budget is not counted from now: V8 releases the
   * array buffers a collection frees only after it, so the first check (at the CHECK_EVERY-th
   * item) counts it from what is left then (counted from now, the same backup peaked at 122). A
   * small command's first scan is under the mark, and never loads the collector.
   */
  startLoop(): void {
    if (this.measure() > HeapPacer.COLLECT_BEFORE_LOOP) this.collect();
  }

  /** Collects now, and counts the budget from what is left. */
  collectNow(): void {
    this.collect();
    this.left = this.measure();
  }
}

/** The full collector of this process, reached without a start-up flag; undefined if V8 refuses. */
export function fullCollector(): (() => void) | undefined {
  try {
    (require('node:v8') as typeof import('node:v8')).setFlagsFromString('--expose-gc');
    const gc: unknown = (require('node:vm') as typeof import('node:vm')).runInNewContext('gc');
    return typeof gc === 'function' ? () => (gc as () => void)() : undefined;
  } catch {
    return undefined;
  }
}

let pacer: HeapPacer | undefined;
let reported = 0;

/** How many items this process has reported to the pacer (for tests: the library reports none). */
export function itemsReported(): number {
  return reported;
}

let collector: (() => void) | null | undefined;

/**
 * A bulk command is done with one more memory, or a scan read one more file (see HeapPacer).
 * Does nothing for a library. The collector is reached at the first collection, never by a
 * command that stays small.
 */
export function itemDone(): void {
  if (!allowed) return;
  // A loop this long is a bulk one: from here on its garbage dies young, in a young generation kept
  // small. Not from the first item: loading node:v8 loads the stream modules (about 2 ms), which a
  // command that reads a few files (the first `list` of a small context) should not pay.
  if (++reported === HeapPacer.CHECK_EVERY) keepYoungGeneration();
  if (!pacer) {
    pacer = new HeapPacer(
      () => {
        const { heapUsed, external } = process.memoryUsage();
        return heapUsed + external;
      },
      () => {
        if (collector === undefined) collector = fullCollector() ?? null;
        collector?.();
      },
    );
    pacer.startLoop();
  }
  pacer.itemDone();
}

/**
 * A bulk loop is over and what it held is garbage (an archive's list of entry names, once every
 * entry is spooled): collected now, so the phase after it (compressing the archive, which churns
 * through buffers outside the heap) starts from what is live, not from the loop's last budget of
 * garbage. At 100,000 memories that was up to 30 MiB of a backup's peak. Does nothing for a
 * library, or when no bulk loop reported items.
 */
export function loopDone(): void {
  if (allowed && pacer) pacer.collectNow();
}
