import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseQuery, toFtsMatch } from '../../src/search/query.js';

const match = (q: string, column?: string) => toFtsMatch(parseQuery(q), column);

describe('parseQuery', () => {
  it('makes every word required, long words prefix matches', () => {
    expect(parseQuery('docker volumes').clauses).toEqual([
      [{ text: 'docker', phrase: false, prefix: true, auto: true }],
      [{ text: 'volumes', phrase: false, prefix: true, auto: true }],
    ]);
    expect(parseQuery('go db').clauses.flat().map((t) => t.prefix)).toEqual([false, false]);
    expect(parseQuery('go*').clauses[0][0]).toEqual({ text: 'go', phrase: false, prefix: true });
  });

  it('reads phrases, exclusions, OR, AND, NOT', () => {
    const q = parseQuery('"connection pool" -pgbouncer nginx OR caddy AND tls NOT -"x y"');
    expect(q.clauses.map((c) => c.map((t) => t.text))).toEqual([['connection pool'], ['nginx', 'caddy'], ['tls']]);
    expect(q.clauses[0][0].phrase).toBe(true);
    expect(q.excluded.map((t) => t.text)).toEqual(['pgbouncer', 'x y']);
  });

  it('reads operators at the ends, and lower-case ones, as words', () => {
    expect(parseQuery('OR docker').clauses.map((c) => c[0].text)).toEqual(['OR', 'docker']);
    expect(parseQuery('docker OR').clauses.map((c) => c[0].text)).toEqual(['docker', 'OR']);
    expect(parseQuery('a or b').clauses.map((c) => c[0].text)).toEqual(['a', 'or', 'b']);
    expect(parseQuery('AND').clauses.map((c) => c[0].text)).toEqual(['AND']);
  });

  it('runs an unclosed quote to the end', () => {
    expect(parseQuery('"unclosed phrase').clauses[0][0]).toEqual({ text: 'unclosed phrase', phrase: true, prefix: false });
  });

  it('drops parts without letters or digits, and says which', () => {
    const q = parseQuery('rocket 🚀 * -- ++');
    expect(q.clauses.map((c) => c[0].text)).toEqual(['rocket']);
    expect(q.ignored).toEqual(['🚀', '*', '--', '++']);
  });

  it('refuses queries with nothing to find, as usage errors', () => {
    for (const q of ['', '   ', '*', '🚀', '"', '-docker', '-"a b"', '()']) {
      expect(() => parseQuery(q), q).toThrow(UsageError);
    }
    expect(() => parseQuery('-docker')).toThrow(/not only words to exclude/);
  });

  it('keeps a - inside a word and a lone - as text', () => {
    expect(parseQuery('foo-bar').clauses[0][0].text).toBe('foo-bar');
    expect(parseQuery('a - b').ignored).toEqual(['-']);
  });
});

describe('toFtsMatch', () => {
  it('quotes every term, so nothing typed is FTS5 syntax', () => {
    expect(match('docker -compose')).toBe('("docker"*) NOT ("compose"*)');
    expect(match('c++ NEAR(a) title:x ^y')).toBe('("c++" AND "NEAR(a)"* AND "title:x"* AND "^y")');
    expect(match('say "he said ""hi"""')).toBe('("say"* AND "he said" AND "hi")');
    expect(match('a"b')).toBe('("a" AND "b")');
  });

  it('groups OR alternatives and limits terms to a column, not exclusions', () => {
    expect(match('nginx OR apache tls', 'title')).toBe('(({title} : "nginx"* OR {title} : "apache"*) AND {title} : "tls"*)');
    expect(match('nginx -apache', 'title')).toBe('({title} : "nginx"*) NOT ("apache"*)');
  });

  it('lets a prefix word ending in y match the longer forms of its stem', () => {
    expect(match('deploy')).toBe('(("deploy"* OR "deplo"*))');
    expect(match('key')).toBe('("key"*)');
  });
});
