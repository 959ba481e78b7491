import { UsageError } from '../errors.js';

/** SPEC section 2: the names `--context`, `contexts create`, `switch` and `clone NAME` accept. */
export const CONTEXT_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const CONTEXT_NAME_RULE =
  'a context name is 1 to 63 characters: lowercase letters, digits, _ and -, starting with a letter or digit';

/** The name if valid, else a usage error whose message states the rule (`where`: the option or variable). */
export function checkContextName(name: string, where?: string): string {
  if (!CONTEXT_NAME_PATTERN.test(name)) {
    const prefix = where ? `${where}: ` : '';
    throw new UsageError(`${prefix}invalid context name '${printable(name)}': ${CONTEXT_NAME_RULE}`, `for example '${suggestName(name)}'`);
  }
  return name;
}

/** A valid name close to `name`, for the hint: lowercase, other characters turned into '-'. */
function suggestName(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '')
    .slice(0, 63);
  return slug || 'my-project';
}

export function isContextName(name: string): boolean {
  return CONTEXT_NAME_PATTERN.test(name);
}

/** A user string made safe to echo on one line: control characters shown as escapes. */
export function printable(value: string): string {
  const shown = value.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return shown.length > 80 ? shown.slice(0, 77) + '...' : shown;
}
