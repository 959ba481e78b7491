import { describe, expect, it } from 'vitest';
import { bracketMark, formatScore, renderDoctor, renderSearchPlain, renderSearchTerminal, searchHitJson } from '../../src/output/search.js';
import { plainStyle } from '../../src/output/style.js';
import type { SearchHit } from '../../src/search/types.js';

const hit = (over: Partial<SearchHit> = {}): SearchHit => ({
  id: '01abc',
  title: 'Docker volumes',
  type: 'short_term',
  tags: ['docker', 'storage'],
  created: '2024-05-01T10:00:00.000Z',
  updated: '2024-05-01T10:00:00.000Z',
  score: 3.14159,
  titleMarks: { text: 'Docker volumes', matches: [[7, 14]] },
  snippet: { text: 'Named volumes persist.', matches: [[6, 13]] },
  ...over,
});

describe('search renderers', () => {
  it('plain: tab-separated, matches in brackets, context first when federated', () => {
    expect(renderSearchPlain([hit()])).toBe('3.142\t01abc\tDocker [volumes]\tdocker,storage\tNamed [volumes] persist.');
    expect(renderSearchPlain([{ ...hit({ score: 1 }), context: 'work', rawScore: 3 }]).split('\t')[0]).toBe('work');
  });

  it('terminal: title line, details, snippet; a count when cut', () => {
    const text = renderSearchTerminal([hit()], plainStyle, 5, bracketMark);
    expect(text).toBe(
      'Docker [volumes]  3.142\n01abc · short_term · 2024-05-01 · docker, storage\nNamed [volumes] persist.\n\n1 of 5 matches shown',
    );
    expect(renderSearchTerminal([], plainStyle, 0, bracketMark)).toBe('no matches');
  });

  it('json: plain text and offsets, rounded scores, context when federated', () => {
    expect(searchHitJson(hit())).toEqual({
      id: '01abc',
      title: 'Docker volumes',
      type: 'short_term',
      tags: ['docker', 'storage'],
      created: '2024-05-01T10:00:00.000Z',
      updated: '2024-05-01T10:00:00.000Z',
      score: 3.14159,
      titleMatches: [[7, 14]],
      snippet: 'Named volumes persist.',
      matches: [[6, 13]],
    });
    expect(searchHitJson({ ...hit(), context: 'work', rawScore: 0.000001234567 })).toMatchObject({ context: 'work', rawScore: 0.00000123457 });
  });

  it('keeps tiny scores visible', () => {
    expect(formatScore(0.0000027)).toBe('2.70e-6');
    expect(formatScore(1)).toBe('1.000');
  });

  it('doctor: problems, index state, pending changes', () => {
    const text = renderDoctor(
      {
        context: 'work',
        path: '/x/work',
        backend: 'markdown',
        problems: [{ path: 'memory/short_term/bad.md', message: 'cannot parse front matter' }],
        index: { present: true, pending: 2, drift: [{ id: 'abc', kind: 'stale', path: 'memory/short_term/a.md' }] },
        ok: false,
      },
      plainStyle,
    );
    expect(text.split('\n')).toEqual([
      'work (markdown) /x/work',
      '1 unreadable:',
      '  memory/short_term/bad.md: cannot parse front matter',
      "search index: 1 out of step; run 'whitemagic reindex'",
      '  stale: memory/short_term/a.md',
      '  2 file change(s) not indexed yet; the next search takes them in',
    ]);
  });
});
