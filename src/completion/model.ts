import { Help, type Command, type Option } from 'commander';
import { BACKEND_NAMES } from '../storage/registry.js';

/**
 * What the completion scripts know, read from the Commander command tree, so that the scripts
 * follow the commands and `completions/` fails its test when it drifts from them.
 */

/** Topics the scripts ask of the tool itself (`whitemagic __complete TOPIC`). */
export type DynamicTopic = 'contexts' | 'tags' | 'ids';

/** How a value (of an option or an argument) completes. */
export type ValueSource =
  | { kind: 'any' }
  | { kind: 'choices'; values: string[] }
  | { kind: 'dynamic'; topic: DynamicTopic }
  | { kind: 'files' }
  | { kind: 'dirs' };

export interface OptionSpec {
  /** `--title`; every option here has a long form. */
  long: string;
  /** `-q`, if any. */
  short?: string;
  description: string;
  /** undefined for a flag. */
  value?: ValueSource;
}

export interface CommandSpec {
  /** Words from the program to this command, space-separated; '' for the program itself. */
  path: string;
  description: string;
  /** Names and aliases a word may use for each subcommand. */
  subcommands: { name: string; aliases: string[]; description: string }[];
  options: OptionSpec[];
  /** Positional arguments in order. */
  args: ValueSource[];
}

export interface CompletionModel {
  program: string;
  /** Options of the program, accepted by every command. */
  globalOptions: OptionSpec[];
  /** Every command, the program first, parents before children. */
  commands: CommandSpec[];
}

// Values no choice list can name: the tool itself knows them (contexts, tags, ids), or the file system.
const OPTION_VALUES: Record<string, ValueSource> = {
  '--backend': { kind: 'choices', values: [...BACKEND_NAMES] },
  '--context': { kind: 'dynamic', topic: 'contexts' },
  '--contexts': { kind: 'dynamic', topic: 'contexts' },
  '--tag': { kind: 'dynamic', topic: 'tags' },
  '--add-tag': { kind: 'dynamic', topic: 'tags' },
  '--remove-tag': { kind: 'dynamic', topic: 'tags' },
  '--replace-tags': { kind: 'dynamic', topic: 'tags' },
  '--base-dir': { kind: 'dirs' },
  '--target-dir': { kind: 'dirs' },
  '--content-file': { kind: 'files' },
  '--output': { kind: 'files' },
};

const ARGUMENT_VALUES: Record<string, ValueSource> = {
  ref: { kind: 'dynamic', topic: 'ids' },
  name: { kind: 'dynamic', topic: 'contexts' },
  old: { kind: 'dynamic', topic: 'contexts' },
  file: { kind: 'files' },
  dest: { kind: 'dirs' },
};

/** The completion model of a program's command tree. */
export function completionModel(program: Command): CompletionModel {
  const help = new Help();
  const globalOptions = help.visibleOptions(program).flatMap((o) => optionSpec(o));
  const isGlobal = new Set(globalOptions.map((o) => o.long));
  const commands: CommandSpec[] = [];
  const walk = (cmd: Command, path: string, isProgram: boolean) => {
    const subs = help.visibleCommands(cmd).filter((c) => c.name() !== 'help');
    commands.push({
      path,
      description: cmd.description(),
      subcommands: subs.map((c) => ({ name: c.name(), aliases: c.aliases(), description: c.description() })),
      options: isProgram ? [] : help.visibleOptions(cmd).flatMap((o) => optionSpec(o)).filter((o) => !isGlobal.has(o.long)),
      // A command that creates something names a new thing: nothing existing to offer.
      args: cmd.registeredArguments.map((a) =>
        a.argChoices
          ? { kind: 'choices' as const, values: [...a.argChoices] }
          : cmd.name() === 'create'
            ? { kind: 'any' as const }
            : (ARGUMENT_VALUES[a.name()] ?? { kind: 'any' as const }),
      ),
    });
    for (const sub of subs) walk(sub, path ? `${path} ${sub.name()}` : sub.name(), false);
  };
  walk(program, '', true);
  return { program: program.name(), globalOptions, commands };
}

function optionSpec(o: Option): OptionSpec[] {
  if (!o.long) return [];
  const spec: OptionSpec = { long: o.long, description: o.description };
  if (o.short) spec.short = o.short;
  if (o.required || o.optional) {
    spec.value = o.argChoices ? { kind: 'choices', values: [...o.argChoices] } : (OPTION_VALUES[o.long] ?? { kind: 'any' });
  }
  return [spec];
}

/** The value source as one word for the shell scripts: `choices:a b`, `dyn:tags`, `files`, `dirs`, `any`. */
export function sourceWord(v: ValueSource): string {
  switch (v.kind) {
    case 'choices':
      return `choices:${v.values.join(' ')}`;
    case 'dynamic':
      return `dyn:${v.topic}`;
    default:
      return v.kind;
  }
}

/** Quotes a string for a POSIX shell (bash, zsh) in single quotes. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
