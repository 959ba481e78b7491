import { MemoryManager, type MemoryManagerOptions } from '../index.js';
import { resolveContext, type ContextLocation } from '../context/resolve.js';
import { NotFoundError } from '../errors.js';
import { checkBackendName } from '../storage/registry.js';

/** How the server was started: the context rules' inputs (SPEC section 2, WM_BASE_PATH first). */
export interface McpOptions {
  baseDir?: string;
  context?: string;
  backend?: string;
  /** Seconds. */
  lockTimeout?: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * One MCP connection's state: the context it works on. `select_context` changes it for this
 * session only; nothing is written to $WHITEMAGIC_HOME, so other sessions and the CLI are untouched.
 */
export class McpSession {
  manager: MemoryManager;
  /** The context the server started with. */
  readonly initial: ContextLocation;

  constructor(readonly options: McpOptions = {}) {
    this.initial = resolveContext({ baseDir: options.baseDir, context: options.context, env: options.env, mcp: true });
    this.manager = this.managerFor(this.initial);
  }

  private managerFor(location: ContextLocation): MemoryManager {
    const base: MemoryManagerOptions = {
      location,
      env: this.options.env,
      backend: this.options.backend ? checkBackendName(this.options.backend) : undefined,
      lockTimeout: this.options.lockTimeout,
    };
    return new MemoryManager(base);
  }

  /** Points this session at the context NAME under $WHITEMAGIC_HOME, which must exist. */
  async select(name: string): Promise<ContextLocation> {
    const location = resolveContext({ context: name, env: this.options.env });
    const candidate = this.managerFor(location);
    const status = await candidate.status();
    if (status.state !== 'context' && status.state !== 'legacy') {
      candidate.close();
      throw new NotFoundError(`context not found: ${name}`, 'see list_contexts, or make it with create_context');
    }
    this.manager.close();
    this.manager = candidate;
    return location;
  }

  /** Releases what the session's manager keeps open (the connection ends). */
  close(): void {
    this.manager.close();
  }

  /** A manager for another context NAME (federated search, clone sources), same options. */
  managerForName(name: string): MemoryManager {
    return this.managerFor(resolveContext({ context: name, env: this.options.env }));
  }
}
