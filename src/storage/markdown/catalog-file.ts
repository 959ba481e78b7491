/**
 * The name of a markdown context's catalog (catalog.ts), in a module of its own: the launcher
 * (src/cli/read-ahead.ts) names it to the native addon, and must not load the catalog's code.
 */
export const CATALOG_FILE = '.whitemagic-catalog.tsv';
