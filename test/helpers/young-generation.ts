import { getHeapSpaceStatistics } from 'node:v8';
import { expect } from 'vitest';

const youngSize = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;

/**
 * Checks that after `hint` the young generation keeps the size it has while about 100 MB of objects
 * that survive scavenges are made (without the hint V8 grows it for them). Once per process: the
 * hint holds for the rest of it, so each caller is a test file of its own.
 */
export function expectYoungGenerationKept(hint: () => void): void {
  // Measured after the hint: the items that give it may also start a full collection (the heap
  // pacer's), which can shrink the young generation first.
  hint();
  const before = youngSize();
  // Below V8's 16 MiB a semi-space: room to grow, which the check below would see.
  expect(before).toBeLessThan(32 * 1024 * 1024);
  const kept: object[] = [];
  for (let i = 0; i < 1_500_000; i++) kept.push({ i, text: `memory ${i}` });
  expect(kept).toHaveLength(1_500_000);
  expect(youngSize()).toBe(before);
}
