import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { InvalidInputError, UsageError, WhitemagicError } from '../errors.js';
import { normaliseTags } from '../memory/fields.js';
import { RESERVED_KEYS, isMemoryType, type MemoryType } from '../memory/types.js';

/** What the person wrote in the editor. */
export interface EditedMemory {
  title: string;
  content: string;
  tags: string[];
  type?: MemoryType;
  meta: Record<string, unknown>;
}

export interface EditorTemplate {
  title?: string;
  content?: string;
  tags?: string[];
  type?: MemoryType;
  meta?: Record<string, unknown>;
  /** A comment line at the top, such as the id being edited. */
  note?: string;
}

/** The editor command as git chooses it: $VISUAL, then $EDITOR, then vi. */
export function editorCommand(env: NodeJS.ProcessEnv = process.env): string {
  return env.VISUAL?.trim() || env.EDITOR?.trim() || 'vi';
}

/** The text the editor opens: front matter with the fields, a comment saying how to cancel, the body. */
export function renderTemplate(t: EditorTemplate): string {
  const front: Record<string, unknown> = { title: t.title ?? '', type: t.type ?? 'short_term', tags: normaliseTags(t.tags ?? []), ...(t.meta ?? {}) };
  const head = yaml.dump(front, { schema: yaml.CORE_SCHEMA, lineWidth: -1, noRefs: true, flowLevel: 1 });
  const notes = [
    ...(t.note ? [`# ${t.note}`] : []),
    '# Write the title and tags here and the body below the closing ---.',
    '# Saving an empty file (or an empty title and body) cancels.',
  ];
  return `---\n${notes.join('\n')}\n${head}---\n\n${t.content ? `${t.content}\n` : ''}`;
}

/**
 * Reads what came back from the editor; undefined when the person cancelled (an empty file, or an
 * empty title and body). A malformed front matter is an error that names the saved file.
 */
export function parseEdited(text: string, savedAt: string): EditedMemory | undefined {
  if (!text.trim()) return undefined;
  const m = /^\uFEFF?---[^\n]*\n([\s\S]*?)^---[ \t]*$\n?([\s\S]*)$/m.exec(text);
  if (!m || !text.replace(/^\uFEFF/, '').startsWith('---')) {
    throw new InvalidInputError('the edited file has no front matter (--- lines)', `your text is kept in ${savedAt}`);
  }
  let data: unknown;
  try {
    data = yaml.load(m[1], { schema: yaml.CORE_SCHEMA }) ?? {};
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new InvalidInputError(`the edited front matter is not valid YAML: ${reason}`, `your text is kept in ${savedAt}`);
  }
  if (typeof data !== 'object' || Array.isArray(data) || data === null) {
    throw new InvalidInputError('the edited front matter is not a list of keys', `your text is kept in ${savedAt}`);
  }
  const d = data as Record<string, unknown>;
  const title = d.title === null || d.title === undefined ? '' : String(d.title).trim();
  const content = m[2];
  if (!title && !content.trim()) return undefined;
  if (!title) throw new UsageError('the title is empty', `write one in the front matter; your text is kept in ${savedAt}`);
  let type: MemoryType | undefined;
  if (d.type !== undefined && d.type !== null && d.type !== '') {
    if (typeof d.type !== 'string' || !isMemoryType(d.type)) {
      throw new UsageError(`unknown type '${String(d.type)}'`, `use short_term or long_term; your text is kept in ${savedAt}`);
    }
    type = d.type;
  }
  const rawTags = d.tags;
  const tags = Array.isArray(rawTags) ? normaliseTags(rawTags) : typeof rawTags === 'string' ? normaliseTags(rawTags.split(',')) : [];
  const meta: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(d)) if (!RESERVED_KEYS.has(key)) meta[key] = value;
  return { title, content, tags, type, meta };
}

/**
 * A file opened in the editor the way git does it: the command runs through the shell, so it may
 * carry arguments (`code --wait`), with the file as its last argument. The person's text is kept
 * in the file until `done` removes it, so a failure afterwards loses nothing.
 */
export function editText(initial: string, env: NodeJS.ProcessEnv = process.env): { text: string; path: string; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'whitemagic-edit-'));
  const path = join(dir, 'MEMORY.md');
  writeFileSync(path, initial, { mode: 0o600 });
  const editor = editorCommand(env);
  const r = spawnSync('/bin/sh', ['-c', `${editor} "$@"`, editor, path], { stdio: 'inherit', env });
  if (r.error) throw new WhitemagicError('io', `cannot run the editor '${editor}': ${r.error.message}`, { hint: 'set VISUAL or EDITOR' });
  if (r.status !== 0) {
    throw new WhitemagicError('io', `the editor '${editor}' exited with ${r.status ?? r.signal}`, {
      hint: `nothing was saved; your text is in ${path}`,
    });
  }
  return { text: readFileSync(path, 'utf8'), path, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The error of a cancelled edit, like git's "Aborting commit due to empty commit message". */
export function cancelled(): WhitemagicError {
  return new InvalidInputError('cancelled: the edited memory is empty', 'nothing was saved');
}
