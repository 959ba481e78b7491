// Builds what the bins and the library need: esbuild bundles src/ into dist/, then tsc checks types
// and writes the declarations.
// - The command line: one CommonJS bundle (dist/cli-main.cjs) behind a tiny dist/cli.cjs that
//   answers --version; run through V8's code cache (src/util/code-cache.ts). The CommonJS loader
//   and one cached file start far faster than the ES module loader and dozens of chunks.
// - The library and the MCP server: ES modules, code-split, so each command's modules load lazily.
//
// How dependencies are loaded is a large part of a command's start-up, so it is chosen per package:
// - small pure-JS ones (commander, proper-lockfile, chalk, cli-table3, js-yaml, write-file-atomic)
//   are bundled: resolving and reading a package file by file costs more than its code;
// - in the ES module build, those the storage code loads synchronously on first use
//   (`lazyModule(() => require(...))`: js-yaml, write-file-atomic) become one vendored CommonJS
//   file each beside the chunks, never even compiled by a command that does not need them;
// - native or large ones used by few commands (better-sqlite3, tar, the MCP SDK) stay packages.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
rmSync(join(root, 'dist'), { recursive: true, force: true });

/** Dependencies left as packages: native (better-sqlite3), or large and used by one command each. */
export const EXTERNAL = ['better-sqlite3', 'bindings', 'tar', '@modelcontextprotocol/sdk', '@modelcontextprotocol/sdk/*', 'zod'];

/** Loaded synchronously on first use: one CommonJS file each, `dist/chunks/vendor-<name>.cjs`. */
const VENDORED = ['js-yaml', 'write-file-atomic'];
const vendorFile = (name) => `vendor-${name}.cjs`;

await build({
  absWorkingDir: root,
  entryPoints: Object.fromEntries(VENDORED.map((name) => [vendorFile(name).slice(0, -4), name])),
  outdir: 'dist/chunks',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: !process.argv.includes('--no-minify'),
  legalComments: 'inline',
  logLevel: 'warning',
});

/**
 * better-sqlite3 stays a package (its native addon is loaded from it), but its JavaScript, reached
 * as `better-sqlite3/lib/...`, is bundled: a dozen files resolved and compiled one by one cost
 * about 9 ms of every SQLite command (src/storage/sqlite/driver.ts).
 */
const sqliteJsPlugin = {
  name: 'sqlite-js',
  setup(b) {
    b.onResolve({ filter: /^better-sqlite3\/(lib\/.+|package\.json)$/ }, (args) => ({ path: join(root, 'node_modules', args.path) }));
  },
};

/**
 * Requires of Node's own modules that dependencies make at load time and the command line never
 * needs, each turned into a lazy or fixed value in the CLI bundle. Each cost milliseconds of every
 * command; the build fails if a dependency's source no longer has the line, so an upgrade cannot
 * silently undo a patch.
 */
const LOAD_TIME_PATCHES = [
  {
    // For executable subcommands, which we have none of; `child_process` brings `net` and streams.
    file: /[\\/]commander[\\/]lib[\\/]command\.js$/,
    from: "const childProcess = require('node:child_process');",
    to: "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };",
  },
  {
    // For a thread id in temporary file names; the command line runs on the main thread (id 0).
    file: /[\\/]write-file-atomic[\\/]lib[\\/]index\.js$/,
    from: "const workerThreads = require('worker_threads')",
    to: 'const workerThreads = { threadId: 0 }',
  },
];

const loadTimePatchPlugin = {
  name: 'load-time-patches',
  setup(b) {
    for (const patch of LOAD_TIME_PATCHES) {
      b.onLoad({ filter: patch.file }, async (args) => {
        const source = await readFile(args.path, 'utf8');
        if (!source.includes(patch.from)) throw new Error(`build: ${args.path} no longer has \`${patch.from}\`; update LOAD_TIME_PATCHES`);
        return { contents: source.replace(patch.from, patch.to), loader: 'js' };
      });
    }
  },
};

/** Points the code's `require('js-yaml')` and the like at the vendored file, from `folder` (the bundle's). */
const vendorPlugin = (folder) => ({
  name: 'vendor',
  setup(b) {
    const filter = new RegExp(`^(${VENDORED.map((n) => n.replace(/[-/]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter }, (args) => ({ path: `${folder}${vendorFile(args.path)}`, external: true }));
  },
});

// The library and the MCP server: ES modules, code-split so each lazy import() is a chunk.
await build({
  absWorkingDir: root,
  entryPoints: { index: 'src/index.ts', mcp: 'src/mcp/main.ts' },
  plugins: [vendorPlugin('./'), sqliteJsPlugin],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  // Bundled CommonJS code requires Node's own modules: give the ESM chunks a real `require`.
  banner: { js: "import { createRequire as __wmCreateRequire } from 'node:module';\nconst require = __wmCreateRequire(import.meta.url);" },
  chunkNames: 'chunks/[name]-[hash]',
  define: { __VERSION__: JSON.stringify(pkg.version) },
  sourcemap: 'linked',
  logLevel: 'warning',
});

// The command line: CommonJS, whose loader costs a fraction of the ES module loader's, in two files.
// dist/cli.cjs (src/cli/launch.ts) answers --version and runs dist/cli-main.cjs (src/cli/main.ts,
// everything else) through V8's code cache (src/util/code-cache.ts). One bundle, not chunks: each
// file costs a resolution and a read; what a command does not use is still never run, because
// esbuild turns each import() into a module initialised on first use, and a package left outside
// (better-sqlite3, tar) into a require() inside it.
await build({
  absWorkingDir: root,
  entryPoints: { cli: 'src/cli/launch.ts', 'cli-main': 'src/cli/main.ts' },
  plugins: [sqliteJsPlugin, loadTimePatchPlugin],
  // js-yaml and write-file-atomic are bundled too: still run only on first require, and compiled
  // once into the code cache rather than read and compiled as separate files by every command.
  outdir: 'dist',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  supported: { 'dynamic-import': false },
  // Non-ASCII characters escaped: the launcher reads the bundle as Latin-1 (src/util/code-cache.ts).
  charset: 'ascii',
  external: EXTERNAL,
  define: { __VERSION__: JSON.stringify(pkg.version), 'import.meta.url': '__wmImportMetaUrl' },
  banner: { js: "const __wmImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  minify: !process.argv.includes('--no-minify'),
  sourcemap: 'linked',
  logLevel: 'warning',
});

// The launcher reads cli-main.cjs as Latin-1, which gives the file's own string only if it is ASCII.
if (/[^\x00-\x7f]/.test(readFileSync(join(root, 'dist', 'cli-main.cjs'), 'latin1'))) {
  console.error('build: dist/cli-main.cjs is not ASCII; the launcher reads it as Latin-1 (src/util/code-cache.ts)');
  process.exit(1);
}

// The vendored paths are relative to dist/chunks/: code that loads them must have landed in a chunk.
for (const file of readdirSync(join(root, 'dist')).filter((f) => f.endsWith('.js'))) {
  if (readFileSync(join(root, 'dist', file), 'utf8').includes('./vendor-')) {
    console.error(`build: dist/${file} loads a vendored dependency; it must be reached through a chunk`);
    process.exit(1);
  }
}

if (!process.argv.includes('--no-types')) {
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
      cwd: root,
      stdio: 'inherit',
    });
  } catch {
    console.error('build: type check failed');
    process.exit(1);
  }
}
