import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fromFsError, readTextIfPresent } from '../errors.js';

/**
 * The consolidation log of a context: `consolidation.log.jsonl`, one JSON record a line. It is the
 * journal that makes consolidation survive a kill: a run writes its plan (and fsyncs it) before it
 * moves anything, and a `done` record after the last move. A plan without its `done` is a run that
 * was interrupted; the next run finishes it first (SPEC section 6).
 */
export const CONSOLIDATION_LOG = 'consolidation.log.jsonl';

/** What a run will do, written before it does it. The run id is also the Insights memory's id. */
export interface PlanRecord {
  event: 'plan';
  run: string;
  /** When the run started (ISO). */
  at: string;
  /** Short-term memories created before this were consolidated (ISO). */
  cutoff: string;
  promote: string[];
  archive: string[];
}

/** A run finished: how many memories it promoted and archived. */
export interface DoneRecord {
  event: 'done';
  run: string;
  at: string;
  promoted: number;
  archived: number;
  /** The "Consolidated Insights" memory, when the run archived anything. */
  insights?: string;
}

export type LogRecord = PlanRecord | DoneRecord;

/** One run as `consolidate --log` shows it. */
export interface RunSummary {
  run: string;
  at: string;
  cutoff: string;
  status: 'done' | 'incomplete';
  finished?: string;
  /** Planned counts for an incomplete run, applied counts for a finished one. */
  promoted: number;
  archived: number;
  insights?: string;
}

/** The records of the log at `dir`, oldest first; a line cut short by a crash is skipped. */
export function readLog(dir: string): LogRecord[] {
  const text = readTextIfPresent(join(dir, CONSOLIDATION_LOG));
  if (text === undefined) return [];
  const records: LogRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const record = JSON.parse(line) as LogRecord;
      if (record && (record.event === 'plan' || record.event === 'done') && typeof record.run === 'string') records.push(record);
    } catch {
      // A partial last line: the plan was never complete on disk, so nothing of it was applied.
    }
  }
  return records;
}

/** Plans written without a matching `done`: runs a kill interrupted, oldest first. */
export function pendingPlans(records: LogRecord[]): PlanRecord[] {
  const done = new Set(records.filter((r) => r.event === 'done').map((r) => r.run));
  return records.filter((r): r is PlanRecord => r.event === 'plan' && !done.has(r.run));
}

/** Appends one record durably (fsync), starting a new line if a crash left a partial one. */
export function appendLog(dir: string, record: LogRecord): void {
  const path = join(dir, CONSOLIDATION_LOG);
  let prefix = '';
  try {
    const current = readFileSync(path);
    if (current.length && current[current.length - 1] !== 0x0a) prefix = '\n';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fromFsError(err, path);
  }
  let fd: number | undefined;
  try {
    fd = openSync(path, 'a', 0o600);
    writeSync(fd, prefix + JSON.stringify(record) + '\n');
    fsyncSync(fd);
  } catch (err) {
    throw fromFsError(err, path);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Every run in the log, newest first. */
export function summariseLog(records: LogRecord[]): RunSummary[] {
  const done = new Map(records.filter((r): r is DoneRecord => r.event === 'done').map((r) => [r.run, r]));
  const runs: RunSummary[] = [];
  for (const r of records) {
    if (r.event !== 'plan') continue;
    const finished = done.get(r.run);
    runs.push({
      run: r.run,
      at: r.at,
      cutoff: r.cutoff,
      status: finished ? 'done' : 'incomplete',
      finished: finished?.at,
      promoted: finished ? finished.promoted : r.promote.length,
      archived: finished ? finished.archived : r.archive.length,
      insights: finished?.insights,
    });
  }
  return runs.reverse();
}
