import { readFileSync } from 'node:fs';
import { InvalidInputError, UsageError, fromFsError } from '../errors.js';
import { isTerminal } from './stdio.js';

export interface ContentOptions {
  content?: string;
  contentFile?: string;
  stdin?: boolean;
}

/**
 * The body given on the command line: `--content`, `--content-file F` (`-` for stdin) or
 * `--stdin`; with none of them and a pipe on stdin, the pipe. Undefined when none was given and
 * `required` is false. At most one source may be named.
 */
export function readContent(options: ContentOptions, required: boolean): string | undefined {
  const given = [options.content !== undefined, options.contentFile !== undefined, Boolean(options.stdin)].filter(Boolean);
  if (given.length > 1) throw new UsageError('give the content one way: --content, --content-file or --stdin');
  if (options.content !== undefined) return options.content;
  if (options.contentFile !== undefined) {
    return options.contentFile === '-' ? readStdin() : readTextFile(options.contentFile, '--content-file');
  }
  if (options.stdin) return readStdin();
  if (required) {
    if (!isTerminal(0)) {
      const piped = readStdin();
      if (piped.length) return piped;
    }
    throw new UsageError('no content given', 'pass --content TEXT, --content-file FILE or --stdin (or pipe it in)');
  }
  return undefined;
}

function readStdin(): string {
  try {
    return checkText(readFileSync(0), 'standard input');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN' || code === 'EOF' || code === 'ENXIO') return '';
    throw err instanceof InvalidInputError ? err : fromFsError(err, 'standard input');
  }
}

function readTextFile(path: string, option: string): string {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    const e = fromFsError(err, path);
    if (e instanceof Error && 'code' in e) {
      throw new InvalidInputError(`${option}: cannot read ${path}: ${(e as Error).message.replace(/:.*$/, '')}`, (e as { hint?: string }).hint);
    }
    throw e;
  }
  return checkText(data, path);
}

function checkText(data: Buffer, where: string): string {
  if (data.includes(0)) throw new InvalidInputError(`${where} is binary (it has NUL bytes); a memory's content is text`);
  return data.toString('utf8');
}
