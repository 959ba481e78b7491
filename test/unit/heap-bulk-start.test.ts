import { describe, it } from 'vitest';
import { allowHeapTuning, expectBulkWork } from '../../src/util/heap.js';
import { expectYoungGenerationKept } from '../helpers/young-generation.js';

// Its own file: the hint is given once per process and holds for the rest of it.
describe('a bulk command keeps the young generation at the size it has from its start', () => {
  it('before its first item: the lists it makes first (a plan, a manifest) do not grow it', () => {
    allowHeapTuning();
    expectYoungGenerationKept(expectBulkWork);
  });
});
