import { readFilters } from '../commands/list.js';
import { z } from 'zod';
import { checkTier } from '../commands/context-package.js';
import { parseMetaPairs } from '../memory/fields.js';
import { MEMORY_TYPES, RESERVED_KEYS } from '../memory/types.js';
import { renderContextPackage } from '../output/context-package.js';
import { headerJson, memoryJson } from '../output/memory.js';
import { parseDateArg } from '../util/dates.js';
import type { McpSession } from './session.js';

/**
 * The MCP tools: each one a JSON schema (zod) and a call to the same MemoryManager method the
 * library offers, which runs the same operation as the CLI. No second implementation lives here.
 */
export interface ToolDefinition {
  name: string;
  title: string;
  description: string;
  input: z.ZodRawShape;
  /** Only reads: clients may call it without asking the user. */
  readOnly?: boolean;
  /** Removes or replaces data. */
  destructive?: boolean;
  /** The result: text as is, anything else as JSON. */
  run(session: McpSession, args: any): Promise<unknown>;
}

const ref = z.string().min(1).describe('the memory: its id, a unique id prefix (4+ characters) or its file name');
const newType = z.enum(['short_term', 'long_term']);
const tags = z.array(z.string()).describe('tags (lowercased, trimmed, de-duplicated)');
const meta = z.record(z.string(), z.string()).describe('other front-matter keys to set');
const date = z.string().describe('an ISO date (2024-05-01) or a span back from now (7d, 12h, 2w)');

/** Extra front-matter keys, checked by the same rules as --meta. */
function metaInput(value: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!value) return undefined;
  return parseMetaPairs(Object.entries(value).map(([k, v]) => `${k}=${v}`), RESERVED_KEYS);
}

export const MEMORY_TOOLS: ToolDefinition[] = [
  {
    name: 'create_memory',
    title: 'Create a memory',
    description: 'Make a new memory (a titled markdown note with tags) in the active context. Returns it with its id.',
    input: { title: z.string().describe('one line'), content: z.string().optional().describe('markdown body'), type: newType.optional(), tags: tags.optional(), meta: meta.optional() },
    run: async (s, a) => memoryJson(await s.manager.createMemory({ title: a.title, content: a.content, type: a.type, tags: a.tags, meta: metaInput(a.meta) })),
  },
  {
    name: 'read_memory',
    title: 'Read a memory',
    description: 'One memory, whole: front matter fields and markdown body.',
    input: { ref },
    readOnly: true,
    run: async (s, a) => memoryJson(await s.manager.readMemory(a.ref)),
  },
  {
    name: 'update_memory',
    title: 'Update a memory',
    description: "Change a memory in place: 'updated' changes, the id and 'created' never. Tags: replace_tags first, then add_tags, then remove_tags.",
    input: {
      ref,
      title: z.string().optional(),
      content: z.string().optional(),
      add_tags: tags.optional(),
      remove_tags: tags.optional(),
      replace_tags: tags.optional(),
      type: z.enum(MEMORY_TYPES).optional(),
      meta: meta.optional(),
    },
    run: async (s, a) =>
      memoryJson(
        await s.manager.updateMemory(a.ref, {
          title: a.title,
          content: a.content,
          addTags: a.add_tags,
          removeTags: a.remove_tags,
          replaceTags: a.replace_tags,
          type: a.type,
          meta: metaInput(a.meta),
        }),
      ),
  },
  {
    name: 'delete_memory',
    title: 'Delete a memory',
    description: 'Archive a memory (restore_memory brings it back); with permanent: true, remove it for good.',
    input: { ref, permanent: z.boolean().optional() },
    destructive: true,
    run: (s, a) => s.manager.deleteMemory(a.ref, { permanent: a.permanent }),
  },
  {
    name: 'restore_memory',
    title: 'Restore an archived memory',
    description: 'Bring an archived memory back, to type if given, else to where it was archived from.',
    input: { ref, type: newType.optional() },
    run: async (s, a) => memoryJson(await s.manager.restoreMemory(a.ref, { type: a.type })),
  },
  {
    name: 'list_memories',
    title: 'List memories',
    description: 'Memories of the active context without bodies, newest first. Archived ones only with include_archived or type archive.',
    input: {
      type: z.enum(MEMORY_TYPES).optional(),
      tags: tags.optional().describe('all required'),
      include_archived: z.boolean().optional(),
      since: date.optional(),
      until: date.optional(),
      sort: z.enum(['created', 'updated', 'title']).optional(),
      reverse: z.boolean().optional(),
      limit: z.number().int().min(1).optional(),
    },
    readOnly: true,
    run: async (s, a) => {
      const result = await s.manager.listMemories({
        ...readFilters({ ...a, includeArchived: a.include_archived }, (name) => name),
        sort: a.sort,
        reverse: a.reverse,
        limit: a.limit,
      });
      return { memories: result.memories.map(headerJson), total: result.total, problems: result.problems };
    },
  },
  {
    name: 'get_context',
    title: 'Get a context package',
    description:
      'The newest memories as plain text, to read at the start of work. tier 0: the 2 newest short-term memories, 80 words each; tier 1 (default): 5 short-term (1,200 characters) and 2 long-term summaries (80 words); tier 2: 10 short-term and 5 long-term, 2,000 characters each.',
    input: { tier: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional() },
    readOnly: true,
    run: async (s, a) => renderContextPackage(await s.manager.contextPackage(checkTier(a.tier ?? 1))),
  },
  {
    name: 'list_tags',
    title: 'List tags',
    description: 'Every tag of the active context with how many memories carry it, most used first.',
    input: {},
    readOnly: true,
    run: async (s) => ({ tags: await s.manager.listTags() }),
  },
  {
    name: 'get_stats',
    title: 'Get statistics',
    description: 'Counts by type, tag counts and size of the active context.',
    input: {},
    readOnly: true,
    run: (s) => s.manager.stats(),
  },
];

export const CONTEXT_TOOLS: ToolDefinition[] = [
  {
    name: 'get_active_context',
    title: 'Get the active context',
    description: "The context this session works on: name, path, which rule chose it, backend and counts.",
    input: {},
    readOnly: true,
    run: async (s) => ({ ...(await s.manager.status()), selectedInSession: s.manager.location !== s.initial }),
  },
  {
    name: 'select_context',
    title: 'Select a context',
    description: 'Work on another existing context (a name under $WHITEMAGIC_HOME) for the rest of this session only.',
    input: { name: z.string().describe('a context name') },
    run: async (s, a) => {
      await s.select(a.name);
      return s.manager.status();
    },
  },
];

const contextName = z.string().describe('a context name under $WHITEMAGIC_HOME');

export const LIFECYCLE_TOOLS: ToolDefinition[] = [
  {
    name: 'consolidate',
    title: 'Consolidate short-term memories',
    description:
      'Old short-term memories: those tagged heuristic, pattern, proven, decision or insight move to long_term; the rest are archived and summarised in one new long-term memory. A dry run (the default) only reports what a real run would do; pass dry_run: false to do it.',
    input: { dry_run: z.boolean().optional().describe('default true'), older_than: date.optional().describe('default the retention (7 days)') },
    run: (s, a) =>
      s.manager.consolidate({ dryRun: a.dry_run ?? true, olderThan: a.older_than !== undefined ? parseDateArg(a.older_than, 'older_than') : undefined }),
  },
  {
    name: 'backup_context',
    title: 'Back up the context',
    description: "Write a .tar.gz snapshot of the active context into its backups/ folder; keep: delete all but the newest N backups afterwards.",
    input: { keep: z.number().int().min(1).optional() },
    run: (s, a) => s.manager.backup({ keep: a.keep }),
  },
  {
    name: 'clone_context',
    title: 'Clone a context',
    description: 'Deep-copy the active context (or source) to a new context dest, ids kept.',
    input: { dest: contextName, source: contextName.optional().describe('default: the active context'), description: z.string().optional() },
    run: (s, a) => (a.source ? s.managerForName(a.source) : s.manager).clone(a.dest, { description: a.description }),
  },
];

export const CONTEXTS_TOOLS: ToolDefinition[] = [
  {
    name: 'list_contexts',
    title: 'List contexts',
    description: 'Every context under $WHITEMAGIC_HOME with backend, counts, size, last use and description; the active one marked.',
    input: {},
    readOnly: true,
    run: (s) => s.manager.listContexts(),
  },
  {
    name: 'get_overview',
    title: 'Overview of all contexts',
    description: 'Totals over all contexts and the capacity left (WHITEMAGIC_MAX_CONTEXTS).',
    input: {},
    readOnly: true,
    run: (s) => s.manager.overview(),
  },
  {
    name: 'create_context',
    title: 'Create a context',
    description: 'A new, empty context under $WHITEMAGIC_HOME. It does not select it: call select_context for that.',
    input: { name: contextName, description: z.string().optional() },
    run: (s, a) => s.manager.createContext(a.name, { description: a.description }),
  },
  {
    name: 'delete_context',
    title: 'Delete a context',
    description: 'Delete a context and every memory in it, for good. Needs yes: true; the active context also needs force: true.',
    input: { name: contextName, yes: z.boolean().describe('true to confirm'), force: z.boolean().optional() },
    destructive: true,
    run: (s, a) => s.manager.deleteContext(a.name, { yes: a.yes, force: a.force }),
  },
];

const searchFilters = {
  type: z.enum(MEMORY_TYPES).optional(),
  tags: tags.optional().describe('all required'),
  include_archived: z.boolean().optional(),
  since: date.optional(),
  until: date.optional(),
  titles_only: z.boolean().optional(),
  limit: z.number().int().min(1).optional().describe('default 20'),
};

/** The search filters of a tool call, as the operations take them. */
function searchOptions(a: any) {
  return {
    ...readFilters({ ...a, includeArchived: a.include_archived }, (name) => name),
    titlesOnly: a.titles_only,
    limit: a.limit,
  };
}

export const SEARCH_TOOLS: ToolDefinition[] = [
  {
    name: 'search_memories',
    title: 'Search memories',
    description:
      'Ranked full-text search over titles, tags and bodies of the active context: all words required, "exact phrase", -excluded, OR. Each hit has a score, id, title, tags and a snippet.',
    input: { query: z.string().min(1), ...searchFilters },
    readOnly: true,
    run: (s, a) => s.manager.search(a.query, searchOptions(a)),
  },
  {
    name: 'search_memories_federated',
    title: 'Search several contexts',
    description: 'The same search over several contexts (names) or all of them, scores normalised per context, each hit naming its context.',
    input: { query: z.string().min(1), contexts: z.union([z.array(contextName).min(1), z.literal('all')]).describe("context names, or 'all'"), ...searchFilters },
    readOnly: true,
    run: (s, a) => s.manager.searchFederated(a.query, { contexts: a.contexts, ...searchOptions(a) }),
  },
];

/** Every tool the server offers. */
export const TOOLS: ToolDefinition[] = [...MEMORY_TOOLS, ...SEARCH_TOOLS, ...CONTEXT_TOOLS, ...LIFECYCLE_TOOLS, ...CONTEXTS_TOOLS];
