#!/usr/bin/env bash
# Recipe: copying and moving memories between contexts as files (docs/recipes.md).
set -euo pipefail
WM_HOME="${WHITEMAGIC_HOME:-$HOME/.whitemagic}"
keep=$(whitemagic --context api create --title 'Shared convention' --content 'snake_case in JSON' --type long_term)
move=$(whitemagic --context api create --title 'Belongs to web' --content 'move me')
whitemagic --context web init >/dev/null

# --- from the recipe ---
# Copy: the same memory, same id, now in both contexts.
cp "$WM_HOME"/api/memory/long_term/*shared-convention*.md "$WM_HOME"/web/memory/long_term/
# Move: the file leaves api.
mv "$WM_HOME"/api/memory/short_term/*belongs-to-web*.md "$WM_HOME"/web/memory/short_term/
# ---

test "$(whitemagic --context web show "$keep" --json | grep -c '"title": "Shared convention"')" -eq 1
test "$(whitemagic --context api show "$keep" --json | grep -c '"title": "Shared convention"')" -eq 1
whitemagic --context web show "$move" >/dev/null
if whitemagic --context api show "$move" 2>/dev/null; then echo 'still in api' >&2; exit 1; fi
test "$(whitemagic --context web list | wc -l)" -eq 2
echo ok
