#!/usr/bin/env bash
# Recipe: a cron backup loop with retention (docs/recipes.md). Each run is what cron would start.
set -euo pipefail
whitemagic --context work create --title 'Worth keeping' --content 'x' >/dev/null

for run in 1 2 3; do
  # --- from the recipe: the crontab line's command ---
  out=$(whitemagic --context work --quiet backup --keep 2)
  # ---
  test -z "$out"
done
WM_HOME="${WHITEMAGIC_HOME:-$HOME/.whitemagic}"
test "$(ls "$WM_HOME/work/backups/" | grep -c '\.tar\.gz$')" -eq 2
for f in "$WM_HOME"/work/backups/*.tar.gz; do whitemagic --quiet verify-backup "$f" >/dev/null; done
# A failure is a non-zero exit cron can report.
if whitemagic --base-dir "$HOME/not-a-context" --quiet backup 2>/dev/null; then echo 'expected a failure' >&2; exit 1; fi
echo ok
