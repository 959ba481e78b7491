import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { dumpSimpleYaml } from '../../src/storage/markdown/yaml-dump.js';

const jsYaml = (data: object) => yaml.dump(data, { schema: yaml.CORE_SCHEMA, lineWidth: -1, noRefs: true, sortKeys: false });

/** Deterministic pseudo-random strings over an alphabet that includes every character YAML cares about. */
function* strings(count: number, seed = 7): Generator<string> {
  const alphabet = "abzAZ09eExXoObB_ .,()/+-'!?@=:#&*|>%`\"\\[]{}~^$;\té😀\n";
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31);
  for (let i = 0; i < count; i++) {
    let s = '';
    const length = 1 + (next() % 12);
    for (let j = 0; j < length; j++) s += [...alphabet][next() % [...alphabet].length];
    yield s;
  }
}

const EDGE_CASES = [
  'hello there', 'Hello World!', 'a: b', 'a:b', 'a #b', 'a#b', "it's", 'x - y', 'a, b', '(a)', 'a/b', 'e5', '1e5', '0x1f',
  '0o17', '0b101', '1_000', '12:30', '1:2:3', 'y', 'Y', 'n', 'yes', 'No', 'on', 'OFF', 'true', 'False', 'null', 'NULL', '~',
  '.inf', '-a', 'a-', 'a ', ' a', 'a  b', 'a:', '-', '?', '', '123', '1.5', '+1', '.5', '1e', 'e', '2026-11-21T10:23:26.932Z',
  '01m7yvfff9nw41415nr6s8pr62', '0000000000eeeeeeeeeeeeeeee', 'client-globex', 'c++', 'foo-bar', 'a=b', 'who?', 'me@host',
];

describe('dumpSimpleYaml', () => {
  it('writes what js-yaml writes, or leaves it to js-yaml', () => {
    let handled = 0;
    const all = [...EDGE_CASES, ...strings(20_000)];
    for (const text of all) {
      for (const data of [{ title: text }, { [text]: 'value' }, { tags: [text, 'x'] }]) {
        const fast = dumpSimpleYaml(data);
        if (fast === undefined) continue;
        handled++;
        expect(fast, JSON.stringify(data)).toBe(jsYaml(data));
      }
    }
    // The fast path must actually be taken for ordinary text, or it is no lever at all.
    expect(handled).toBeGreaterThan(1000);
  });

  it('handles a memory front matter as whitemagic writes it', () => {
    const front = { id: '01m7yvfff9nw41415nr6s8pr62', title: 'Deploy notes for api-gateway (v2)', tags: ['ops', 'client-globex'], created: '2026-11-21T10:23:26.932Z', updated: '2026-11-21T10:23:26.932Z' };
    expect(dumpSimpleYaml(front)).toBe(jsYaml(front));
    expect(dumpSimpleYaml({ ...front, tags: [] })).toBe(jsYaml({ ...front, tags: [] }));
  });

  it('declines numbers, booleans, nested values and text needing quotes', () => {
    for (const data of [{ n: 1 }, { b: true }, { o: { a: 'b' } }, { t: 'a: b' }, { t: 'yes' }, { t: '12:30' }, { tags: [1] }, { t: '' }]) {
      expect(dumpSimpleYaml(data as Record<string, unknown>), JSON.stringify(data)).toBeUndefined();
    }
  });
});
