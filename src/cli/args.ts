/**
 * What the launcher (launch.ts) reads of the arguments before loading anything: which command a
 * run names, and the few options reading ahead needs (read-ahead.ts). No dependencies, so that a
 * command that reads nothing ahead loads no more than this.
 */

/** The global options that take a value (program.ts); a test checks this list against the program. */
export const GLOBAL_VALUE_OPTIONS = ['--base-dir', '--context', '--backend', '--lock-timeout'];

/** Commands (and aliases) whose first act is reading the active context's folders, and that write no memory file. */
const READERS = new Set(['list', 'ls', 'show', 'search', 'status', 'tags', 'stats']);

/**
 * Every top-level command and alias of the program, by the group of src/cli/commands/ that declares
 * it, in the order `--help` lists the groups (program.ts declares only the group of the command a
 * run names; a test checks each group against what it declares).
 */
export const COMMAND_GROUPS = {
  memories: ['create', 'show', 'list', 'ls', 'update', 'delete', 'rm', 'restore', 'tags', 'stats'],
  context: ['status', 'init'],
  agents: ['context', 'edit', 'completion', 'mcp', '__complete'],
  search: ['search', 'reindex', 'doctor'],
  storage: ['migrate'],
  lifecycle: ['consolidate', 'backup', 'backups', 'verify-backup', 'restore-backup', 'clone'],
  contexts: ['contexts', 'switch', 'overview'],
} as const;

/** A group of commands (COMMAND_GROUPS). */
export type CommandGroup = keyof typeof COMMAND_GROUPS;

/** The group that declares `command`, if any does. */
export function groupOf(command: string): CommandGroup | undefined {
  return (Object.keys(COMMAND_GROUPS) as CommandGroup[]).find((group) => (COMMAND_GROUPS[group] as readonly string[]).includes(command));
}

/**
 * Every top-level command and alias. The code cache keeps one file per command named here
 * (code-cache.ts); any other word shares one file.
 */
export const COMMANDS: ReadonlySet<string> = new Set(Object.values(COMMAND_GROUPS).flat());

/** Whether a command reads its context's folders before anything else, and writes no memory file. */
export function readsFirst(command: string | undefined): boolean {
  return command !== undefined && READERS.has(command);
}

/**
 * The command a run names (the first argument that is neither an option nor a global option's
 * value), the values of the options read here, and the other options given.
 */
export function scanArgs(args: readonly string[]): { command?: string; values: Map<string, string>; flags: Set<string> } {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  let command: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      command ??= args[i + 1];
      break;
    }
    if (!arg.startsWith('-')) {
      command ??= arg;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    if (eq !== -1) values.set(name, arg.slice(eq + 1));
    else if (GLOBAL_VALUE_OPTIONS.includes(name) || name === '--contexts') values.set(name, args[++i] ?? '');
    else flags.add(name);
  }
  return { command, values, flags };
}
