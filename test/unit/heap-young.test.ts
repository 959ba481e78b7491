import { getHeapSpaceStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { allowHeapTuning, HeapPacer, itemDone } from '../../src/util/heap.js';

// Its own file: the hint is given once per process and holds for the rest of it.
describe("a bulk loop's first CHECK_EVERY items keep the young generation at the size it has", () => {
  const youngSize = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;

  it('so objects that survive are promoted instead of doubling it, up to 32 MiB', () => {
    const before = youngSize();
    // Below V8's 16 MiB a semi-space: room to grow, which the check below would see.
    expect(before).toBeLessThan(32 * 1024 * 1024);
    allowHeapTuning();
    for (let i = 0; i < HeapPacer.CHECK_EVERY; i++) itemDone();
    const kept: object[] = [];
    // About 100 MB that survives scavenges: without the hint V8 grows the young generation for it.
    for (let i = 0; i < 1_500_000; i++) kept.push({ i, text: `memory ${i}` });
    expect(kept).toHaveLength(1_500_000);
    expect(youngSize()).toBe(before);
  });
});
