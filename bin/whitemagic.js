#!/usr/bin/env node
// CommonJS (bin/package.json): its loader starts far faster than the ES module loader.
require('../dist/cli.cjs');
