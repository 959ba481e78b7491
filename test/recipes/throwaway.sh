#!/usr/bin/env bash
# Recipe: testing against a throw-away context (docs/recipes.md).
set -euo pipefail
real_before=$(whitemagic --quiet list | wc -l)

# --- from the recipe ---
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export WHITEMAGIC_BASE_DIR="$scratch/ctx"
whitemagic create --title 'test memory' --content 'only for this run' --tag test >/dev/null
test "$(whitemagic list --tag test | wc -l)" -eq 1
# ---

whitemagic status --json | grep -q "\"path\": \"$scratch/ctx\""
unset WHITEMAGIC_BASE_DIR
test "$(whitemagic --quiet list | wc -l)" -eq "$real_before"
rm -rf "$scratch"
test ! -e "$scratch"
echo ok
