import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { newId } from '../../src/memory/ids.js';
import type { Memory, MemoryType } from '../../src/memory/types.js';
import { FIXTURES } from '../helpers/cli.js';

/** The relevance fixture: realistic memories and queries with the memory each should find. */
export interface FixtureQuery {
  query: string;
  /** Title of the memory that should come first. */
  expect: string;
}

interface FixtureMemory {
  title: string;
  type: MemoryType;
  tags: string[];
  created: string;
  content: string;
}

/** The fixture's memories, with ids made from their creation times. */
export function fixtureMemories(): Memory[] {
  const raw = JSON.parse(readFileSync(join(FIXTURES, 'search', 'memories.json'), 'utf8')) as FixtureMemory[];
  return raw.map((m) => ({ ...m, id: newId(Date.parse(m.created)), updated: m.created, meta: {} }));
}

export function fixtureQueries(): FixtureQuery[] {
  return JSON.parse(readFileSync(join(FIXTURES, 'search', 'queries.json'), 'utf8')) as FixtureQuery[];
}
