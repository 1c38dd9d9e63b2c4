#!/usr/bin/env bash
# Ablations on sudoku 6×6 (paper Table 1 trends): the default TRM, no EMA, 1-step gradient, T = 1.
# Same data, seed, preset and step budget for every row; evaluated on the shipped test suite.
#   bash Benchmarks/run-ablations.sh [STEPS]    (default 1500 steps, ~3 min per row on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${1:-1500}
swift build -c release --product trm >/dev/null
T=.build/release/trm
OUT=Benchmarks/results/ablations
mkdir -p "$OUT"
echo "| variant | exact | verified | cells | train time | command |" > "$OUT/ablations.md"
echo "|---|---|---|---|---|---|" >> "$OUT/ablations.md"
row() {  # name extra-args...
  local name=$1; shift
  local args=(train --data Puzzles/sudoku6/train.txt --preset sudoku6 --augment-online --optimizer-steps "$STEPS" --seed 0 --threads 2
              --validate-every 0 --checkpoint-every 0 --out "$OUT/$name" "$@")
  local t0=$(date +%s)
  "$T" "${args[@]}" > "$OUT/$name.log" 2>&1
  local t1=$(date +%s)
  "$T" eval --checkpoint "$OUT/$name/model.safetensors" --data Puzzles/sudoku6/test.txt --json "$OUT/$name.json" > /dev/null
  python3 - "$OUT/$name.json" "$name" "$((t1 - t0))" "trm ${args[*]}" >> "$OUT/ablations.md" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print(f"| {sys.argv[2]} | {100*j['exact_accuracy']:.1f}% | {100*j['verified_accuracy']:.1f}% | {100*j['cell_accuracy']:.1f}% | {sys.argv[3]} s | `{sys.argv[4]}` |")
PY
  tail -1 "$OUT/ablations.md"
}
row default
row no-ema --no-ema
row one-step-gradient --one-step-gradient
row T1 --recursions 1
