/**
 * A fast reader for the front matter whitemagic itself writes: flat `key: value` lines whose values
 * are plain, single-quoted or simple double-quoted scalars, and block lists (`tags:` then `  - x`
 * lines). It gives exactly what js-yaml gives (CORE_SCHEMA, json mode) or, for anything it does not
 * fully understand, undefined, and the caller asks js-yaml. Never a different result: a test
 * compares both on many generated and edge-case inputs.
 *
 * Why: after a thousand files were edited by hand, js-yaml's general parser was a third of the
 * next command's time; these few lines parse the usual front matter several times faster.
 */

/** Characters every line must keep to: printable, no tab, CR, NEL, BOM, line separators or lone surrogates. */
const UNUSUAL = /[^\n\x20-\x7e\u{a0}-\u{2027}\u{202a}-\u{d7ff}\u{e000}-\u{fefe}\u{ff00}-\u{fffd}\u{10000}-\u{10ffff}]/u;

/** A key line: `key:` or `key: value`. */
const KEY = /^([A-Za-z_][A-Za-z0-9_-]*):(?: (.*))?$/;

/** Keys YAML reads as something other than their text (a boolean or null). */
const NON_STRING_KEY = /^(?:true|True|TRUE|false|False|FALSE|null|Null|NULL)$/;

/** A first character that makes a scalar more than plain text (YAML indicators, and a space). */
const INDICATOR = /^[-?:,[\]{}#&*!|>'"%@` ~]/;

/**
 * A plain scalar that starts like a number and has only characters a YAML number can have (digits,
 * signs, `_`, `.`, `0x`/`0o`/`0b` prefixes, hex digits, exponents, `.inf`, `.nan`): left to js-yaml
 * unless it is one of the two forms below. One with any other character (an id such as
 * `01hk63cq…`, a time with `T` and `:`) is text.
 */
const NUMBER_LIKE = /^[-+.0-9]/;
const NUMBER_CHARS = /^[0-9_+\-.xXoObBa-fA-FiInN]*$/;
const DECIMAL = /^(?:0|[1-9][0-9]{0,14})$/;
const DATE_TIME = /^\d{4}-\d\d-\d\d(?:[Tt ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d(?::?\d\d)?)?)?$/;

/** What a scalar stands for, or NOT_SIMPLE. */
const NOT_SIMPLE = Symbol('not simple');

function scalar(s: string): unknown {
  if (!s) return NOT_SIMPLE; // `- ` alone is a null item
  const first = s.charCodeAt(0);
  if (s.charCodeAt(s.length - 1) === 32) return NOT_SIMPLE; // trailing space: YAML trims it
  if (first === 39) return singleQuoted(s);
  if (first === 34) {
    const close = s.indexOf('"', 1);
    return close === s.length - 1 && !s.includes('\\') ? s.slice(1, -1) : NOT_SIMPLE;
  }
  if (s === '[]') return [];
  if (s === '~') return null;
  if (INDICATOR.test(s)) return NOT_SIMPLE;
  if (s.includes(': ') || s.includes(' #') || s.endsWith(':')) return NOT_SIMPLE;
  if (NUMBER_LIKE.test(s) && NUMBER_CHARS.test(s)) {
    if (DECIMAL.test(s)) return Number(s);
    return DATE_TIME.test(s) ? s : NOT_SIMPLE;
  }
  switch (s) {
    case 'null':
    case 'Null':
    case 'NULL':
      return null;
    case 'true':
    case 'True':
    case 'TRUE':
      return true;
    case 'false':
    case 'False':
    case 'FALSE':
      return false;
  }
  return s;
}

/** `'it''s'` as `it's`; NOT_SIMPLE unless the closing quote ends the line. */
function singleQuoted(s: string): unknown {
  let out = '';
  let from = 1;
  for (;;) {
    const q = s.indexOf("'", from);
    if (q === -1) return NOT_SIMPLE; // continues on the next line
    if (s.charCodeAt(q + 1) === 39) {
      out += s.slice(from, q + 1);
      from = q + 2;
      continue;
    }
    return q === s.length - 1 ? out + s.slice(from, q) : NOT_SIMPLE;
  }
}

/**
 * The front matter `block` (the text between the `---` lines) as js-yaml would read it, or
 * undefined when it is not of the simple kind this reader knows.
 */
export function parseSimpleYaml(block: string): Record<string, unknown> | undefined {
  if (UNUSUAL.test(block)) return undefined;
  const lines = block.split('\n');
  const data: Record<string, unknown> = {};
  /** The list being filled (after a `key:` line), and the indent of its items once known. */
  let list: unknown[] | undefined;
  let listKey = '';
  let indent = -1;
  let keys = 0;
  for (let i = lines[0] === '' ? 1 : 0; i < lines.length; i++) {
    const line = lines[i];
    const first = line.charCodeAt(0);
    if (first === 45 || first === 32) {
      // A list item: `- x` or `  - x`, only right after `key:` or another item.
      const at = first === 45 ? 0 : 2;
      if (!list || (indent !== -1 && indent !== at) || !line.startsWith('- ', at) || line.charCodeAt(at + 2) === 32) return undefined;
      if (at === 2 && line.charCodeAt(1) !== 32) return undefined;
      const value = scalar(line.slice(at + 2));
      if (value === NOT_SIMPLE) return undefined;
      indent = at;
      list.push(value);
      continue;
    }
    if (list) {
      data[listKey] = list.length ? list : null;
      list = undefined;
    }
    const m = KEY.exec(line);
    if (!m) return undefined;
    const key = m[1];
    if (key === '__proto__' || NON_STRING_KEY.test(key) || Object.prototype.hasOwnProperty.call(data, key)) return undefined;
    keys++;
    if (m[2] === undefined) {
      list = [];
      listKey = key;
      indent = -1;
      data[key] = null; // keeps the key's place; set again when its list ends
      continue;
    }
    const value = scalar(m[2]);
    if (value === NOT_SIMPLE || m[2] === '') return undefined;
    data[key] = value;
  }
  if (list) data[listKey] = list.length ? list : null;
  return keys ? data : undefined;
}
