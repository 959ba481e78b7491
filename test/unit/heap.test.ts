import { describe, expect, it } from 'vitest';
import { allowHeapTuning, expectFiles, MANY_FILES } from '../../src/util/heap.js';

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
