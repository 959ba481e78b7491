import type { Command } from 'commander';
import { fishScript } from './fish.js';
import { completionModel } from './model.js';
import { bashScript, zshScript } from './posix.js';

export type Shell = 'bash' | 'zsh' | 'fish';

/** The completion script of a shell for a program's command tree. */
export function completionScript(program: Command, shell: Shell): string {
  const model = completionModel(program);
  return shell === 'bash' ? bashScript(model) : shell === 'zsh' ? zshScript(model) : fishScript(model);
}

