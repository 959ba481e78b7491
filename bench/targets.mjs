// The targets of the speed issue, as data: which measure, at which size and backend, must stay
// under which limit. `ratio` limits compare with `node -e 0` timed in the same run.

/** The limit for a row, or undefined when the issue sets none for it. */
export function targetFor(row) {
  const { measure, backend, size } = row;
  const search = measure.startsWith('search ');
  if (measure === '--version') return { ratio: 1.3 };
  if (measure === 'create' && size === 10_000) return { ratio: 1.5 };
  if (measure === 'list --limit 20' && size === 10_000) return { ratio: 1.6 };
  if (search && size === 10_000) return { ratio: backend === 'sqlite' ? 1.8 : 2.2 };
  if (search && size === 100_000) return { ratio: backend === 'sqlite' ? 2.5 : 8 };
  if (measure.startsWith('federated')) return { ratio: 2.5 };
  if (measure.startsWith('first command after') && size === 10_000) return { ratio: 4 };
  if (measure === 'in-process create') return { ms: backend === 'sqlite' ? 0.5 : 2 };
  if (measure === 'in-process search' && size === 100_000 && backend === 'sqlite') return { ms: 10 };
  if (row.kind === 'bulk' && size === 10_000) return { ms: 5_000 };
  return undefined;
}

/** Peak memory limit of any command at 100,000 memories (MiB). */
export const PEAK_MIB_AT_100K = 120;

/** 'pass', 'FAIL' or '' for a measured row. */
export function verdict(row, target) {
  const checks = [];
  if (target?.ratio !== undefined && row.ratio !== undefined) checks.push(row.ratio <= target.ratio);
  if (target?.ms !== undefined && row.medianMs !== undefined) checks.push(row.medianMs <= target.ms);
  if (row.size === 100_000 && row.peakMiB !== undefined) checks.push(row.peakMiB <= PEAK_MIB_AT_100K);
  if (!checks.length) return '';
  return checks.every(Boolean) ? 'pass' : 'FAIL';
}

/** The target in words, for the table. */
export function describeTarget(target, size) {
  const parts = [];
  if (target?.ratio !== undefined) parts.push(`<= ${target.ratio}x`);
  if (target?.ms !== undefined) parts.push(`<= ${target.ms} ms`);
  if (size === 100_000) parts.push(`<= ${PEAK_MIB_AT_100K} MiB`);
  return parts.join(', ');
}
