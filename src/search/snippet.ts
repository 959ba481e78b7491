import type { MarkedText } from './types.js';

/**
 * Snippets: the index marks matched words with two control characters (which never occur in
 * stored text: titles refuse them, bodies are shown as one line here); this module turns that into
 * plain text plus offsets, and picks the part of a long body worth showing.
 */

/** Put by the index before and after each matched word. */
export const MARK_OPEN = '\u0002';
export const MARK_CLOSE = '\u0003';

/** About how many characters a snippet shows. */
export const SNIPPET_LENGTH = 160;
/** How much text a snippet keeps before its first match. */
const LEAD = 40;
const ELLIPSIS = '…';

/**
 * Plain one-line text and match offsets from text carrying the index's markers: runs of white
 * space become one space, none at either end. A command runs this code cold on twenty bodies of a
 * kilobyte or more, so the white space is squeezed by one `replace` of the whole text (V8 runs a
 * global replace in its own code) and the pieces between markers are then taken whole: splitting
 * each piece into words was 3,000 strings and about 1 ms of a search process, this about 0.4.
 */
export function parseMarked(marked: string): MarkedText {
  let text = '';
  const matches: Array<[number, number]> = [];
  let open = -1;
  // White space was seen since the last word: one space goes before the next word, if any.
  let space = false;
  for (const part of marked.replace(WHITE_SPACE, ' ').split(MARKERS)) {
    if (part === MARK_OPEN) {
      if (space && text) text += ' ';
      space = false;
      open = text.length;
    } else if (part === MARK_CLOSE) {
      if (open >= 0 && text.length > open) matches.push([open, text.length]);
      open = -1;
    } else if (part) {
      // Only single spaces are left: one at either end is white space before or after the words.
      const start = part.charCodeAt(0) === SPACE ? 1 : 0;
      const end = part.length > start && part.charCodeAt(part.length - 1) === SPACE ? part.length - 1 : part.length;
      if (start) space = true;
      if (end > start) {
        if (space && text) text += ' ';
        text += start === 0 && end === part.length ? part : part.slice(start, end);
        space = false;
      }
      if (end < part.length) space = true;
    }
  }
  return { text, matches };
}

const MARKERS = new RegExp(`([${MARK_OPEN}${MARK_CLOSE}])`);
const WHITE_SPACE = /\s+/g;
const SPACE = 0x20;

/**
 * The part of `full` worth showing: the window of about SNIPPET_LENGTH characters holding the
 * most matches (the earliest such), cut at spaces, with an ellipsis where text was cut.
 */
export function pickSnippet(full: MarkedText, length = SNIPPET_LENGTH): MarkedText {
  const { text, matches } = full;
  if (text.length <= length) return full;
  let bestStart = 0;
  let bestCount = 0;
  for (let i = 0; i < matches.length; i++) {
    const start = Math.max(0, matches[i][0] - LEAD);
    let count = 0;
    for (let j = i; j < matches.length && matches[j][1] <= start + length; j++) count++;
    if (count > bestCount) {
      bestCount = count;
      bestStart = start;
    }
  }
  let start = bestStart;
  // Start at a word: after the nearest space at or before `start` (unless that is far back).
  if (start > 0) {
    const space = text.lastIndexOf(' ', start);
    start = space >= 0 && start - space < 20 ? space + 1 : start;
  }
  let end = Math.min(text.length, start + length);
  if (end < text.length) {
    const space = text.lastIndexOf(' ', end);
    if (space > start + length / 2) end = space;
    // Never cut through a match.
    for (const [s, e] of matches) if (s < end && e > end) end = e;
  }
  const prefix = start > 0 ? ELLIPSIS : '';
  const suffix = end < text.length ? ELLIPSIS : '';
  const shift = prefix.length - start;
  return {
    text: prefix + text.slice(start, end) + suffix,
    matches: matches.filter(([s, e]) => s >= start && e <= end).map(([s, e]) => [s + shift, e + shift] as [number, number]),
  };
}

/** Marks every match of a MarkedText with `mark` (colour on a terminal, brackets elsewhere). */
export function markMatches(marked: MarkedText, mark: (word: string) => string): string {
  let out = '';
  let at = 0;
  for (const [s, e] of marked.matches) {
    out += marked.text.slice(at, s) + mark(marked.text.slice(s, e));
    at = e;
  }
  return out + marked.text.slice(at);
}
