import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FORMAT_VERSION } from '../../src/context/manifest.js';
import { UPGRADE_STEPS, needsUpgrade, upgradeContext } from '../../src/context/upgrade.js';
import { FIXTURES } from '../helpers/cli.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('upgrade steps', () => {
  it('has one step from every older format to the current one', () => {
    for (let format = 0; format < FORMAT_VERSION; format++) expect(typeof UPGRADE_STEPS[format], `step ${format}`).toBe('function');
  });

  it('knows which manifests need an upgrade', () => {
    expect(needsUpgrade(undefined)).toBe(true);
    expect(needsUpgrade({ format: 0, backend: 'markdown', created: '' })).toBe(true);
    expect(needsUpgrade({ format: FORMAT_VERSION, backend: 'markdown', created: '' })).toBe(false);
  });

  it('upgrades a 2.x directory to the current format, then does nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wm-unit-upgrade-'));
    dirs.push(dir);
    cpSync(join(FIXTURES, 'whitemagic-2x'), dir, { recursive: true });
    expect(await upgradeContext(dir)).toEqual({ from: 0, to: FORMAT_VERSION });
    const manifest = readFileSync(join(dir, 'whitemagic.json'), 'utf8');
    expect(await upgradeContext(dir)).toEqual({ from: FORMAT_VERSION, to: FORMAT_VERSION });
    expect(readFileSync(join(dir, 'whitemagic.json'), 'utf8')).toBe(manifest);
  });
});
