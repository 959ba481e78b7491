#!/usr/bin/env bash
# Recipe: a context per project with direnv (docs/recipes.md), checked with the real direnv.
set -euo pipefail
export DIRENV_LOG_FORMAT= # quiet: no "direnv: loading" lines
project="$HOME/project"
mkdir -p "$project/sub"

# --- from the recipe ---
cat > "$project/.envrc" <<'ENVRC'
export WHITEMAGIC_BASE_DIR="$(pwd)/.whitemagic"
ENVRC
direnv allow "$project"
# ---

# Inside the project (and below it) whitemagic works on the project's context.
direnv exec "$project/sub" whitemagic create --title 'Project memory' --content 'kept with the code' >/dev/null
status=$(direnv exec "$project/sub" whitemagic status --json)
echo "$status" | grep -q "\"path\": \"$project/.whitemagic\""
echo "$status" | grep -q '"source": "WHITEMAGIC_BASE_DIR"'
test -f "$project/.whitemagic/whitemagic.json"
# Outside it, the default context, which holds nothing.
test -z "$(cd "$HOME" && whitemagic list)"
echo ok
