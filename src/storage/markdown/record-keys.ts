import { grown } from '../../util/typed-arrays.js';

/**
 * The creation time and id of each record of a catalog being written, in file order: what its
 * clean index's two orders are sorted by (CatalogIndex.bytesOf). Both are printable ASCII (the
 * catalog keeps no other record), so they are kept as bytes in one growing buffer, not as two
 * strings per record: at 100,000 records about 5 MB instead of 13 (the strings, the arrays holding
 * them, and a set of the ids a scan kept to find a duplicate, which the id order now finds: it
 * puts records with the same id side by side).
 *
 * Bytes compare as the strings did (code unit order is byte order for ASCII), so the orders are
 * those a scan's headers give.
 */
export class RecordKeys {
  private bytes = Buffer.allocUnsafe(16 * 1024);
  /** Per record, where its created ends and where its id ends; each starts where the one before ends. */
  private ends = new Uint32Array(2 * 1024);
  private used = 0;
  /** Records pushed. */
  length = 0;

  push(created: string, id: string): void {
    const need = this.used + created.length + id.length;
    if (need > this.bytes.length) this.bytes = grown(this.bytes, Math.max(need, this.bytes.length * 2), this.used);
    if (2 * this.length + 2 > this.ends.length) this.ends = grown(this.ends, this.ends.length * 2);
    this.used += this.bytes.write(created, this.used, 'latin1');
    this.ends[2 * this.length] = this.used;
    this.used += this.bytes.write(id, this.used, 'latin1');
    this.ends[2 * this.length + 1] = this.used;
    this.length++;
  }

  /** Record `r`'s id (for a caller that needs one as a string, such as a test). */
  id(r: number): string {
    return this.bytes.toString('latin1', this.ends[2 * r], this.ends[2 * r + 1]);
  }

  /** The default list order's comparison: created, newest first; then id, last first; then the later record first. */
  newestFirst = (a: number, b: number): number => this.compare(b, a, 0, false) || this.compare(b, a, 1, false) || b - a;

  /** The id order's comparison: ids ignoring case; then record order. */
  byIdIgnoringCase = (a: number, b: number): number => this.compare(a, b, 1, true) || a - b;

  /** Whether two records of `idOrder` have the same id (exactly): those that differ only in case lie among each other there. */
  hasTwin(idOrder: Uint32Array): boolean {
    for (let k = 1; k < idOrder.length; k++) {
      // The run of ids equal to idOrder[k]'s but for case, before it.
      for (let j = k - 1; j >= 0 && this.compare(idOrder[j], idOrder[k], 1, true) === 0; j--) {
        if (this.compare(idOrder[j], idOrder[k], 1, false) === 0) return true;
      }
    }
    return false;
  }

  /** Compares field `f` (0 created, 1 id) of records `a` and `b`, letters folded to lower case if `fold`. */
  private compare(a: number, b: number, f: 0 | 1, fold: boolean): number {
    const { bytes, ends } = this;
    let i = f === 0 ? (a === 0 ? 0 : ends[2 * a - 1]) : ends[2 * a];
    let j = f === 0 ? (b === 0 ? 0 : ends[2 * b - 1]) : ends[2 * b];
    const iEnd = ends[2 * a + f];
    const jEnd = ends[2 * b + f];
    for (; i < iEnd && j < jEnd; i++, j++) {
      let x = bytes[i];
      let y = bytes[j];
      if (fold) {
        if (x >= 65 && x <= 90) x += 32;
        if (y >= 65 && y <= 90) y += 32;
      }
      if (x !== y) return x - y;
    }
    return iEnd - i - (jEnd - j);
  }
}
