import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { json } from '../helpers/cli.js';
import { expectOk } from './helpers.js';
import type { HostileCase, HostileEnv } from './hostile.test.js';

/**
 * Hostile backup archives (SPEC sections 7 and 9): a real backup of the case's context, unpacked,
 * given one hostile entry (listed in its manifest with the right hash, so that the path rule, not
 * the hash check, must refuse it), and packed again. restore-backup must refuse it and write nothing.
 */

type Entry = { path: string; type?: 'File' | 'SymbolicLink' | 'Link'; linkpath?: string; body?: string };

async function hostileArchive(e: HostileEnv, entry: Entry): Promise<string> {
  const tar = await import('tar');
  const made = e.h.run(['--base-dir', e.dir, '--json', 'backup', '--output', join(e.scratch, 'made') + '/']);
  expectOk(made, 'backup');
  const unpacked = join(e.scratch, 'unpacked');
  mkdirSync(unpacked, { recursive: true });
  await tar.x({ file: json(made).path, cwd: unpacked });
  const manifest = JSON.parse(readFileSync(join(unpacked, 'manifest.json'), 'utf8'));
  const body = Buffer.from(entry.body ?? '---\nid: hostile0001\ntitle: hostile\n---\nx\n');
  manifest.files.push({ path: entry.path, size: body.length, sha256: createHash('sha256').update(body).digest('hex') });
  writeFileSync(join(unpacked, 'manifest.json'), JSON.stringify(manifest));
  // Packed by hand: tar.c would refuse (or rewrite) the very entries this test needs.
  const { Header } = tar;
  const blocks: Buffer[] = [];
  const add = (path: string, data: Buffer, type: Entry['type'] = 'File', linkpath?: string) => {
    const header = new Header({ path, mode: 0o644, size: type === 'File' ? data.length : 0, mtime: new Date(), type, linkpath });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block);
    if (type === 'File') {
      blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
    }
  };
  add('manifest.json', readFileSync(join(unpacked, 'manifest.json')));
  for (const type of readdirSync(join(unpacked, 'memory'))) {
    for (const file of readdirSync(join(unpacked, 'memory', type))) add(`memory/${type}/${file}`, readFileSync(join(unpacked, 'memory', type, file)));
  }
  add(entry.path, body, entry.type ?? 'File', entry.linkpath);
  blocks.push(Buffer.alloc(1024));
  const { gzipSync } = await import('node:zlib');
  const file = join(e.scratch, 'hostile.tar.gz');
  writeFileSync(file, gzipSync(Buffer.concat(blocks)));
  return file;
}

function archiveCase(name: string, entry: Entry): HostileCase {
  let archive = '';
  return {
    name: `restore-backup refuses an archive entry: ${name}`,
    commands: ['backup', 'restore-backup'],
    async setup(e) {
      archive = await hostileArchive(e, entry);
    },
    args: (e) => ['--base-dir', e.dir, 'restore-backup', archive, '--on-conflict', 'replace'],
    code: 1,
    after: () => expect(existsSync(join(tmpdir(), 'whitemagic-escape.md'))).toBe(false),
  };
}

export const ARCHIVE_CASES: HostileCase[] = [
  archiveCase('an absolute path', { path: join(tmpdir(), 'whitemagic-escape.md') }),
  archiveCase('a .. path', { path: 'memory/short_term/../../../escape.md' }),
  archiveCase('a symlink', { path: 'memory/short_term/link.md', type: 'SymbolicLink', linkpath: '/etc/passwd' }),
  archiveCase('a hard link', { path: 'memory/short_term/hard.md', type: 'Link', linkpath: '/etc/passwd' }),
  archiveCase('a path outside memory/', { path: 'whitemagic.json' }),
];
