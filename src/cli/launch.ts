/**
 * The command line's first file (bin/whitemagic.js loads it): answers `--version` before anything
 * else is read, and otherwise starts reading ahead the folders a reading command will list
 * (./read-ahead.ts) and runs the command line's bundle (./main.ts, built as cli-main.cjs) through
 * V8's code cache, so a command does not compile the bundle from scratch every time.
 */
declare const __VERSION__: string;

const argv = process.argv.slice(2);
if (argv.length === 1 && argv[0] === '--version') {
  // Written straight to the descriptor: process.stdout on a pipe or /dev/null loads the stream modules.
  (require('node:fs') as typeof import('node:fs')).writeSync(1, `${typeof __VERSION__ === 'string' ? __VERSION__ : '0.0.0-dev'}\n`);
} else {
  // Loaded only here, so that --version reads no other module. Built as CommonJS: __dirname is dist/.
  // The folders a reading command will list are read on another thread meanwhile (read-ahead.ts).
  // The code cache keeps a file per command and kind of context (code-cache.ts), so it is told which.
  void (async () => {
    const { scanArgs } = await import('./args.js');
    const { command } = scanArgs(argv);
    const variant = (await import('./read-ahead.js')).readAhead(argv);
    (await import('../util/code-cache.js')).runWithCodeCache(`${__dirname}/cli-main.cjs`, command, variant);
  })();
}
