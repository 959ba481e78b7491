import { describe, expect, it } from 'vitest';
import { grown } from '../../src/util/typed-arrays.js';

describe('grown (a typed column grown by its owner)', () => {
  it('keeps the elements and the kind, zero past them', () => {
    const old = Float64Array.from([1.5, -2, 3]);
    const made = grown(old, 6);
    expect(made).toBeInstanceOf(Float64Array);
    expect([...made]).toEqual([1.5, -2, 3, 0, 0, 0]);
    expect([...grown(Uint16Array.from([7, 65535]), 3)]).toEqual([7, 65535, 0]);
  });

  it('grows a Buffer as a Buffer, keeping only the bytes in use when told', () => {
    const old = Buffer.from('abcdef', 'latin1');
    const made = grown(old, 8, 3);
    expect(Buffer.isBuffer(made)).toBe(true);
    expect([...made]).toEqual([97, 98, 99, 0, 0, 0, 0, 0]);
  });
});
