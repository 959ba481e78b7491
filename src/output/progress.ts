import type { ProgressReporter } from '../context/context.js';

/** How often the line is redrawn at most. */
const INTERVAL_MS = 100;

/**
 * Progress of long work as one line on a terminal's stderr (`clone: 4200/10000`), redrawn in place
 * and cleared when the work ends. Only for a terminal: pipes and logs never see it (SPEC section 4).
 */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr, now: () => number = Date.now): ProgressReporter {
  // Nothing is drawn in the first interval: work that short needs no progress line.
  let last = now();
  return (label, done, total) => {
    const finished = done >= total;
    const t = now();
    if (!finished && t - last < INTERVAL_MS) return;
    last = t;
    stream.write(`\r${progressLine(label, done, total)}`);
    if (finished) stream.write('\r\x1b[K');
  };
}

/** The text of a progress line. */
export function progressLine(label: string, done: number, total: number): string {
  const percent = total > 0 ? Math.floor((done / total) * 100) : 100;
  return `${label}: ${done}/${total} (${percent}%)`;
}
