/**
 * Front matter as js-yaml writes it (CORE schema, no line folding), for the common case only:
 * keys and values that are plain strings needing no quotes, and lists of them. Anything else
 * (quotes needed, numbers, booleans, nested values, look-alikes of numbers or booleans) returns
 * undefined and the caller asks js-yaml. The point is `create`: loading js-yaml to write five
 * short lines cost about 3 ms of a 35 ms command. test/unit/yaml-dump.test.ts checks the output
 * is byte for byte js-yaml's on generated and hostile strings.
 */

/**
 * A string js-yaml writes unquoted: starts with a letter or digit, holds only characters with no
 * meaning in a plain scalar, no `: ` or ` #`, no trailing space or colon.
 */
const PLAIN = /^[A-Za-z0-9][A-Za-z0-9 _.,()/+\-'!?@=:]*$/;
/** Words YAML (1.1 or 1.2) reads as booleans or null: js-yaml quotes them. */
const KEYWORDS = new Set(['y', 'n', 'yes', 'no', 'on', 'off', 'true', 'false', 'null']);
/** Letters that occur in numbers (exponents, 0b/0o/0x prefixes, hex digits): not proof of text. */
const NUMBER_LETTERS = /^[0-9a-fA-FxXoO_.:+-]*$/;

function isPlain(text: string): boolean {
  if (!PLAIN.test(text) || text.endsWith(' ') || text.endsWith(':') || text.includes(': ') || text.includes(' #')) return false;
  if (KEYWORDS.has(text.toLowerCase())) return false;
  // Starting with a digit, it must hold a letter no number has, or it may read as a number or time.
  return !/^[0-9]/.test(text) || !NUMBER_LETTERS.test(text);
}

/** The YAML of `data` as js-yaml would dump it, or undefined when that needs js-yaml itself. */
export function dumpSimpleYaml(data: Record<string, unknown>): string | undefined {
  let out = '';
  for (const [key, value] of Object.entries(data)) {
    if (!isPlain(key)) return undefined;
    if (typeof value === 'string') {
      if (!isPlain(value)) return undefined;
      out += `${key}: ${value}\n`;
    } else if (Array.isArray(value)) {
      if (!value.length) {
        out += `${key}: []\n`;
        continue;
      }
      out += `${key}:\n`;
      for (const item of value) {
        if (typeof item !== 'string' || !isPlain(item)) return undefined;
        out += `  - ${item}\n`;
      }
    } else {
      return undefined;
    }
  }
  return out;
}
