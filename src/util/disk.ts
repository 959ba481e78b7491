import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Bytes of every regular file under `dir` (apparent size, like `du --apparent-size`). Links are
 * not followed, so a link cannot make a context count someone else's files. Unreadable entries
 * count as 0: a size is a report, never a reason to fail.
 */
export function directorySize(dir: string): number {
  let total = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const path = join(dir, name);
    try {
      const st = lstatSync(path);
      if (st.isDirectory()) total += directorySize(path);
      else if (st.isFile()) total += st.size;
    } catch {
      // Removed while we looked, or unreadable: not counted.
    }
  }
  return total;
}
