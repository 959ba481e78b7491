import { readFileSync } from 'node:fs';

/**
 * The one error hierarchy of whitemagic. Every failure a user can cause or meet is one of these;
 * only the CLI entry turns them into exit codes (SPEC section 4: 1 failed, 2 usage).
 */

export type ErrorCode =
  | 'usage'
  | 'not_found'
  | 'context_not_found'
  | 'ambiguous'
  | 'conflict'
  | 'busy'
  | 'invalid_input'
  | 'permission'
  | 'unsupported'
  | 'corrupt'
  | 'capacity'
  | 'io';

export class WhitemagicError extends Error {
  /** Stable machine-readable code, also printed in --json errors. */
  readonly code: ErrorCode;
  /** Process exit code for this error: 1 the operation failed, 2 usage error. */
  readonly exitCode: 1 | 2;
  /** A short next step for the user, printed after the message. */
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, options: { hint?: string; exitCode?: 1 | 2; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = options.exitCode ?? (code === 'usage' ? 2 : 1);
    this.hint = options.hint;
  }
}

/** A bad flag, value or argument: exit 2. */
export class UsageError extends WhitemagicError {
  constructor(message: string, hint?: string) {
    super('usage', message, { hint, exitCode: 2 });
  }
}

/** A memory, context or file that does not exist. */
export class NotFoundError extends WhitemagicError {
  constructor(message: string, hint?: string, code: ErrorCode = 'not_found') {
    super(code, message, { hint });
  }
}

/** A REF that matches more than one memory. */
export class AmbiguousRefError extends WhitemagicError {
  readonly candidates: string[];
  constructor(ref: string, candidates: string[]) {
    super('ambiguous', `'${ref}' matches ${candidates.length} memories: ${candidates.join(', ')}`, {
      hint: 'give more characters of the id',
    });
    this.candidates = candidates;
  }
}

/** Something already exists, or changed under us. */
export class ConflictError extends WhitemagicError {
  constructor(message: string, hint?: string) {
    super('conflict', message, { hint });
  }
}

/** Another process holds the context's lock past the timeout. */
export class BusyError extends WhitemagicError {
  constructor(message: string, hint?: string) {
    super('busy', message, { hint });
  }
}

/** Input that cannot be read: a malformed file, a bad stdin, a corrupt database. */
export class InvalidInputError extends WhitemagicError {
  constructor(message: string, hint?: string, code: ErrorCode = 'invalid_input') {
    super(code, message, { hint });
  }
}

/**
 * Turns a Node.js file-system error into a one-line WhitemagicError naming the path.
 * Anything already a WhitemagicError passes through unchanged.
 */
export function fromFsError(err: unknown, path?: string): unknown {
  if (err instanceof WhitemagicError) return err;
  const e = err as NodeJS.ErrnoException;
  const where = path ?? e?.path ?? 'a file';
  switch (e?.code) {
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new WhitemagicError('permission', `permission denied: ${where}`, {
        hint: 'check the permissions of that path',
        cause: err,
      });
    case 'ENOENT':
      return new NotFoundError(`no such file or directory: ${where}`);
    case 'ENOTDIR':
      return new InvalidInputError(`not a directory: ${where}`);
    case 'EISDIR':
      return new InvalidInputError(`is a directory: ${where}`);
    case 'ENOSPC':
      return new WhitemagicError('io', `no space left on device while writing ${where}`, { cause: err });
    default:
      return err;
  }
}

/**
 * The text of a file, or undefined when there is none (no file, or a path through a file); any
 * other failure is thrown as a WhitemagicError naming the path.
 */
export function readTextIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw fromFsError(err, path);
  }
}
