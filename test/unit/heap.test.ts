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

  it('collects when the heap grew past the budget since the last collection, checking every CHECK_EVERY items', () => {
    let used = 0;
    let collections = 0;
    const pacer = new HeapPacer(
      () => used,
      () => {
        collections++;
        used = 50 * MiB; // what survives
      },
    );
    // Before any collection: nothing below twice the floor, as much as a small command uses anyway.
    used = 2 * HeapPacer.BUDGET_FLOOR;
    expect(run(pacer, HeapPacer.CHECK_EVERY * 3)).toBe(0);
    used += 1;
    expect(run(pacer, HeapPacer.CHECK_EVERY - 1)).toBe(0); // not looked at between checks
    expect(run(pacer, 1)).toBe(1);
    expect(collections).toBe(1);
    // 50 MiB left: a quarter of it is below the floor, so the floor is the budget.
    used = 50 * MiB + HeapPacer.BUDGET_FLOOR;
    expect(run(pacer, HeapPacer.CHECK_EVERY * 2)).toBe(0);
    used += 1;
    expect(run(pacer, HeapPacer.CHECK_EVERY)).toBe(1);
  });

  it('collects at once when a loop is over, and counts the next budget from what that left', () => {
    let used = 100 * MiB;
    let collections = 0;
    const pacer = new HeapPacer(
      () => used,
      () => {
        collections++;
        used = 40 * MiB; // the loop's garbage gone, its live set not
      },
    );
    pacer.collectNow();
    expect(collections).toBe(1);
    // Within the budget of 40 MiB left (though far past the first budget, counted from nothing);
    // a quarter of 40 MiB is below the floor, so the floor is the budget.
    expect(40 * MiB < 4 * HeapPacer.BUDGET_FLOOR).toBe(true);
    used = 40 * MiB + HeapPacer.BUDGET_FLOOR;
    expect(run(pacer, HeapPacer.CHECK_EVERY * 2)).toBe(0);
    used += 1;
    expect(run(pacer, HeapPacer.CHECK_EVERY)).toBe(1);
  });

  it('lets the budget grow with what survives, so a large live set is not collected over and over', () => {
    let used = 300 * MiB;
    let collections = 0;
    const pacer = new HeapPacer(
      () => used,
      () => {
        collections++;
        used = 200 * MiB;
      },
    );
    expect(run(pacer, HeapPacer.CHECK_EVERY)).toBe(1); // 200 MiB left
    used = 200 * MiB + 50 * MiB; // past the floor, within a quarter of what was left
    expect(run(pacer, HeapPacer.CHECK_EVERY * 4)).toBe(0);
    used += 1;
    expect(run(pacer, HeapPacer.CHECK_EVERY)).toBe(1);
    expect(collections).toBe(2);
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
