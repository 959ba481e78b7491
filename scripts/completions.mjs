// Regenerates completions/ from the command tree (`whitemagic completion SHELL`); run after changing
// commands or options. A test fails when the shipped files drift from what the tool prints.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const files = { bash: 'whitemagic.bash', zsh: '_whitemagic', fish: 'whitemagic.fish' };
mkdirSync(join(root, 'completions'), { recursive: true });
for (const [shell, file] of Object.entries(files)) {
  const script = execFileSync(process.execPath, [join(root, 'bin', 'whitemagic.js'), 'completion', shell], { encoding: 'utf8' });
  writeFileSync(join(root, 'completions', file), script);
  console.log(`completions/${file}`);
}
