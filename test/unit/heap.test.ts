import { describe, expect, it } from 'vitest';
import { allowHeapTuning, expectFiles, fullCollector, HeapPacer, MANY_FILES } from '../../src/util/heap.js';

// Whether V8 took the flag cannot be read back; the benchmark's peak-memory rows measure its effect.
describe('heap tuning for large scans', () => {
  it('is never done for a library (not allowed), only for the command line, and only for many files', () => {
    expect(expectFiles(MANY_FILES * 5)).toBe(false);
    allowHeapTuning();
    expect(expectFiles(MANY_FILES - 1)).toBe(false);
    expect(expectFiles(MANY_FILES)).toBe(true);
    expect(expectFiles(10)).toBe(true); // once tuned, it stays tuned
  });
});

describe('garbage collection paced by a bulk command', () => {
  const MiB = 1024 * 1024;
  const run = (pacer: HeapPacer, items: number) => {
    let collected = 0;
    for (let i = 0; i < items; i++) if (pacer.itemDone()) collected++;
    return collected;
  };

  /** A pacer over a pretend heap of `used` bytes, whose every collection leaves `left` (what survives). */
  const pretendHeap = (used: number, left: number) => {
    const heap = { used, collections: 0 };
    const pacer = new HeapPacer(
      () => heap.used,
      () => {
        heap.collections++;
        heap.used = left;
      },
    );
    return { heap, pacer };
  };
  /** With `left` MiB after the last collection, a quarter of it below the floor: the floor is the budget, to the byte. */
  const expectFloorBudget = ({ heap, pacer }: ReturnType<typeof pretendHeap>, left: number) => {
    expect(left * MiB < 4 * HeapPacer.BUDGET_FLOOR).toBe(true);
    heap.used = left * MiB + HeapPacer.BUDGET_FLOOR;
    expect(run(pacer, HeapPacer.CHECK_EVERY * 2)).toBe(0);
    heap.used += 1;
    expect(run(pacer, HeapPacer.CHECK_EVERY)).toBe(1);
  };

  it('collects when the heap grew past the budget since the last collection, checking every CHECK_EVERY items', () => {
    // Before any collection: nothing below twice the floor, as much as a small command uses anyway.
    const paced = pretendHeap(2 * HeapPacer.BUDGET_FLOOR, 20 * MiB);
    const { heap, pacer } = paced;
    expect(run(pacer, HeapPacer.CHECK_EVERY * 3)).toBe(0);
    heap.used += 1;
    expect(run(pacer, HeapPacer.CHECK_EVERY - 1)).toBe(0); // not looked at between checks
    expect(run(pacer, 1)).toBe(1);
    expect(heap.collections).toBe(1);
    expectFloorBudget(paced, 20);
  });

  it('collects at once when a loop is over, and counts the next budget from what that left', () => {
    // The loop's garbage gone, its live set (16 MiB) not.
    const paced = pretendHeap(100 * MiB, 16 * MiB);
    paced.pacer.collectNow();
    expect(paced.heap.collections).toBe(1);
    // The budget counts from the 16 MiB left (past the first budget, counted from nothing).
    expectFloorBudget(paced, 16);
  });

  it('starts a loop with a collection when much is in use before it, and counts the budget at the first check after', () => {
    // A catalog patched before the loop: 59 MiB in use, of which 31 survive, outside the heap
    // released only after the collection (its first measure still says 59).
    let used = 59 * MiB;
    let collections = 0;
    const pacer = new HeapPacer(
      () => used,
      () => {
        collections++;
        used = collections === 1 ? 59 * MiB : 31 * MiB;
      },
    );
    pacer.startLoop();
    expect(collections).toBe(1);
    used = 31 * MiB; // the buffers released
    // The first check counts from nothing yet (not from the 59 measured right after): it collects,
    // and the budget then counts from the 31 left.
    expect(run(pacer, HeapPacer.CHECK_EVERY)).toBe(1);
    used = 31 * MiB + Math.max(HeapPacer.BUDGET_FLOOR, (31 * MiB) / 4);
    expect(run(pacer, HeapPacer.CHECK_EVERY * 2)).toBe(0);
    used += 1;
    expect(run(pacer, HeapPacer.CHECK_EVERY)).toBe(1);
    // A small command's loop: nothing collected before it.
    const small = pretendHeap(HeapPacer.COLLECT_BEFORE_LOOP, 0);
    small.pacer.startLoop();
    expect(small.heap.collections).toBe(0);
  });

  it('lets the budget grow with what survives, so a large live set is not collected over and over', () => {
    const { heap, pacer } = pretendHeap(300 * MiB, 200 * MiB);
    expect(run(pacer, HeapPacer.CHECK_EVERY)).toBe(1); // 200 MiB left
    heap.used = 200 * MiB + 50 * MiB; // past the floor, within a quarter of what was left
    expect(run(pacer, HeapPacer.CHECK_EVERY * 4)).toBe(0);
    heap.used += 1;
    expect(run(pacer, HeapPacer.CHECK_EVERY)).toBe(1);
    expect(heap.collections).toBe(2);
  });

  it('reaches the real collector of a running process: an object nothing refers to is gone after it', async () => {
    const collect = fullCollector();
    expect(collect).toBeTypeOf('function');
    let target: object | undefined = { big: new Array(1000).fill(1) };
    const ref = new WeakRef(target);
    target = undefined;
    // A WeakRef keeps its target until the current job ends.
    await new Promise((resolve) => setImmediate(resolve));
    collect!();
    expect(ref.deref()).toBeUndefined();
  });
});
