import { UsageError } from '../errors.js';

const UNITS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

/** Milliseconds of a relative span such as `7d`, `12h`, `2w`, `30m`, `45s`, or undefined. */
export function parseSpan(value: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(value.trim());
  if (!m) return undefined;
  return Number(m[1]) * UNITS[m[2].toLowerCase()];
}

/**
 * A point in time from `--since`, `--until` or `--older-than`: an ISO date or date-time, or a span
 * back from now (`7d` is seven days ago). Throws a usage error naming the option otherwise.
 */
export function parseDateArg(value: string, option: string, now: number = Date.now()): Date {
  const span = parseSpan(value);
  if (span !== undefined) return new Date(now - span);
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim())) {
    const t = Date.parse(value.trim());
    if (Number.isFinite(t)) return new Date(t);
  }
  throw new UsageError(`${option}: cannot read '${value}' as a date`, 'use an ISO date (2024-05-01) or a span (7d, 12h, 2w)');
}

/** An ISO 8601 UTC string from a front-matter value (an ISO string or a Date; numbers are not times), or undefined. */
export function isoFromValue(value: unknown): string | undefined {
  if (value instanceof Date) return Number.isFinite(value.getTime()) ? value.toISOString() : undefined;
  if (typeof value === 'string' && value.trim()) {
    const t = Date.parse(value.trim());
    if (Number.isFinite(t)) return new Date(t).toISOString();
  }
  return undefined;
}

/** Now, as whitemagic stores times. */
export function nowIso(): string {
  return new Date().toISOString();
}
