import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MEMORY_TYPES } from '../../memory/types.js';
import type { BackendFactory } from '../types.js';
import { MarkdownBackend, MEMORY_DIR } from './backend.js';
import { CATALOG_FILE } from './catalog.js';
import { indexFiles } from './search-index.js';

/** The markdown backend: the default, a directory of markdown files (SPEC section 2). */
const markdown: BackendFactory = {
  name: 'markdown',
  open(dir, options) {
    return new MarkdownBackend(dir, options.readonly);
  },
  create(dir) {
    for (const type of MEMORY_TYPES) mkdirSync(join(dir, MEMORY_DIR, type), { recursive: true, mode: 0o700 });
  },
  // The catalog goes with the memories it describes (a migration moves both): records keyed by
  // path, with stats a move of their folder keeps, stay true. The search index is rebuilt instead.
  dataPaths(dir) {
    return [join(dir, MEMORY_DIR), join(dir, CATALOG_FILE)];
  },
  derivedPaths: indexFiles,
};

export default markdown;
