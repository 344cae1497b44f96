#!/usr/bin/env bash
# Kill a grid midway and rerun it: only the missing cells run, and every cell's predictions
# equal those of an uninterrupted grid. Used for docs/GRIDS.md ("Resume").
#   scripts/grid_kill_resume.sh [EMO_RUN_BINARY] [GRID_FILE] [KILL_AFTER_SECONDS]
set -euo pipefail
bin=${1:-target/debug/emo-run}
grid=${2:-experiments/grids/methods.toml}
kill_after=${3:-60}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== uninterrupted grid"
"$bin" "$grid" --jobs 2 --quiet --runs-dir "$work/whole" >/dev/null

echo "== the same grid, its parent killed with SIGKILL after ${kill_after}s"
"$bin" "$grid" --jobs 2 --quiet --runs-dir "$work/killed" >"$work/first.log" 2>&1 &
parent=$!
sleep "$kill_after"
kill -9 "$parent"
wait "$parent" 2>/dev/null || true
sleep 2 # the children notice their parent is gone within a second
sed -E 's/ -> .*//; s/ \(.* rows dropped.*//' "$work/first.log"
echo "finished before the kill: $(find "$work/killed" -name DONE | wc -l) cells"

echo "== rerun"
"$bin" "$grid" --jobs 2 --quiet --runs-dir "$work/killed" 2>&1 | sed -E 's/ -> .*//; s/ \(.* rows dropped.*//'

echo "== compare"
status=0
for cell in "$work"/whole/*/; do
  name=$(basename "$cell")
  [ "$name" = ".feature-cache" ] && continue
  runs=$(find "$work/killed/$name" -mindepth 1 -maxdepth 1 -type d | wc -l)
  if [ "$runs" -ne 1 ]; then echo "$name: $runs run folders"; status=1; fi
  if cmp -s "$cell"/*/predictions.parquet "$work/killed/$name"/*/predictions.parquet; then
    echo "$name: predictions identical"
  else
    echo "$name: predictions DIFFER"; status=1
  fi
done
exit $status
