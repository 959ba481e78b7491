import { describe, expect, it } from 'vitest';
import type { ContextInfo } from '../../src/context/discovery.js';
import { relativeTime, renderContexts, renderOverview } from '../../src/output/contexts.js';
import { plainStyle } from '../../src/output/style.js';

const NOW = Date.parse('2024-05-10T12:00:00Z');

function info(over: Partial<ContextInfo>): ContextInfo {
  return {
    name: 'x',
    path: '/h/x',
    active: false,
    state: 'context',
    backend: 'markdown',
    format: 1,
    counts: { short_term: 1, long_term: 2, archive: 3 },
    total: 6,
    tags: 2,
    size: 2048,
    lastUsed: '2024-05-10T11:00:00Z',
    ...over,
  };
}

describe('relativeTime', () => {
  it('says how long ago, in words people use', () => {
    expect(relativeTime('2024-05-10T11:59:30Z', NOW)).toBe('just now');
    expect(relativeTime('2024-05-10T11:55:00Z', NOW)).toBe('5 min ago');
    expect(relativeTime('2024-05-10T09:00:00Z', NOW)).toBe('3 h ago');
    expect(relativeTime('2024-05-09T12:00:00Z', NOW)).toBe('1 day ago');
    expect(relativeTime('2024-05-01T12:00:00Z', NOW)).toBe('9 days ago');
    expect(relativeTime('2023-01-01T00:00:00Z', NOW)).toBe('2023-01-01');
  });
});

describe('renderContexts', () => {
  it('aligns columns, marks the active context and shows unreadable ones', () => {
    const text = renderContexts(
      [
        info({ name: 'alpha', active: true, description: 'First' }),
        info({ name: 'b', backend: 'sqlite', counts: null, total: null, tags: null, error: 'newer format', lastUsed: null }),
      ],
      '/h',
      plainStyle,
      NOW,
    );
    expect(text.split('\n')).toEqual([
      '   NAME   BACKEND   SHORT  LONG  ARCHIVE     SIZE  LAST USED  DESCRIPTION',
      '*  alpha  markdown      1     2        3  2.0 KiB  1 h ago    First',
      '   b      sqlite        ?     ?        ?  2.0 KiB  never      unreadable: newer format',
    ]);
  });

  it('names the home when it holds no context', () => {
    expect(renderContexts([], '/h', plainStyle)).toBe('no contexts in /h');
  });
});

describe('renderOverview', () => {
  it('prints totals and capacity', () => {
    const text = renderOverview(
      {
        home: '/h',
        active: 'x',
        totals: { contexts: 1, memories: 6, counts: { short_term: 1, long_term: 2, archive: 3 }, size: 2048, unreadable: 0 },
        capacity: { used: 1, maximum: 1, available: 0 },
        contexts: [],
      },
      plainStyle,
      NOW,
    );
    expect(text).toBe(
      [
        'home:      /h',
        'active:    x',
        'contexts:  1',
        'memories:  6 (short_term 1, long_term 2, archive 3)',
        'size:      2.0 KiB',
        'capacity:  1 used of 1, 0 available (full)',
      ].join('\n'),
    );
  });
});
