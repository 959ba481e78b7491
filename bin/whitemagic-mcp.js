#!/usr/bin/env node
// The server is an ES module; this folder is CommonJS (bin/package.json).
import('../dist/mcp.js');
