import type { ContextPackage, PackagedMemory } from '../commands/context-package.js';

/**
 * `context`: the package as stable plain text for an AI agent. The shape is part of the product:
 * a `#` header naming the context and tier, one `##` section per kind, one `###` entry per memory
 * with an `id | created | tags` line, then the text. Sections are present even when empty.
 */
export function renderContextPackage(p: ContextPackage): string {
  const lines = [
    `# whitemagic context: ${p.context} (tier ${p.tier})`,
    '',
    `Short-term memories: ${p.shortTerm.length} of ${p.totals.shortTerm}. Long-term memories: ${p.longTerm.length} of ${p.totals.longTerm}. Newest first.`,
  ];
  section(lines, 'Short-term memories', p.shortTerm);
  if (p.tier !== 0) section(lines, 'Long-term memories', p.longTerm);
  return lines.join('\n') + '\n';
}

function section(lines: string[], heading: string, memories: PackagedMemory[]): void {
  lines.push('', `## ${heading}`);
  if (!memories.length) lines.push('', '(none)');
  for (const m of memories) {
    const tags = m.tags.length ? m.tags.join(', ') : '-';
    lines.push('', `### ${m.title}`, `id: ${m.id} | created: ${m.created} | tags: ${tags}`);
    if (m.text) lines.push('', m.text);
  }
}
