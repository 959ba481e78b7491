import type { Context } from '../context/context.js';
import { UsageError } from '../errors.js';
import type { MemoryHeader, MemoryType } from '../memory/types.js';
import type { StorageBackend } from '../storage/types.js';

/** How much of a context an AI agent is given (SPEC section 4, `context --tier`). */
export type ContextTier = 0 | 1 | 2;
export const CONTEXT_TIERS: readonly ContextTier[] = [0, 1, 2];

/** How one tier cuts a kind of memory: how many, and by words or by characters. */
interface Cut {
  count: number;
  words?: number;
  chars?: number;
}

/** SPEC section 4: what each tier holds. */
export const TIER_RULES: Record<ContextTier, { shortTerm: Cut; longTerm: Cut }> = {
  0: { shortTerm: { count: 2, words: 80 }, longTerm: { count: 0 } },
  1: { shortTerm: { count: 5, chars: 1200 }, longTerm: { count: 2, words: 80 } },
  2: { shortTerm: { count: 10, chars: 2000 }, longTerm: { count: 5, chars: 2000 } },
};

export interface PackagedMemory {
  id: string;
  title: string;
  tags: string[];
  created: string;
  updated: string;
  /** The body as plain text (markdown stripped), cut to the tier's size. */
  text: string;
  /** The text was cut. */
  truncated: boolean;
}

export interface ContextPackage {
  context: string;
  path: string;
  tier: ContextTier;
  /** Newest first. */
  shortTerm: PackagedMemory[];
  /** Newest first. */
  longTerm: PackagedMemory[];
  /** How many short-term and long-term memories the context has in all. */
  totals: { shortTerm: number; longTerm: number };
}

/** A tier given by the user (`--tier`, the MCP `tier` argument), or a usage error. */
export function checkTier(value: unknown): ContextTier {
  const n = typeof value === 'string' && /^\d$/.test(value.trim()) ? Number(value) : value;
  if (n === 0 || n === 1 || n === 2) return n;
  throw new UsageError(`unknown tier '${String(value)}'`, 'use 0, 1 or 2');
}

/** The context package of a tier: the newest memories, markdown stripped, cut to size. */
export async function contextPackage(ctx: Context, tier: ContextTier = 1): Promise<ContextPackage> {
  const rules = TIER_RULES[checkTier(tier)];
  const storage = await ctx.open();
  const short = pack(storage, 'short_term', rules.shortTerm);
  const long = pack(storage, 'long_term', rules.longTerm);
  return {
    context: ctx.name,
    path: ctx.path,
    tier,
    shortTerm: short.memories,
    longTerm: long.memories,
    totals: { shortTerm: short.total, longTerm: long.total },
  };
}

function pack(storage: StorageBackend, type: MemoryType, cut: Cut): { memories: PackagedMemory[]; total: number } {
  const listed = storage.list({ types: [type], sort: 'created', limit: Math.max(cut.count, 1) });
  const headers: MemoryHeader[] = cut.count ? listed.memories : [];
  const memories: PackagedMemory[] = [];
  for (const h of headers) {
    // A memory removed between list and read is simply left out.
    const memory = storage.read(h.id);
    if (!memory) continue;
    const plain = stripMarkdown(memory.content);
    const cutText = cut.words !== undefined ? firstWords(plain, cut.words) : cutChars(plain, cut.chars ?? Infinity);
    memories.push({
      id: h.id,
      title: h.title,
      tags: h.tags,
      created: h.created,
      updated: h.updated,
      text: cutText.text,
      truncated: cutText.truncated,
    });
  }
  return { memories, total: listed.total };
}

/**
 * Markdown as plain text for an agent: headings, emphasis, code fences, links, images, quotes, HTML
 * tags and list bullets go; words, line structure and code contents stay.
 */
export function stripMarkdown(markdown: string): string {
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  let inFence = false;
  for (const raw of lines) {
    if (/^\s*(```|~~~)/.test(raw)) {
      inFence = !inFence;
      continue;
    }
    if (inFence) {
      out.push(raw);
      continue;
    }
    let line = raw;
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) continue; // horizontal rule
    if (/^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)+\|?\s*$/.test(line) && line.includes('|')) continue; // table separator
    line = line
      .replace(/^\s{0,3}#{1,6}\s+/, '')
      .replace(/\s+#+\s*$/, '')
      .replace(/^(\s*>)+\s?/, '')
      .replace(/^(\s*)[-*+]\s+\[[ xX]\]\s+/, '$1')
      .replace(/^(\s*)[-*+]\s+/, '$1')
      .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
      .replace(/\[([^\]]+)\]\[[^\]]*\]/g, '$1')
      .replace(/^\s*\[[^\]]+\]:\s+\S+.*$/, '')
      .replace(/<\/?[A-Za-z][^>]*>/g, '')
      .replace(/`+([^`]+)`+/g, '$1')
      .replace(/(\*\*|__)(?=\S)(.+?)(?<=\S)\1/g, '$2')
      .replace(/(^|[^\w*])\*(?=\S)(.+?)(?<=\S)\*(?!\w)/g, '$1$2')
      .replace(/(^|[^\w])_(?=\S)(.+?)(?<=\S)_(?!\w)/g, '$1$2')
      .replace(/~~(?=\S)(.+?)(?<=\S)~~/g, '$1')
      .replace(/^\s*\|(.*)\|\s*$/, (_m, cells: string) => cells.split('|').map((c) => c.trim()).join(' | '));
    out.push(line.replace(/\s+$/, ''));
  }
  return out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** The first `n` words of a text, white space between them kept as single spaces or line breaks. */
export function firstWords(text: string, n: number): { text: string; truncated: boolean } {
  const words = text.split(/\s+/).filter(Boolean);
  if (words.length <= n) return { text, truncated: false };
  // Cut the original text after the n-th word, so paragraph breaks survive.
  const re = /\S+/g;
  let end = 0;
  for (let i = 0; i < n; i++) {
    const m = re.exec(text);
    if (!m) break;
    end = m.index + m[0].length;
  }
  return { text: text.slice(0, end) + ' …', truncated: true };
}

/** A text cut to at most `max` characters (mark included), on a word boundary when one is near, marked with `…`. */
export function cutChars(text: string, max: number): { text: string; truncated: boolean } {
  if (text.length <= max) return { text, truncated: false };
  const room = Math.max(0, max - 2); // the ' …' mark counts
  let cut = text.slice(0, room);
  const space = cut.search(/\s\S*$/);
  if (space > room * 0.8) cut = cut.slice(0, space);
  // Never leave half of a surrogate pair (an emoji) at the end.
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return { text: cut.replace(/\s+$/, '') + ' …', truncated: true };
}
