/**
 * The whitemagic library: the same operations as the CLI, with the same rules.
 *
 *   import { MemoryManager } from 'whitemagic';
 *   const wm = new MemoryManager({ baseDir: '/path/to/context' });
 *   const memory = await wm.createMemory({ title: 'Hello', content: 'World', tags: ['demo'] });
 */
import { Context, type ContextOptions } from './context/context.js';
import { resolveContext, type ContextLocation } from './context/resolve.js';
import type { CreateInput } from './commands/create.js';
import type { ListInput } from './commands/list.js';
import type { UpdateInput } from './commands/update.js';
import type { DeleteResult } from './commands/delete.js';
import type { StatsResult, TagCount } from './commands/stats.js';
import type { StatusResult } from './commands/status.js';
import type { ContextPackage, ContextTier } from './commands/context-package.js';
import type { MigrateResult } from './commands/migrate.js';
import type { ContextsList, ContextDetails, ContextsScope, Overview } from './commands/contexts.js';
import type { DeleteContextResult, DescribeResult, RenameResult, SwitchResult } from './commands/contexts-change.js';
import type { ContextInfo } from './context/discovery.js';
import type { Memory, MemoryType } from './memory/types.js';
import type { BackendName, ListResult } from './storage/types.js';
import type { ConsolidateInput, ConsolidateResult } from './commands/consolidate.js';
import type { RunSummary } from './commands/consolidation-log.js';
import type { BackupInfo, BackupInput, BackupResult, VerifyResult } from './commands/backup.js';
import type { RestoreBackupInput, RestoreBackupResult } from './commands/restore-backup.js';
import type { CloneResult } from './commands/clone.js';
import type { SearchInput, SearchOutput } from './commands/search.js';
import type { FederatedInput, FederatedResult, FederatedHit } from './commands/search-federated.js';
import type { ReindexOutput } from './commands/reindex.js';
import type { DoctorResult } from './commands/doctor.js';

export * from './errors.js';
export type { Memory, MemoryHeader, MemoryType } from './memory/types.js';
export { MEMORY_TYPES } from './memory/types.js';
export type { StorageBackend, BackendName, ListQuery, ListResult, StorageSummary, StorageProblem } from './storage/types.js';
export type { ContextLocation, ContextSource } from './context/resolve.js';
export type { CreateInput, ListInput, UpdateInput, DeleteResult, StatsResult, TagCount, StatusResult, MigrateResult };
export type { ContextPackage, ContextTier, PackagedMemory } from './commands/context-package.js';
export { resolveContext } from './context/resolve.js';
export type { ConsolidateInput, ConsolidateResult, RunSummary, BackupInfo, BackupInput, BackupResult, VerifyResult };
export type { RestoreBackupInput, RestoreBackupResult, CloneResult };
export type { ContextsList, ContextDetails, ContextInfo, Overview, DeleteContextResult, DescribeResult, RenameResult, SwitchResult };
export type { SearchInput, SearchOutput, FederatedInput, FederatedResult, FederatedHit, ReindexOutput, DoctorResult };
export type { SearchHit, MarkedText, IndexCheck, IndexDrift } from './search/types.js';

export interface MemoryManagerOptions {
  /** The context directory (rule 1 of SPEC section 2). */
  baseDir?: string;
  /** A context name under $WHITEMAGIC_HOME (rule 2). */
  context?: string;
  /** The backend for a context this manager creates. */
  backend?: BackendName;
  /** Seconds to wait for another process's lock. */
  lockTimeout?: number;
  /** Environment to resolve from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** A context already resolved (resolveContext), used instead of baseDir and context. */
  location?: ContextLocation;
}

/**
 * One context's memories, for TypeScript code. Each method reads the context as it is on disk now.
 * A SQLite context's connection is kept open between calls (checked each time against a migrate,
 * restore, rename or delete by another process); `close()` releases it. A markdown context is
 * opened and closed by every call, so hand edits are always seen.
 */
export class MemoryManager {
  /** Where the manager works and which rule chose it. */
  readonly location: ContextLocation;
  private readonly contextOptions: ContextOptions;
  /** The context kept open after the last call, when its storage stays current (Context.resume). */
  private kept?: Context;

  constructor(private readonly options: MemoryManagerOptions = {}) {
    this.location = options.location ?? resolveContext({ baseDir: options.baseDir, context: options.context, env: options.env });
    this.contextOptions = {
      backend: options.backend,
      env: options.env,
      lockTimeoutMs: options.lockTimeout !== undefined ? options.lockTimeout * 1000 : undefined,
    };
  }

  /**
   * Runs `fn` on the context: the one kept from the last call if it is still current, else a new
   * one. With `keep`, a storage that stays current is kept open for the next call.
   */
  private async using<T>(fn: (ctx: Context) => Promise<T>, keep = true): Promise<T> {
    let ctx = this.kept;
    this.kept = undefined;
    if (ctx && !ctx.resume()) {
      ctx.close();
      ctx = undefined;
    }
    ctx ??= new Context(this.location, this.contextOptions);
    let keeping = false;
    try {
      const result = await fn(ctx);
      keeping = keep && !this.kept && ctx.resume();
      return result;
    } finally {
      if (keeping) this.kept = ctx;
      else ctx.close();
    }
  }

  /** Releases what the manager keeps open between calls (a SQLite connection); the next call reopens. */
  close(): void {
    this.kept?.close();
    this.kept = undefined;
  }

  /** A new memory; the context is created if missing. */
  async createMemory(input: CreateInput): Promise<Memory> {
    const { createMemory } = await import('./commands/create.js');
    return this.using((ctx) => createMemory(ctx, input));
  }

  /** One memory by REF: id, unique id prefix or file name. */
  async readMemory(ref: string): Promise<Memory> {
    const { showMemory } = await import('./commands/show.js');
    return this.using((ctx) => showMemory(ctx, ref));
  }

  async listMemories(input: ListInput = {}): Promise<ListResult> {
    const { listMemories } = await import('./commands/list.js');
    return this.using((ctx) => listMemories(ctx, input));
  }

  async updateMemory(ref: string, input: UpdateInput): Promise<Memory> {
    const { updateMemory } = await import('./commands/update.js');
    return this.using((ctx) => updateMemory(ctx, ref, input));
  }

  /** Archives a memory, or removes it for good with `permanent`. */
  async deleteMemory(ref: string, options: { permanent?: boolean } = {}): Promise<DeleteResult> {
    const { deleteMemory } = await import('./commands/delete.js');
    return this.using((ctx) => deleteMemory(ctx, ref, options));
  }

  async restoreMemory(ref: string, options: { type?: MemoryType } = {}): Promise<Memory> {
    const { restoreMemory } = await import('./commands/restore.js');
    return this.using((ctx) => restoreMemory(ctx, ref, options));
  }

  async listTags(): Promise<TagCount[]> {
    const { listTags } = await import('./commands/stats.js');
    return this.using((ctx) => listTags(ctx));
  }

  async stats(): Promise<StatsResult> {
    const { stats } = await import('./commands/stats.js');
    return this.using((ctx) => stats(ctx));
  }

  async status(): Promise<StatusResult> {
    const { status } = await import('./commands/status.js');
    return this.using((ctx) => status(ctx));
  }

  /** A context package for an AI agent (SPEC section 4, `context --tier`): the newest memories as plain text. */
  async contextPackage(tier: ContextTier = 1): Promise<ContextPackage> {
    const { contextPackage } = await import('./commands/context-package.js');
    return this.using((ctx) => contextPackage(ctx, tier));
  }

  /** Ranked full-text search in this manager's context (SPEC section 5): `search('docker -compose', { limit: 5 })`. */
  async search(query: string | SearchInput, options: Omit<SearchInput, 'query'> = {}): Promise<SearchOutput> {
    const { searchMemories } = await import('./commands/search.js');
    const input = typeof query === 'string' ? { ...options, query } : query;
    return this.using((ctx) => searchMemories(ctx, input));
  }

  /**
   * Search across contexts of $WHITEMAGIC_HOME (`contexts: ['a', 'b']` or `'all'`), scores
   * normalised per context: `searchFederated('docker', { contexts: 'all' })`.
   */
  async searchFederated(query: string | FederatedInput, options?: Omit<FederatedInput, 'query'>): Promise<FederatedResult> {
    const { searchFederated } = await import('./commands/search-federated.js');
    const input = typeof query === 'string' ? { contexts: 'all' as const, ...options, query } : query;
    return searchFederated(this.location.home, input, this.contextOptions);
  }

  /** Rebuilds the context's search index from its memories. */
  async reindex(): Promise<ReindexOutput> {
    const { reindex } = await import('./commands/reindex.js');
    return this.using((ctx) => reindex(ctx), false);
  }

  /** Checks the context: unreadable memories and the search index against them. Changes nothing. */
  async doctor(): Promise<DoctorResult> {
    const { doctor } = await import('./commands/doctor.js');
    return this.using((ctx) => doctor(ctx), false);
  }

  /** Converts the context to another backend in place; the old data is kept in a backup folder. */
  async migrate(backend: BackendName): Promise<MigrateResult> {
    const { migrateContext } = await import('./commands/migrate.js');
    const { checkBackendName } = await import('./storage/registry.js');
    return this.using((ctx) => migrateContext(ctx, { backend: checkBackendName(backend, 'backend') }), false);
  }

  /** Consolidates old short-term memories (SPEC section 6); a dry run unless `dryRun: false`. */
  async consolidate(input: ConsolidateInput = {}): Promise<ConsolidateResult> {
    const { consolidate } = await import('./commands/consolidate.js');
    return this.using((ctx) => consolidate(ctx, input), false);
  }

  /** Past consolidation runs, newest first. */
  async consolidationLog(): Promise<RunSummary[]> {
    const { consolidationLog } = await import('./commands/consolidate.js');
    return this.using((ctx) => consolidationLog(ctx));
  }

  /** Writes a .tar.gz snapshot of the context (SPEC section 7). */
  async backup(input: BackupInput = {}): Promise<BackupResult> {
    const { backup } = await import('./commands/backup.js');
    return this.using((ctx) => backup(ctx, input), false);
  }

  /** The backups in the context's backups/ folder, newest first. */
  async listBackups(): Promise<BackupInfo[]> {
    const { listBackups } = await import('./commands/backup.js');
    return this.using((ctx) => listBackups(ctx), false);
  }

  /** Re-hashes a backup against its manifest; `ok` false with every mismatch. */
  async verifyBackup(file: string): Promise<VerifyResult> {
    const { verifyBackup } = await import('./commands/backup.js');
    return verifyBackup(file);
  }

  /** Verifies, then restores a backup into this manager's context. */
  async restoreBackup(input: RestoreBackupInput): Promise<RestoreBackupResult> {
    const { restoreBackup } = await import('./commands/restore-backup.js');
    return this.using((ctx) => restoreBackup(ctx, input), false);
  }

  /** Deep-copies this context to `dest` (a context name or a path), ids kept. */
  async clone(dest: string, options: { backend?: BackendName; description?: string } = {}): Promise<CloneResult> {
    const { cloneContext } = await import('./commands/clone.js');
    return this.using((ctx) => cloneContext(ctx, { dest, ...options, env: this.contextOptions.env }), false);
  }

  /** The $WHITEMAGIC_HOME this manager's options and environment give, for the contexts methods. */
  private async contextsScope(): Promise<ContextsScope> {
    const { contextsScope } = await import('./commands/contexts.js');
    // A manager made from a resolved location (the MCP server) marks that location as the active one.
    const where = this.options.location ? { baseDir: this.location.path } : { baseDir: this.options.baseDir, context: this.options.context };
    return contextsScope({ ...where, env: this.options.env }, this.contextOptions);
  }

  /** Every context under $WHITEMAGIC_HOME, the active one marked. */
  async listContexts(): Promise<ContextsList> {
    const { listContexts } = await import('./commands/contexts.js');
    return listContexts(await this.contextsScope());
  }

  /** A new context NAME under $WHITEMAGIC_HOME (within WHITEMAGIC_MAX_CONTEXTS), with this manager's backend. */
  async createContext(name: string, options: { description?: string } = {}): Promise<ContextInfo> {
    const { createContext } = await import('./commands/contexts-change.js');
    return createContext(await this.contextsScope(), name, options);
  }

  async showContext(name: string): Promise<ContextDetails> {
    const { showContext } = await import('./commands/contexts.js');
    return showContext(await this.contextsScope(), name);
  }

  /** Deletes a context for good: `yes` is required, `force` allows the active one. */
  async deleteContext(name: string, options: { yes?: boolean; force?: boolean } = {}): Promise<DeleteContextResult> {
    const { deleteContext } = await import('./commands/contexts-change.js');
    return deleteContext(await this.contextsScope(), name, options);
  }

  async renameContext(from: string, to: string): Promise<RenameResult> {
    const { renameContext } = await import('./commands/contexts-change.js');
    return renameContext(await this.contextsScope(), from, to);
  }

  /** Sets a context's description; empty text clears it. */
  async describeContext(name: string, text: string): Promise<DescribeResult> {
    const { describeContext } = await import('./commands/contexts-change.js');
    return describeContext(await this.contextsScope(), name, text);
  }

  /** Remembers NAME as the active context for later managers and commands (this one keeps its location). */
  async switchContext(name: string, options: { create?: boolean } = {}): Promise<SwitchResult> {
    const { switchContext } = await import('./commands/contexts-change.js');
    return switchContext(await this.contextsScope(), name, options);
  }

  /** Totals over all contexts and the capacity left. */
  async overview(): Promise<Overview> {
    const { overview } = await import('./commands/contexts.js');
    return overview(await this.contextsScope());
  }
}
