import { describe, expect, it } from 'vitest';
import { checkTier, cutChars, firstWords, stripMarkdown } from '../../src/commands/context-package.js';
import { renderContextPackage } from '../../src/output/context-package.js';

describe('stripMarkdown', () => {
  it('keeps the words and drops the markup', () => {
    const md = [
      '# Title here #',
      '',
      'Some **bold**, __strong__, *em* and _em_ text, ~~gone~~, `code` and a [link](http://x.test "t").',
      '![alt text](img.png) <b>html</b>',
      '> quoted line',
      '- item one',
      '* [x] done task',
      '1. numbered stays',
      '',
      '---',
      '',
      '| a | b |',
      '|---|:-:|',
      '| 1 | 2 |',
      '',
      '```ts',
      'const x_y = a * b; // **not bold**',
      '```',
      '[ref]: http://x.test',
    ].join('\n');
    expect(stripMarkdown(md)).toBe(
      [
        'Title here',
        '',
        'Some bold, strong, em and em text, gone, code and a link.',
        'alt text html',
        'quoted line',
        'item one',
        'done task',
        '1. numbered stays',
        '',
        'a | b',
        '1 | 2',
        '',
        'const x_y = a * b; // **not bold**',
      ].join('\n'),
    );
  });

  it('leaves snake_case, arithmetic and lone symbols alone', () => {
    expect(stripMarkdown('use snake_case_names and 2 * 3 * 4, price $5')).toBe('use snake_case_names and 2 * 3 * 4, price $5');
  });
});

describe('cutting', () => {
  it('firstWords keeps n words and marks a cut', () => {
    expect(firstWords('one two  three\n\nfour five', 3)).toEqual({ text: 'one two  three …', truncated: true });
    expect(firstWords('one two', 3)).toEqual({ text: 'one two', truncated: false });
    const eighty = Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ');
    expect(firstWords(eighty, 80).text.split(/\s+/).filter((w) => w !== '…')).toHaveLength(80);
  });

  it('cutChars stays within the limit, on a word boundary, without splitting an emoji', () => {
    const text = 'word '.repeat(400);
    const cut = cutChars(text, 1200);
    expect(cut.truncated).toBe(true);
    expect(cut.text.length).toBeLessThanOrEqual(1200);
    expect(cut.text.endsWith('word …')).toBe(true);
    expect(cutChars('short', 1200)).toEqual({ text: 'short', truncated: false });
    const emoji = cutChars('🚀'.repeat(10), 7);
    expect(emoji.text).toBe('🚀🚀 …');
    expect(emoji.text.length).toBeLessThanOrEqual(7);
  });
});

describe('tiers', () => {
  it('accepts 0, 1 and 2 as numbers or strings only', () => {
    expect([checkTier(0), checkTier('1'), checkTier(2)]).toEqual([0, 1, 2]);
    expect(() => checkTier(3)).toThrow(/unknown tier '3'/);
    expect(() => checkTier('1.5')).toThrow(/unknown tier/);
  });

  it('renders a stable text format', () => {
    const text = renderContextPackage({
      context: 'proj',
      path: '/x/proj',
      tier: 1,
      shortTerm: [{ id: 'id1', title: 'T1', tags: ['a', 'b'], created: '2024-05-01T10:00:00.000Z', updated: '2024-05-01T10:00:00.000Z', text: 'Body one', truncated: false }],
      longTerm: [],
      totals: { shortTerm: 3, longTerm: 0 },
    });
    expect(text).toBe(
      [
        '# whitemagic context: proj (tier 1)',
        '',
        'Short-term memories: 1 of 3. Long-term memories: 0 of 0. Newest first.',
        '',
        '## Short-term memories',
        '',
        '### T1',
        'id: id1 | created: 2024-05-01T10:00:00.000Z | tags: a, b',
        '',
        'Body one',
        '',
        '## Long-term memories',
        '',
        '(none)',
        '',
      ].join('\n'),
    );
  });
});
