import { describe, it } from 'vitest';
import { allowHeapTuning, HeapPacer, itemDone } from '../../src/util/heap.js';
import { expectYoungGenerationKept } from '../helpers/young-generation.js';

// Its own file: the hint is given once per process and holds for the rest of it.
describe("a bulk loop's first CHECK_EVERY items keep the young generation at the size it has", () => {
  it('so objects that survive are promoted instead of doubling it, up to 32 MiB', () => {
    allowHeapTuning();
    expectYoungGenerationKept(() => {
      for (let i = 0; i < HeapPacer.CHECK_EVERY; i++) itemDone();
    });
  });
});
