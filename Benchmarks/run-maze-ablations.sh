#!/usr/bin/env bash
# Maze design choices measured on 9×9 (each run ≈ 1.5 min on 2 cores): conv vs depthwise mixer,
# open-cell vs all-cell loss (the loop share was measured on 15×15, see the results README). Same preset, seed and steps; the test suites are the
# shipped 9×9 perfect mazes and 9×9 loop mazes (unique shortest path).
#   bash Benchmarks/run-maze-ablations.sh [STEPS]   (default 1500)
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${1:-1500}
swift build -c release --product trm >/dev/null
OUT=Benchmarks/results/maze-ablations
mkdir -p "$OUT/runs"
T=$OUT/runs/trm-bin
cp .build/release/trm "$T"
echo "| variant | params | train time | perfect 9×9 verified | loop 9×9 verified | command |" > "$OUT/ablations.md"
echo "|---|---|---|---|---|---|" >> "$OUT/ablations.md"
run() {  # name, extra train args...
  local name=$1; shift
  local t0=$(date +%s)
  "$T" train --preset maze --data Puzzles/maze9/train.txt --optimizer-steps "$STEPS" --threads 2 --validate-every 0 --out "$OUT/runs/$name" "$@" > "$OUT/$name.log" 2>&1
  local t1=$(date +%s)
  local params=$(grep -o '[0-9]* parameters' "$OUT/$name.log" | head -1 | cut -d' ' -f1)
  local p=$("$T" eval --checkpoint "$OUT/runs/$name/model.safetensors" --data Puzzles/maze9/perfect.txt --threads 2 --json "$OUT/$name-perfect.json" | tail -1 | awk '{print $3}')
  local l=$("$T" eval --checkpoint "$OUT/runs/$name/model.safetensors" --data Puzzles/maze9/test.txt --threads 2 --json "$OUT/$name-loops.json" | tail -1 | awk '{print $3}')
  echo "| $name | $params | $((t1 - t0)) s | $p | $l | \`trm train --preset maze --data Puzzles/maze9/train.txt --optimizer-steps $STEPS $*\` |" | tee -a "$OUT/ablations.md"
}
run conv-open-cells
run conv-all-cells --loss-cells all
run depthwise-d32 --mixer depthwise
run depthwise-d48 --mixer depthwise --width 48
echo "{\"commit\":\"$(git rev-parse --short HEAD)\",\"date\":\"$(date -u +%FT%TZ)\",\"steps\":$STEPS,\"seed\":0}" > "$OUT/run.json"
