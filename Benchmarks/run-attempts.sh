#!/usr/bin/env bash
# Verified test-time search (trm eval --attempts K): accuracy, mean attempts and GFLOP per solve vs. K
# for a weakly trained sudoku 6×6 model (400 optimizer steps of the preset); chart by `trm chart`.
#   bash Benchmarks/run-attempts.sh   (writes Benchmarks/results/attempts/)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=Benchmarks/results/attempts
mkdir -p "$OUT"
swift build -c release --product trm >/dev/null
T=.build/release/trm
W=$(mktemp -d)
"$T" train --data Puzzles/sudoku6/train.txt --preset sudoku6 --optimizer-steps 400 --augment-online --validate-every 0 \
  --out "$W/s6" >/dev/null 2>&1
echo "model,attempts_max,exact,verified,cells,mean_steps,ms_per_example,gflop_per_solved,mean_attempts" > "$OUT/attempts.csv"
for K in 1 2 4 8 16 32; do
  line=$("$T" eval --checkpoint "$W/s6/model.safetensors" --data Puzzles/sudoku6/test.txt --attempts "$K" \
    --json "$OUT/eval-sudoku6-400-steps-attempts$K.json" | tail -1)
  echo "sudoku6-400-steps,$K,$(echo "$line" | awk '{print $2","$3","$4","$5","$6","$7","$9}' | tr -d '%')" >> "$OUT/attempts.csv"
done
cat "$OUT/attempts.csv"
# Verified accuracy and GFLOP per solved puzzle against K (the preset's N_sup = 8 steps per view).
"$T" chart --evals "$OUT" --steps-per-view 8
rm -rf "$W"
