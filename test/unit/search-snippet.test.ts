import { describe, expect, it } from 'vitest';
import { MARK_CLOSE as C, MARK_OPEN as O, markMatches, parseMarked, pickSnippet } from '../../src/search/snippet.js';

const words = (m: { text: string; matches: Array<[number, number]> }) => m.matches.map(([s, e]) => m.text.slice(s, e));

describe('parseMarked', () => {
  it('gives plain one-line text and the offsets of marked words', () => {
    const m = parseMarked(`Use ${O}docker${C}\n\n  compose ${O}volumes${C}.`);
    expect(m.text).toBe('Use docker compose volumes.');
    expect(m.matches).toEqual([
      [4, 10],
      [19, 26],
    ]);
  });

  it('counts offsets in UTF-16 code units, as JavaScript strings do', () => {
    const m = parseMarked(`🚀 ${O}café${C}`);
    expect(words(m)).toEqual(['café']);
    expect(m.matches[0][0]).toBe(3);
  });
});

describe('pickSnippet', () => {
  const filler = (n: number) => Array.from({ length: n }, (_, i) => `word${i}`).join(' ');

  it('keeps short text whole', () => {
    const m = parseMarked(`short ${O}text${C}`);
    expect(pickSnippet(m)).toEqual(m);
  });

  it('shows the window with the most matches, cut at spaces, with ellipses', () => {
    const text = `${filler(40)} ${O}alpha${C} x ${O}beta${C} ${filler(3)} ${O}alpha${C} ${filler(60)}`;
    const s = pickSnippet(parseMarked(text), 80);
    expect(s.text.startsWith('…')).toBe(true);
    expect(s.text.endsWith('…')).toBe(true);
    expect(words(s)).toEqual(['alpha', 'beta', 'alpha']);
    expect(s.text.length).toBeLessThanOrEqual(80 + 2);
    expect(s.text).not.toMatch(/…\S*wor…/);
  });

  it('starts at the beginning when nothing in the body matched', () => {
    const s = pickSnippet(parseMarked(filler(100)), 60);
    expect(s.text.startsWith('word0 ')).toBe(true);
    expect(s.matches).toEqual([]);
  });
});

describe('markMatches', () => {
  it('wraps each match', () => {
    expect(markMatches(parseMarked(`a ${O}b${C} c ${O}d${C}`), (w) => `[${w}]`)).toBe('a [b] c [d]');
  });
});

describe('parseMarked against the character-by-character rule', () => {
  /** The rule as first written: one character at a time. */
  function reference(marked: string) {
    let text = '';
    const matches: Array<[number, number]> = [];
    let open = -1;
    let space = false;
    for (const ch of marked) {
      if (ch === O) {
        if (space && text) text += ' ';
        space = false;
        open = text.length;
      } else if (ch === C) {
        if (open >= 0 && text.length > open) matches.push([open, text.length]);
        open = -1;
      } else if (/\s/.test(ch)) space = true;
      else {
        if (space && text) text += ' ';
        space = false;
        text += ch;
      }
    }
    return { text, matches };
  }

  it('agrees on generated text with markers, every kind of white space and astral characters', () => {
    const alphabet = ['a', 'b', 'é', '🚀', ' ', '  ', '\n', '\t', '\u00a0', '\u2028', O, C, O, C, 'word', '.'];
    let state = 11;
    const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 5000; i++) {
      let s = '';
      for (let j = next() % 24; j > 0; j--) s += alphabet[next() % alphabet.length];
      expect(parseMarked(s), JSON.stringify(s)).toEqual(reference(s));
    }
  });
});
