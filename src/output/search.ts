import type { DoctorResult } from '../commands/doctor.js';
import type { FederatedHit } from '../commands/search-federated.js';
import { markMatches } from '../search/snippet.js';
import type { SearchHit } from '../search/types.js';
import type { Style } from './style.js';

/** Renderers of search, reindex and doctor: pure functions from results to text. */

type AnyHit = SearchHit & Partial<Pick<FederatedHit, 'context' | 'rawScore'>>;

/** A hit in --json: plain text with match offsets ([start, end) in UTF-16 code units), no markers. */
export function searchHitJson(h: AnyHit) {
  return {
    ...(h.context !== undefined ? { context: h.context } : {}),
    id: h.id,
    title: h.title,
    type: h.type,
    tags: h.tags,
    created: h.created,
    updated: h.updated,
    score: round(h.score),
    ...(h.rawScore !== undefined ? { rawScore: round(h.rawScore) } : {}),
    titleMatches: h.titleMarks.matches,
    snippet: h.snippet.text,
    matches: h.snippet.matches,
  };
}

/** A score for people: small BM25 scores (a few memories) stay visible instead of rounding to 0. */
export function formatScore(score: number): string {
  return score === 0 || Math.abs(score) >= 0.01 ? score.toFixed(3) : score.toExponential(2);
}

function round(n: number): number {
  return Number(n.toPrecision(6));
}

/** Matched words in brackets: for output without colour. */
export const bracketMark = (word: string) => `[${word}]`;

/** Off a terminal: one tab-separated line per hit ([context], score, id, title, tags, snippet), matches in brackets. */
export function renderSearchPlain(hits: AnyHit[]): string {
  return hits
    .map((h) =>
      [
        ...(h.context !== undefined ? [h.context] : []),
        formatScore(h.score),
        h.id,
        markMatches(h.titleMarks, bracketMark),
        h.tags.join(','),
        markMatches(h.snippet, bracketMark),
      ].join('\t'),
    )
    .join('\n');
}

/** On a terminal: each hit as a title line, a detail line and its snippet, matches highlighted. */
export function renderSearchTerminal(hits: AnyHit[], style: Style, total: number, highlight: (word: string) => string): string {
  if (!hits.length) return style.dim('no matches');
  const contextWidth = Math.max(0, ...hits.map((h) => h.context?.length ?? 0));
  const blocks = hits.map((h) => {
    const where = h.context !== undefined ? `${style.cyan(h.context.padEnd(contextWidth))}  ` : '';
    const head = `${where}${style.bold(markMatches(h.titleMarks, highlight))}  ${style.dim(formatScore(h.score))}`;
    const indent = ' '.repeat(h.context !== undefined ? contextWidth + 2 : 0);
    const detail = [style.yellow(h.id), h.type, h.created.slice(0, 10), h.tags.length ? style.cyan(h.tags.join(', ')) : '']
      .filter(Boolean)
      .join(style.dim(' · '));
    const lines = [head, `${indent}${detail}`];
    if (h.snippet.text) lines.push(`${indent}${markMatches(h.snippet, highlight)}`);
    return lines.join('\n');
  });
  const more = total > hits.length ? `\n\n${style.dim(`${hits.length} of ${total} matches shown`)}` : '';
  return blocks.join('\n\n') + more;
}

/** `doctor` for people: problems first, then the index. */
export function renderDoctor(r: DoctorResult, style: Style): string {
  const lines = [`${style.bold(r.context)} (${r.backend}) ${r.path}`];
  if (r.problems.length) {
    lines.push(style.red(`${r.problems.length} unreadable:`));
    for (const p of r.problems) lines.push(`  ${p.path}: ${p.message}`);
  } else {
    lines.push(`memories: ${style.green('all readable')}`);
  }
  const ix = r.index;
  if (!ix.present) lines.push('search index: not built yet (the first search builds it)');
  else if (ix.corrupt) lines.push(style.red(`search index: damaged (${ix.corrupt}); run 'whitemagic reindex'`));
  else if (ix.drift.length) {
    lines.push(style.red(`search index: ${ix.drift.length} out of step; run 'whitemagic reindex'`));
    for (const d of ix.drift) lines.push(`  ${d.kind}: ${d.path ?? d.id}`);
  } else lines.push(`search index: ${style.green('in step')}`);
  if (ix.present && ix.pending) lines.push(`  ${ix.pending} file change(s) not indexed yet; the next search takes them in`);
  return lines.join('\n');
}
