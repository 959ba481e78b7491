/** The typed arrays (Buffers included) that the growable columns of the storage and backup code keep. */
type Grown = Uint8Array | Uint16Array | Uint32Array | Float64Array;

/**
 * `old`'s first `keep` elements (all of them by default) in a new array of the same kind and
 * `length` elements, zero past what is kept: how a column kept as a typed array grows (by
 * doubling, in its callers). A Buffer grows as a Buffer.
 */
export function grown<A extends Grown>(old: A, length: number, keep = old.length): A {
  const made = (Buffer.isBuffer(old) ? Buffer.alloc(length) : new (old.constructor as new (n: number) => A)(length)) as A;
  made.set(keep === old.length ? old : old.subarray(0, keep));
  return made;
}
