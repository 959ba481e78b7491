import { WhitemagicError } from '../../errors.js';
import type { BackendFactory } from '../types.js';

// Placeholder until the SQLite backend lands (issue: SQLite backend): refuses clearly.
const sqlite: BackendFactory = {
  name: 'sqlite',
  open() {
    throw new WhitemagicError('unsupported', 'the sqlite backend is not available in this build yet');
  },
  create() {
    throw new WhitemagicError('unsupported', 'the sqlite backend is not available in this build yet');
  },
  dataPaths(dir) {
    return [dir + '/whitemagic.db'];
  },
};
export default sqlite;
