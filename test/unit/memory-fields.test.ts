import { describe, expect, it } from 'vitest';
import { checkTitle, normaliseContent, normaliseTags, parseMetaPairs, slugify, tagsFromFrontMatter } from '../../src/memory/fields.js';
import { derivedId, idTime, newId } from '../../src/memory/ids.js';
import { RESERVED_KEYS } from '../../src/memory/types.js';
import { parseDateArg, parseSpan } from '../../src/util/dates.js';
import { UsageError } from '../../src/errors.js';

describe('ids', () => {
  it('sort by creation time and stay unique within a millisecond', () => {
    const t = Date.UTC(2025, 4, 6, 7, 8, 9);
    const ids = Array.from({ length: 1000 }, () => newId(t));
    expect(new Set(ids).size).toBe(1000);
    expect([...ids].sort()).toEqual(ids);
    expect(newId(t + 1) > ids[999]).toBe(true);
    expect(idTime(ids[0])).toBe(t);
    expect(ids[0]).toMatch(/^[0-9a-hjkmnp-tv-z]{26}$/);
  });

  it('derive a stable id from a file name and its created time', () => {
    const a = derivedId('note.md', '2024-01-01T00:00:00.000Z');
    expect(derivedId('note.md', '2024-01-01T00:00:00.000Z')).toBe(a);
    expect(derivedId('other.md', '2024-01-01T00:00:00.000Z')).not.toBe(a);
    expect(idTime(a)).toBe(Date.UTC(2024, 0, 1));
    expect(derivedId('note.md')).toMatch(/^0000000000/);
  });
});

describe('fields', () => {
  it('normalise tags: lowercase, trimmed, de-duplicated, empty dropped, order kept', () => {
    expect(normaliseTags([' B', 'a', 'b', '', 'A '])).toEqual(['b', 'a']);
    expect(tagsFromFrontMatter('python, Debugging , ,async')).toEqual(['python', 'debugging', 'async']);
    expect(tagsFromFrontMatter(['x', 3, true, { a: 1 }, null])).toEqual(['x', '3', 'true']);
    expect(tagsFromFrontMatter({ a: 1 })).toEqual([]);
    expect(tagsFromFrontMatter(undefined)).toEqual([]);
  });

  it('check titles', () => {
    expect(checkTitle('  padded  ')).toBe('padded');
    for (const bad of ['', '   ', 'a\nb', 'bell\u0007', 'x'.repeat(501)]) expect(() => checkTitle(bad)).toThrow(UsageError);
  });

  it('normalise content so that a write then a read gives it back', () => {
    expect(normaliseContent('\n\n  \nbody\r\nline  \n\n')).toBe('body\nline');
    expect(normaliseContent(normaliseContent('  indented first\n'))).toBe('  indented first');
  });

  it('slug titles for file names', () => {
    expect(slugify('Hello, World!')).toBe('hello-world');
    expect(slugify('Ünïcödé')).toBe('unicode');
    expect(slugify('日本語')).toBe('memory');
    expect(slugify('../../etc/passwd')).toBe('etc-passwd');
    expect(slugify('x'.repeat(100)).length).toBe(48);
  });

  it('parse --meta pairs and refuse reserved or odd keys', () => {
    expect(parseMetaPairs(['a=1', 'b.c=x=y', 'e='], RESERVED_KEYS)).toEqual({ a: '1', 'b.c': 'x=y', e: '' });
    for (const bad of ['=x', 'novalue', 'id=1', 'bad key=1', '../x=1']) expect(() => parseMetaPairs([bad], RESERVED_KEYS)).toThrow(UsageError);
  });
});

describe('dates', () => {
  const now = Date.UTC(2025, 0, 10);
  it('read spans and ISO dates', () => {
    expect(parseSpan('7d')).toBe(7 * 86_400_000);
    expect(parseSpan('2w')).toBe(14 * 86_400_000);
    expect(parseSpan('12h')).toBe(12 * 3_600_000);
    expect(parseSpan('soon')).toBeUndefined();
    expect(parseDateArg('1d', '--since', now).toISOString()).toBe('2025-01-09T00:00:00.000Z');
    expect(parseDateArg('2024-05-01', '--since').toISOString()).toBe('2024-05-01T00:00:00.000Z');
    expect(parseDateArg('2024-05-01T10:00:00Z', '--since').toISOString()).toBe('2024-05-01T10:00:00.000Z');
    for (const bad of ['yesterday', '2024-13-45', '', '7x']) expect(() => parseDateArg(bad, '--since')).toThrow(/--since/);
  });
});
