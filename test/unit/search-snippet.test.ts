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
