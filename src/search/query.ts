import { UsageError } from '../errors.js';
import { printable } from '../context/names.js';

/**
 * The search query language of SPEC section 5, parsed by our own code and compiled to SQLite FTS5
 * MATCH syntax with every term quoted, so nothing a user types can be read as FTS5 syntax.
 *
 *   words          every word is required            postgres index
 *   "a phrase"     these words in this order         "connection pool"
 *   -word          must not appear                   docker -compose
 *   a OR b         either                            nginx OR caddy
 *   word*          prefix of the word's stem         kube*
 *
 * Bare words of three or more letters that the index does not hold as a word match by prefix of
 * their stem ("kube" finds "kubernetes"); words it holds match by stem ("latency" finds
 * "latencies"), which is far cheaper on a large context. Shorter words match whole words only.
 * A `*` always asks for a prefix match.
 */

/** One thing to look for: a word or a phrase. */
export interface SearchTerm {
  /** As typed, without quotes, `-` or a trailing `*`. */
  text: string;
  /** Written in double quotes: its words in order, whole words. */
  phrase: boolean;
  /** Matches any word that starts with the stem of its last word. */
  prefix: boolean;
  /** The prefix match was not asked for with `*`: the index drops it for a word it holds whole. */
  auto?: boolean;
}

/** A query ready for the index: what it requires and what it excludes. */
export interface ParsedQuery {
  /** The query as given. */
  source: string;
  /** All required; each clause is one term, or alternatives joined by OR. */
  clauses: SearchTerm[][];
  /** Memories matching any of these are left out. */
  excluded: SearchTerm[];
  /** Parts dropped because they hold no letters or digits (lone punctuation, emoji). */
  ignored: string[];
}

/** Bare words this long or longer match by prefix of their stem. */
export const PREFIX_MIN_LENGTH = 3;

/** Letters and digits: what the index's tokenizer (unicode61) keeps as words. */
const WORD_CHAR = /[\p{L}\p{N}]/u;

interface Lexeme {
  /** As typed, for messages. */
  raw: string;
  text: string;
  quoted: boolean;
  negated: boolean;
}

/** Splits a query into quoted phrases and bare words; an unclosed quote runs to the end. */
function lex(source: string): Lexeme[] {
  const out: Lexeme[] = [];
  const s = source.replace(/[\u0000-\u001f\u007f]/g, ' ');
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    let negated = false;
    if (c === '-' && s[i + 1] === '"') {
      negated = true;
      i++;
    }
    if (s[i] === '"') {
      const end = s.indexOf('"', i + 1);
      const stop = end < 0 ? s.length : end;
      out.push({ raw: s.slice(negated ? i - 1 : i, stop + 1), text: s.slice(i + 1, stop), quoted: true, negated });
      i = stop + 1;
      continue;
    }
    let j = i;
    while (j < s.length && !/\s/.test(s[j]) && s[j] !== '"') j++;
    const raw = s.slice(i, j);
    let text = raw;
    if (text.length > 1 && text.startsWith('-')) {
      negated = true;
      text = text.slice(1);
    }
    out.push({ raw, text, quoted: false, negated });
    i = j;
  }
  return out;
}

function hasWord(text: string): boolean {
  return WORD_CHAR.test(text);
}

function wordLength(text: string): number {
  return [...text].filter((ch) => WORD_CHAR.test(ch)).length;
}

/** A lexeme as a term, or undefined when it holds nothing the index could match. */
function toTerm(lexeme: Lexeme): SearchTerm | undefined {
  if (lexeme.quoted) {
    return hasWord(lexeme.text) ? { text: lexeme.text.trim(), phrase: true, prefix: false } : undefined;
  }
  const explicitPrefix = /\*+$/.test(lexeme.text);
  const text = lexeme.text.replace(/\*+$/, '');
  if (!hasWord(text)) return undefined;
  if (explicitPrefix) return { text, phrase: false, prefix: true };
  return wordLength(text) >= PREFIX_MIN_LENGTH ? { text, phrase: false, prefix: true, auto: true } : { text, phrase: false, prefix: false };
}

/**
 * Parses a query. Upper-case OR between two words makes them alternatives, AND between words is
 * allowed (every word is required anyway), NOT before a word excludes it; at either end of the
 * query these are plain words. Throws a UsageError when nothing is left to look for.
 */
export function parseQuery(source: string): ParsedQuery {
  if (!source.trim()) throw new UsageError('the search query is empty', "give words to look for, such as: whitemagic search 'docker volumes'");
  const lexemes = lex(source);
  const parsed: ParsedQuery = { source, clauses: [], excluded: [], ignored: [] };
  const isOp = (l: Lexeme | undefined, op: string) => l !== undefined && !l.quoted && !l.negated && l.text === op;
  let joinNext = false;
  let negateNext = false;
  for (let i = 0; i < lexemes.length; i++) {
    const lexeme = lexemes[i];
    const hasPrev = parsed.clauses.length > 0 || parsed.excluded.length > 0;
    const hasNext = i < lexemes.length - 1;
    if (hasPrev && hasNext && isOp(lexeme, 'AND')) continue;
    if (hasPrev && hasNext && isOp(lexeme, 'OR') && !lexemes[i + 1].negated && parsed.clauses.length > 0) {
      joinNext = true;
      continue;
    }
    if (hasNext && isOp(lexeme, 'NOT')) {
      negateNext = true;
      continue;
    }
    const term = toTerm(lexeme);
    if (!term) {
      parsed.ignored.push(lexeme.raw);
      joinNext = negateNext = false;
      continue;
    }
    if (lexeme.negated || negateNext) parsed.excluded.push(term);
    else if (joinNext) parsed.clauses[parsed.clauses.length - 1].push(term);
    else parsed.clauses.push([term]);
    joinNext = negateNext = false;
  }
  if (!parsed.clauses.length) {
    if (parsed.excluded.length) {
      throw new UsageError('a search needs at least one word to find, not only words to exclude', "add a word, such as: whitemagic search 'docker -compose'");
    }
    throw new UsageError(
      `nothing to search for in '${printable(source)}'`,
      'search words need letters or digits; punctuation and emoji are not indexed',
    );
  }
  return parsed;
}

/** An FTS5 string: double quotes around, inner quotes doubled. Inside one, nothing is syntax. */
function quote(text: string): string {
  return `"${text.replace(/"/g, '""')}"`;
}

/** Prefix words this long ending in a `y` also match without it (see compileTerm). */
const Y_WORD = /[a-z]{4}y$/i;

function compileTerm(term: SearchTerm, column?: string): string {
  let body = quote(term.text) + (term.prefix ? '*' : '');
  // Porter stems "deploy" to "deploi" but "deployment" to "deploy": a prefix query for the word
  // would miss its longer forms. The word without its `y` is a prefix of both stems.
  if (term.prefix && !term.phrase && Y_WORD.test(term.text)) body = `(${body} OR ${quote(term.text.slice(0, -1))}*)`;
  return column ? `{${column}} : ${body}` : body;
}

/**
 * The FTS5 MATCH expression of a parsed query; `column` limits every term to one column
 * (`--titles-only`). Fully parenthesised, so FTS5's operator precedence never matters.
 */
export function toFtsMatch(query: ParsedQuery, column?: string): string {
  return compile(query, column);
}

/** The query with automatic prefix matching dropped from the words `isWord` says are whole words. */
export function withWholeWords(query: ParsedQuery, isWord: (term: SearchTerm) => boolean): ParsedQuery {
  const settle = (t: SearchTerm): SearchTerm => (t.auto && isWord(t) ? { text: t.text, phrase: false, prefix: false } : t);
  return { ...query, clauses: query.clauses.map((c) => c.map(settle)), excluded: query.excluded.map(settle) };
}

/** The single-term FTS5 query for a word, matched whole (by stem). */
export function wholeWordMatch(term: SearchTerm): string {
  return quote(term.text);
}

function compile(query: ParsedQuery, column?: string): string {
  const clauses = query.clauses.map((alternatives) =>
    alternatives.length === 1 ? compileTerm(alternatives[0], column) : `(${alternatives.map((t) => compileTerm(t, column)).join(' OR ')})`,
  );
  let expr = `(${clauses.join(' AND ')})`;
  // An excluded word is excluded anywhere in the memory, even with --titles-only.
  if (query.excluded.length) expr += ` NOT (${query.excluded.map((t) => compileTerm(t)).join(' OR ')})`;
  return expr;
}
