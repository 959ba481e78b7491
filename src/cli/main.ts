/**
 * The CLI's bundle entry (run by ./launch.ts, which answers `--version` itself): the one place that
 * turns errors into exit codes and ends the process (fast-exit.ts).
 */
import { allowHeapTuning } from '../util/heap.js';

void main(process.argv.slice(2));

async function main(args: string[]): Promise<void> {
  const json = args.includes('--json');
  // This process is ours: large scans may tune its heap (a library leaves its host's alone).
  allowHeapTuning();
  const { reportError } = await import('./run.js');
  let code = 0;
  try {
    const { createProgram } = await import('./program.js');
    await createProgram(args).parseAsync(args, { from: 'user' });
  } catch (err) {
    code = await handleError(err, json, reportError);
  }
  process.exitCode = code;
  // Done: end now rather than wait for V8's background work (fast-exit.ts), when nothing is pending.
  (await import('./fast-exit.js')).endNow(code);
}

async function handleError(err: unknown, json: boolean, reportError: (e: unknown, json: boolean) => number): Promise<number> {
  const { CommanderError } = await import('commander');
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    const { UsageError } = await import('../errors.js');
    // Commander says "error: unknown option '--x'\n(Did you mean --y?)": one line, our prefix, a hint.
    const [first, ...rest] = err.message.replace(/^error: /, '').split('\n');
    const suggestion = rest.join(' ').replace(/[()]/g, '').trim();
    return reportError(new UsageError(first, suggestion || "see 'whitemagic --help'"), json);
  }
  return reportError(err, json);
}
