import { closeSync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Below this many paths a worker costs more to start (about 20 ms) than flushing one by one saves.
 */
const WORKER_THRESHOLD = 64;
/** Flushes in flight at once: the file system batches concurrent flushes into one journal commit. */
const CONCURRENCY = 8;

/** How a batch was made durable: one flush of each file system, or a flush per path. */
export type FlushMethod = 'file-system' | 'per-path';

/**
 * Flushes files, then folders, to disk; returns once all are durable. A path that no longer exists
 * is skipped (moved or removed by a later write of the same batch). Any other error is thrown as
 * the errno error of that path.
 *
 * The storage interface is synchronous, yet one fsync after another is what made a bulk write of
 * 10,000 markdown files take 10 s: each waits for its own journal commit. So a large batch is
 * flushed, on Linux, with one syncfs(2) of each file system that holds it (`sync -f`, coreutils:
 * Node.js has no binding for it): about 0.1 s for 10,000 new files where 10,000 fsyncs took
 * seconds. Elsewhere, or if that fails, a worker thread runs the fsyncs CONCURRENCY at a time
 * through the thread pool (concurrent flushes share journal commits), while this thread waits.
 * The trade: syncfs also flushes other programs' pending writes on that file system, so on a disk
 * busy with someone else's writes it can take longer than flushing ours alone would.
 */
export function fsyncMany(files: Iterable<string>, folders: Iterable<string> = [], env: NodeJS.ProcessEnv = process.env): FlushMethod {
  const fileList = [...files];
  const folderList = [...folders];
  if (fileList.length + folderList.length < WORKER_THRESHOLD) {
    for (const path of fileList) fsyncPath(path);
    for (const path of folderList) fsyncPath(path);
    return 'per-path';
  }
  if (syncFileSystems([...new Set([...fileList.map((f) => dirname(f)), ...folderList])], env)) return 'file-system';
  fsyncInWorker(fileList, folderList);
  return 'per-path';
}

/**
 * syncfs(2) of the file systems holding `folders` (GNU `sync -f`): everything written to them,
 * data and names, is on disk when it returns true. False where there is no such command or it
 * fails (it reports write-back errors), so the caller flushes path by path and reports errors by name.
 */
function syncFileSystems(folders: string[], env: NodeJS.ProcessEnv): boolean {
  if (process.platform !== 'linux' || !folders.length) return false;
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const r = spawnSync('sync', ['-f', '--', ...folders], { stdio: 'ignore', env });
  return !r.error && r.status === 0;
}

/** One fsync, skipping a path that is gone. */
export function fsyncPath(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    fsyncSync(fd);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

// Plain JavaScript, run with `eval: true`: the worker needs no module of ours.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { open } = require('node:fs/promises');
const { files, folders, done, port, concurrency } = workerData;
let finished = false;
function finish(message) {
  if (finished) return;
  finished = true;
  port.postMessage(message);
  Atomics.store(done, 0, 1);
  Atomics.notify(done, 0);
}
process.on('exit', () => finish({ ok: false, message: 'the flushing thread stopped early' }));
async function flush(path) {
  let handle;
  try {
    handle = await open(path, 'r');
    await handle.sync();
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  } finally {
    if (handle) await handle.close();
  }
}
async function all(paths) {
  let next = 0;
  const lane = async () => { while (next < paths.length) await flush(paths[next++]); };
  await Promise.all(Array.from({ length: Math.min(concurrency, paths.length) }, lane));
}
all(files).then(() => all(folders)).then(
  () => finish({ ok: true }),
  (err) => finish({ ok: false, message: String(err && err.message), code: err && err.code, path: err && err.path }),
);
`;

function fsyncInWorker(files: string[], folders: string[]): void {
  const { MessageChannel, Worker, receiveMessageOnPort } = require('node:worker_threads') as typeof import('node:worker_threads');
  const done = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { files, folders, done, port: port2, concurrency: CONCURRENCY },
    transferList: [port2],
  });
  worker.unref();
  try {
    while (Atomics.load(done, 0) === 0) Atomics.wait(done, 0, 0, 1_000);
    const reply = receiveMessageOnPort(port1)?.message as { ok: boolean; message?: string; code?: string; path?: string } | undefined;
    if (!reply?.ok) throw Object.assign(new Error(reply?.message ?? 'flushing failed'), { code: reply?.code, path: reply?.path });
  } finally {
    port1.close();
  }
}
