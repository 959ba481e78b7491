import { Context, type ContextOptions } from '../context/context.js';
import { resolveContext } from '../context/resolve.js';
import { WhitemagicError } from '../errors.js';
import { checkBackendName } from '../storage/registry.js';
import { isTerminal, writeTo } from './stdio.js';
import { jsonPieces } from '../output/json.js';
import { itemDone } from '../util/heap.js';
import type { StorageProblem } from '../storage/types.js';
import type { BackendName } from '../storage/types.js';

/** The global options of SPEC section 4, as every command receives them. */
export interface GlobalOptions {
  baseDir?: string;
  context?: string;
  json?: boolean;
  quiet?: boolean;
  color?: boolean;
  backend?: string;
  lockTimeout?: number;
}

/** Where a command's output goes and how it should look. */
export interface Output {
  json: boolean;
  quiet: boolean;
  /** stdout is a terminal: tables and colour allowed. */
  tty: boolean;
  color: boolean;
  /** Writes a line (or lines) to stdout. */
  out(text: string): void;
  /** A warning on stderr (not with --quiet). */
  warn(text: string): void;
  /** A result as JSON on stdout. */
  printJson(value: unknown): void;
  /** JSON on stdout given in pieces (json.ts), written as they come. */
  printJsonPieces(pieces: Iterable<string>): void;
}

export function makeOutput(globals: GlobalOptions): Output {
  const json = Boolean(globals.json);
  const tty = isTerminal(1) && !json;
  const color = tty && globals.color !== false && !('NO_COLOR' in process.env && process.env.NO_COLOR !== '');
  // Written as it is made (json.ts), 8 KiB at a time, each write an item for the heap's pacer: a
  // result of 17 MB is never one string, and its pieces' garbage is collected as it goes.
  const printJsonPieces = (pieces: Iterable<string>): void => {
    let text = '';
    for (const piece of pieces) {
      text += piece;
      if (text.length >= 8192) {
        writeTo(1, text);
        text = '';
        itemDone();
      }
    }
    writeTo(1, text + '\n');
  };
  return {
    json,
    quiet: Boolean(globals.quiet),
    tty,
    color,
    out(text) {
      writeTo(1, text.endsWith('\n') ? text : text + '\n');
    },
    warn(text) {
      if (!globals.quiet) writeTo(2, `whitemagic: warning: ${text}\n`);
    },
    printJson: (value) => printJsonPieces(jsonPieces(value)),
    printJsonPieces,
  };
}

/** The active context for these options (SPEC section 2), not yet opened. */
export function contextFor(globals: GlobalOptions, extra: ContextOptions = {}): Context {
  const backend: BackendName | undefined = globals.backend ? checkBackendName(globals.backend) : undefined;
  const location = resolveContext({ baseDir: globals.baseDir, context: globals.context });
  return new Context(location, {
    backend,
    lockTimeoutMs: globals.lockTimeout !== undefined ? globals.lockTimeout * 1000 : undefined,
    ...extra,
  });
}

/** Prints unreadable entries as warnings naming each file. */
export function warnProblems(output: Output, problems: StorageProblem[]): void {
  for (const p of problems) output.warn(`${p.path}: ${p.message}`);
}

/**
 * Runs one command: resolves the context, calls `fn`, closes the context. Errors propagate to the
 * entry (main.ts), the one place that turns them into exit codes.
 */
export async function runInContext<T>(
  globals: GlobalOptions,
  fn: (ctx: Context, output: Output) => Promise<T>,
  extra: ContextOptions = {},
): Promise<T> {
  const output = makeOutput(globals);
  // Progress of long work: on a terminal only, and never with --json or --quiet.
  const progress =
    isTerminal(2) && !output.json && !output.quiet ? (await import('../output/progress.js')).terminalProgress() : undefined;
  const ctx = contextFor(globals, { progress, ...extra });
  try {
    return await fn(ctx, output);
  } finally {
    ctx.close();
  }
}

/** The one-line error of SPEC section 4 (or its JSON form), and the exit code for it. */
export function reportError(err: unknown, json: boolean): number {
  const debug = process.env.WHITEMAGIC_DEBUG === '1';
  let error: WhitemagicError;
  if (err instanceof WhitemagicError) error = err;
  else {
    const e = err as NodeJS.ErrnoException;
    const message = e?.message ? e.message.split('\n')[0] : String(err);
    error = new WhitemagicError('io', message, { hint: debug ? undefined : 'set WHITEMAGIC_DEBUG=1 for details' });
  }
  if (json) {
    writeTo(
      2,
      JSON.stringify({ error: { code: error.code, message: error.message, hint: error.hint, exitCode: error.exitCode } }) + '\n',
    );
  } else {
    const hint = error.hint ? ` (hint: ${error.hint})` : '';
    writeTo(2, `whitemagic: error: ${error.message}${hint}\n`);
  }
  if (debug && err instanceof Error && err.stack) writeTo(2, err.stack + '\n');
  return error.exitCode;
}
