import { InvalidArgumentError, Option } from 'commander';
import { MEMORY_TYPES } from '../../memory/types.js';

/** Option declarations shared by several commands, defined once. */

/** Repeatable options (`--tag a --tag b`) collect into an array. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1) throw new InvalidArgumentError('give a whole number of 1 or more');
  return Number(value);
}

export const typeOption = (description = 'only memories of this type') =>
  new Option('--type <type>', description).choices([...MEMORY_TYPES]);

export const tagFilterOption = () => new Option('--tag <tag>', 'only memories with this tag (repeat: all required)').argParser(collect);

export const listFilterOptions = () => [
  typeOption(),
  tagFilterOption(),
  new Option('--include-archived', 'include archived memories'),
  new Option('--since <date>', 'created at or after (ISO date, or 7d, 12h, 2w ago)'),
  new Option('--until <date>', 'created at or before (ISO date, or 7d, 12h, 2w ago)'),
  new Option('--limit <n>', 'at most n results').argParser(positiveInt),
];

export const contentOptions = () => [
  new Option('--content <text>', 'the body'),
  new Option('--content-file <file>', 'read the body from a file (- for stdin)'),
  new Option('--stdin', 'read the body from standard input'),
];

export const metaOption = () => new Option('--meta <key=value>', 'set a front-matter key (repeatable)').argParser(collect);
