import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, makeHome, type Home } from '../helpers/cli.js';
import { installBin, missingOutsideCi, requireShell, runShell } from '../helpers/shells.js';

const COMPLETIONS = join(ROOT, 'completions');
const FILES = { bash: 'whitemagic.bash', zsh: '_whitemagic', fish: 'whitemagic.fish' } as const;

let h: Home;
let env: NodeJS.ProcessEnv;
let firstId: string;
beforeAll(() => {
  h = makeHome('wm-completion-');
  env = { ...h.env, PATH: installBin(h.home), TERM: 'xterm' };
  const a = h.run(['create', '--title', 'One', '--content', 'x', '--tag', 'alpha', '--tag', 'beta']);
  const b = h.run(['--context', 'work', 'create', '--title', 'Two', '--content', 'y', '--tag', 'gamma']);
  expect(a.code + b.code).toBe(0);
  firstId = a.stdout.trim();
});
afterAll(() => h.cleanup());

describe('completion scripts', () => {
  it.each(Object.entries(FILES))('completions/ holds what `completion %s` prints (run `npm run completions` after changing commands)', (shell, file) => {
    const r = h.run(['completion', shell]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(join(COMPLETIONS, file), 'utf8')).toBe(r.stdout);
  });

  it('refuses an unknown shell', () => {
    const r = h.run(['completion', 'tcsh']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^whitemagic: error: .*'tcsh' is invalid.*Allowed choices are bash, zsh, fish/);
    expect(r.stdout).toBe('');
  });

  it('__complete lists context names, tags and ids (with titles) of the context asked for', () => {
    const contexts = h.run(['__complete', 'contexts']);
    expect([contexts.code, contexts.stderr, contexts.stdout]).toEqual([0, '', 'default\nwork\n']);
    const tags = h.run(['__complete', 'tags']);
    expect([tags.code, tags.stdout]).toEqual([0, 'alpha\nbeta\n']);
    const workTags = h.run(['--context', 'work', '__complete', 'tags']);
    expect([workTags.code, workTags.stdout]).toEqual([0, 'gamma\n']);
    const ids = h.run(['__complete', 'ids']);
    expect([ids.code, ids.stdout]).toEqual([0, `${firstId}\tOne\n`]);
    const hidden = h.run(['--help']);
    expect(hidden.stdout).not.toContain('__complete');
  });
});

describe('in real bash', () => {
  const complete = (line: string[]): string[] => {
    const words = line.map((w) => `'${w}'`).join(' ');
    const script = `set -e
source ${JSON.stringify(join(COMPLETIONS, FILES.bash))}
complete -p whitemagic
COMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=()
_whitemagic
printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = runShell('bash', ['--norc', '-c', script], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [registration, ...replies] = r.stdout.trimEnd().split('\n');
    expect(registration).toBe('complete -F _whitemagic whitemagic');
    return replies.filter(Boolean);
  };

  it('completes commands, flags and their choices', () => {
    expect(complete(['whitemagic', 'cr'])).toEqual(['create']);
    expect(complete(['whitemagic', ''])).toEqual(expect.arrayContaining(['create', 'list', 'context', 'completion', 'mcp', 'edit']));
    expect(complete(['whitemagic', ''])).not.toContain('__complete');
    expect(complete(['whitemagic', 'create', '--t'])).toEqual(['--title', '--type', '--tag']);
    expect(complete(['whitemagic', 'ls', '--so'])).toEqual(['--sort']);
    expect(complete(['whitemagic', 'create', '--type', ''])).toEqual(['short_term', 'long_term']);
    expect(complete(['whitemagic', '--backend', ''])).toEqual(['markdown', 'sqlite']);
    expect(complete(['whitemagic', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
    expect(complete(['whitemagic', 'context', '--tier', ''])).toEqual(['0', '1', '2']);
  });

  it('asks the tool for context names, tags and ids, in the context the line names', () => {
    expect(complete(['whitemagic', '--context', ''])).toEqual(['default', 'work']);
    expect(complete(['whitemagic', 'list', '--tag', ''])).toEqual(['alpha', 'beta']);
    expect(complete(['whitemagic', 'list', '--tag', '=', 'b'])).toEqual(['beta']);
    expect(complete(['whitemagic', '--context', 'work', 'update', 'x', '--add-tag', ''])).toEqual(['gamma']);
    expect(complete(['whitemagic', 'show', ''])).toEqual([firstId]);
    expect(complete(['whitemagic', 'show', firstId, ''])).toEqual([]);
  });
});

// Skipped only on a machine without zsh, outside CI (see missingOutsideCi).
describe.skipIf(missingOutsideCi('zsh'))('in real zsh', () => {
  // Types into an interactive zsh (compinit, the script on $fpath) through a pseudo-terminal,
  // presses TAB, and returns what the terminal showed with the escape sequences taken out.
  const complete = (typed: string): string => {
    const zsh = requireShell('zsh');
    const driver = join(h.home, 'zcomplete.zsh');
    writeFileSync(
      driver,
      `zmodload zsh/zpty
zpty z ${zsh} -f -i
zpty -w z "PS1='> '; RPS1=''; fpath=(${COMPLETIONS} \\$fpath); autoload -Uz compinit; compinit -u -D; setopt nobeep; LISTMAX=1000"
zpty -w -n z "$1"$'\\t'
zpty -w -n z $'\\x01: \\n'
zpty -w z "print -r -- __DO''NE__"
zpty -r -m z out '*__DONE__*'
print -r -- "$out"
zpty -d z
`,
    );
    const r = runShell(zsh, ['-f', driver, typed], env);
    expect(r.code).toBe(0);
    return r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/[\r\b]/g, ' ');
  };

  it('completes a command, flags, choices, tags and ids', () => {
    expect(complete('whitemagic cr')).toContain(': whitemagic create');
    expect(complete('whitemagic create --ty')).toContain(': whitemagic create --type');
    const types = complete('whitemagic create --type ');
    expect(types).toContain('short_term');
    expect(types).toContain('long_term');
    expect(complete('whitemagic --backend sq')).toContain(': whitemagic --backend sqlite');
    const tags = complete('whitemagic list --tag ');
    expect(tags).toMatch(/alpha\s+beta/);
    expect(complete('whitemagic --context work list --tag ')).toContain(': whitemagic --context work list --tag gamma');
    expect(complete('whitemagic --context wo')).toContain(': whitemagic --context work');
    expect(complete('whitemagic show ')).toContain(`: whitemagic show ${firstId}`);
  });
});

// Skipped only on a machine without fish, outside CI (see missingOutsideCi).
describe.skipIf(missingOutsideCi('fish'))('in real fish', () => {
  const complete = (line: string): string[] => {
    const fish = requireShell('fish');
    const r = runShell(fish, ['--no-config', '-c', `source ${join(COMPLETIONS, FILES.fish)}; complete --do-complete ${JSON.stringify(line)}`], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]);
  };

  it('completes commands, flags and their choices', () => {
    expect(complete('whitemagic cr')).toEqual(['create']);
    expect(complete('whitemagic ')).toEqual(expect.arrayContaining(['create', 'list', 'context', 'completion', 'mcp']));
    expect(complete('whitemagic create --t')).toEqual(['--tag', '--title', '--type']);
    expect(complete('whitemagic create --type ')).toEqual(['long_term', 'short_term']);
    expect(complete('whitemagic --backend ')).toEqual(['markdown', 'sqlite']);
    expect(complete('whitemagic completion ')).toEqual(['bash', 'fish', 'zsh']);
  });

  it('asks the tool for context names, tags and ids', () => {
    expect(complete('whitemagic --context ')).toEqual(['default', 'work']);
    expect(complete('whitemagic list --tag ')).toEqual(['alpha', 'beta']);
    expect(complete('whitemagic ls --tag=b')).toEqual(['--tag=beta']);
    expect(complete('whitemagic --context work list --tag ')).toEqual(['gamma']);
    expect(complete('whitemagic show ')).toEqual([firstId]);
  });
});
