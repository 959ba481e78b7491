#!/usr/bin/env bash
# Recipe: shell aliases per project (docs/recipes.md). Run with `whitemagic` on PATH and a throw-away HOME.
set -euo pipefail
shopt -s expand_aliases

# --- from the recipe ---
alias wm-api='whitemagic --context api'
alias wm-web='whitemagic --context web'
wmhere() { whitemagic --base-dir "$PWD/.whitemagic" "$@"; }
# ---

wm-api create --title 'API uses cursor pagination' --content 'not offsets' --tag decision >/dev/null
wm-web create --title 'Web uses Vite' --content 'since v2' >/dev/null
mkdir -p "$HOME/project" && cd "$HOME/project"
wmhere create --title 'Local to this checkout' --content 'x' >/dev/null

test "$(wm-api list | cut -f4)" = 'API uses cursor pagination'
test "$(wm-web list | cut -f4)" = 'Web uses Vite'
test "$(wmhere list | cut -f4)" = 'Local to this checkout'
test -d "$HOME/project/.whitemagic/memory/short_term"
echo ok
