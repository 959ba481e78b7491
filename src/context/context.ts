import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InvalidInputError, NotFoundError, WhitemagicError, fromFsError } from '../errors.js';
import { defaultBackendName, loadBackend } from '../storage/registry.js';
import type { BackendName, StorageBackend } from '../storage/types.js';
import { assertCapacity, withHomeLock } from './capacity.js';
import { touchLastUsed } from './last-used.js';
import { withContextLock, lockTimeoutMs } from './lock.js';
import { FORMAT_VERSION, MANIFEST_FILE, readManifest, writeManifest, type Manifest } from './manifest.js';
import type { ContextLocation } from './resolve.js';

/** What is at a context's path. */
export type ContextState =
  /** Nothing there. */
  | 'missing'
  /** A directory with a manifest. */
  | 'context'
  /** A directory with `memory/` but no manifest: hand-made, copied, or whitemagic 2.x. */
  | 'legacy'
  /** A directory that holds neither. */
  | 'not-a-context';

export interface ContextOptions {
  /** The backend for a context this command creates (--backend); default WHITEMAGIC_BACKEND or markdown. */
  backend?: BackendName;
  /** Description for a context this command creates. */
  description?: string;
  /** How long to wait for another process's lock. */
  lockTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Told how far long work on many memories has got (the CLI draws it on a terminal). */
  progress?: ProgressReporter;
}

/** `done` of `total` memories handled by the work named `label`; `done === total` when it ends. */
export type ProgressReporter = (label: string, done: number, total: number) => void;

/**
 * One context, as a command uses it: where it is, what is there, and its storage, opened lazily.
 * Commands receive a Context; they never resolve paths or load backends themselves.
 */
export class Context {
  private storage?: StorageBackend;
  private cachedManifest?: Manifest | null;
  /**
   * What the storage was opened on, for resume: the manifest's file and contents stamp and the
   * main data file's inode (any migration, restore into a new file, rename or deletion of the
   * context changes one of them), and when the context was last marked used.
   */
  private openedOn?: { dataPath: string; manifest: string; data: string; touched: number };

  constructor(
    readonly location: ContextLocation,
    readonly options: ContextOptions = {},
  ) {}

  get path(): string {
    return this.location.path;
  }

  get name(): string {
    return this.location.name;
  }

  /** The manifest, read once; undefined for a missing or legacy context. */
  manifest(): Manifest | undefined {
    if (this.cachedManifest === undefined) this.cachedManifest = readManifest(this.path) ?? null;
    return this.cachedManifest ?? undefined;
  }

  state(): ContextState {
    let st;
    try {
      st = statSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
      throw fromFsError(err, this.path);
    }
    if (!st.isDirectory()) throw new InvalidInputError(`not a directory: ${this.path}`, 'a context is a directory');
    if (this.manifest()) return 'context';
    if (existsSync(join(this.path, 'memory'))) return 'legacy';
    return 'not-a-context';
  }

  /** The backend the context uses, or would be created with. */
  backendName(): BackendName {
    return this.manifest()?.backend ?? (this.state() === 'legacy' ? 'markdown' : this.defaultBackend());
  }

  private defaultBackend(): BackendName {
    return this.options.backend ?? defaultBackendName(this.options.env);
  }

  /**
   * The storage for reading. A context chosen explicitly must exist; the implicit default reads as
   * empty when missing (without creating anything).
   */
  async open(): Promise<StorageBackend> {
    if (this.storage) return this.storage;
    const state = this.state();
    if (state === 'missing' || state === 'not-a-context') {
      if (this.location.explicit) throw this.notFound();
      // The implicit default: an empty markdown view of a folder that does not exist yet.
      return (this.storage = (await loadBackend('markdown')).open(this.path, { readonly: true }));
    }
    // A directory without a manifest (hand-made, copied, whitemagic 2.x) reads as it is: its
    // first write upgrades it (ensureCreated), never a read (SPEC section 2).
    if (state === 'context' && this.outdated()) await this.upgrade(true);
    touchLastUsed(this.path);
    // Stamped before the manifest is read again to choose the backend: a migration in between
    // leaves a stamp that no longer matches, so a writer follows it (create's followMigration).
    // The backend used to come from a manifest read earlier (before this call), which a migration
    // could replace before the stamp was taken: the stamp then said "current" for a backend that
    // was not, and a create wrote into a stray folder the next migration moved away.
    const manifest = stamp(join(this.path, MANIFEST_FILE), true);
    this.cachedManifest = undefined;
    const factory = await loadBackend(this.backendName());
    // Taken before opening: a change in between makes resume() reopen, never miss it.
    const dataPath = factory.dataPaths(this.path)[0];
    const data = stamp(dataPath, false);
    this.storage = factory.open(this.path, {});
    if (manifest && data) this.openedOn = { dataPath, manifest, data, touched: Date.now() };
    return this.storage;
  }

  /**
   * True if the storage this context opened may serve another operation (a long-lived caller
   * keeps it between calls): it stays current by itself (a database connection), and the context
   * is still the one it was opened on, not migrated, restored over, renamed or deleted since.
   * Marks the context used, as opening it does (at most once a second).
   */
  resume(): boolean {
    const opened = this.openedOn;
    if (!this.storage?.capabilities.staysCurrent || !opened) return false;
    if (!this.sameManifest() || stamp(opened.dataPath, false) !== opened.data) return false;
    const now = Date.now();
    if (now - opened.touched >= 1000) {
      touchLastUsed(this.path);
      opened.touched = now;
    }
    return true;
  }

  /** True if the manifest is the one the storage was opened with: no migration switched the backend since. */
  sameManifest(): boolean {
    return this.openedOn !== undefined && stamp(join(this.path, MANIFEST_FILE), true) === this.openedOn.manifest;
  }

  /** True if the context exists but was written in an older format (no manifest is format 0). */
  private outdated(): boolean {
    const manifest = this.manifest();
    return !manifest || manifest.format < FORMAT_VERSION;
  }

  /**
   * Upgrades the context to the current format under its lock (see upgrade.ts). With `readOnlyOk`,
   * a context that cannot be written is read as it is: every older format still reads.
   */
  private async upgrade(readOnlyOk: boolean): Promise<void> {
    const { upgradeContext } = await import('./upgrade.js');
    const description = this.options.description;
    const upgradeAndDescribe = async () => {
      await upgradeContext(this.path);
      // A description given to the command that first writes a hand-made context is kept, as for a new one.
      const manifest = readManifest(this.path);
      if (manifest && description !== undefined && !manifest.description) writeManifest(this.path, { ...manifest, description });
    };
    try {
      await withContextLock(this.path, upgradeAndDescribe, this.lockTimeout());
    } catch (err) {
      if (readOnlyOk && err instanceof WhitemagicError && err.code === 'permission') return;
      throw err;
    } finally {
      this.cachedManifest = undefined;
    }
  }

  private lockTimeout(): number {
    return this.options.lockTimeoutMs ?? lockTimeoutMs(this.options.env);
  }

  /** The storage for writing: creates the context first if needed (directories 0700). */
  async openForWrite(): Promise<StorageBackend> {
    await this.ensureCreated();
    return this.open();
  }

  /**
   * Makes the context exist with a manifest of the current format: a missing one is created (if
   * $WHITEMAGIC_HOME has room for it), an older one is upgraded. Returns true if it wrote anything.
   */
  async ensureCreated(): Promise<boolean> {
    // Opened for writing already (open() upgraded it): it exists in the current format.
    if (this.openedOn) return false;
    const state = this.state();
    if (state === 'context' || state === 'legacy') {
      if (!this.outdated()) return false;
      await this.upgrade(false);
      return true;
    }
    if (!this.underHome()) return this.create();
    // Counting the contexts and making one must be one step, or two processes could both take
    // the last place; the home's lock makes it so. Inside it, another process may have won.
    return withHomeLock(
      this.location.home,
      () => {
        this.cachedManifest = undefined;
        if (this.state() === 'context') return false;
        assertCapacity(this.location.home, { env: this.options.env, name: this.name });
        return this.create();
      },
      this.lockTimeout(),
    );
  }

  /** True if the context is a direct child of $WHITEMAGIC_HOME: it counts toward the capacity. */
  private underHome(): boolean {
    return dirname(this.path) === this.location.home;
  }

  private async create(): Promise<boolean> {
    const backend = this.defaultBackend();
    const factory = await loadBackend(backend);
    let made: string | undefined;
    try {
      made = mkdirSync(this.path, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw fromFsError(err, this.path);
    }
    const manifest: Manifest = { format: FORMAT_VERSION, backend, created: new Date().toISOString() };
    if (this.options.description !== undefined) manifest.description = this.options.description;
    try {
      factory.create(this.path);
      writeManifest(this.path, manifest);
    } catch (err) {
      // A creation that fails leaves nothing behind: remove what this call made.
      if (made) rmSync(made, { recursive: true, force: true });
      throw err;
    }
    this.cachedManifest = manifest;
    return true;
  }

  /**
   * Runs `fn` while holding this context's lock (SPEC section 9). A legacy context gets its
   * manifest first. A missing context is created unless `create` is false, in which case it is an
   * error (an operation on existing memories must not make a context as a side effect).
   */
  async withLock<T>(fn: () => T | Promise<T>, options: { create?: boolean } = {}): Promise<T> {
    const state = this.state();
    if ((state === 'missing' || state === 'not-a-context') && options.create === false) {
      if (this.location.explicit) throw this.notFound();
      throw new NotFoundError(`the context ${this.path} has no memories yet`, "create one with 'whitemagic create'");
    }
    await this.ensureCreated();
    return withContextLock(this.path, fn, this.lockTimeout());
  }

  private notFound(): NotFoundError {
    return new NotFoundError(
      `context not found: ${this.path}`,
      "create it with 'whitemagic init', or check --base-dir / --context",
      'context_not_found',
    );
  }

  /** Closes the storage if it was opened; the next use reads the context afresh. */
  close(): void {
    this.storage?.close();
    this.storage = undefined;
    this.cachedManifest = undefined;
    this.openedOn = undefined;
  }
}

/** A file's identity (device and inode), with its size and mtime when `contents`; undefined if it is gone. */
function stamp(path: string, contents: boolean): string | undefined {
  try {
    const st = statSync(path);
    return contents ? `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}` : `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}
