import { describe, expect, it } from 'vitest';
import { racyWindowMs, settledAt } from '../../src/storage/markdown/file-times.js';

describe('when a file stat can be trusted (racily clean files)', () => {
  const fine = Date.UTC(2026, 0, 1, 12, 0, 0) + 123.456789;
  const wholeSecond = Date.UTC(2026, 0, 1, 12, 0, 0);

  it('waits a tick of the file clock: 50 ms for fine times, 2 s for whole seconds', () => {
    expect(racyWindowMs(fine)).toBe(50);
    expect(racyWindowMs(wholeSecond)).toBe(2000);
  });

  it('trusts a record taken after the window, never one taken within it', () => {
    expect(settledAt(fine, fine + 10)).toBe(false);
    expect(settledAt(fine, fine + 50)).toBe(false);
    expect(settledAt(fine, fine + 51)).toBe(true);
    expect(settledAt(wholeSecond, wholeSecond + 1999)).toBe(false);
    expect(settledAt(wholeSecond, wholeSecond + 2001)).toBe(true);
    // A time in the future (a skewed clock) is never trusted.
    expect(settledAt(fine + 10_000, fine)).toBe(false);
  });
});
