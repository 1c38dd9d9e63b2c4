#!/usr/bin/env bash
# Open-plan mazes (Maze-Hard's kind, issue 12): the maze preset on the shipped 15×15 open-plan
# suite (fresh mazes in its style on the fly, canonical labels), then the same weights on
# 30×30 open-plan mazes and on the Maze-Hard test split with more steps.
#   bash Benchmarks/run-mazeopen.sh          # ≈ 40 min on 2 cores (BASELINE=1: + the baseline)
# Variants: EXTRA="--maze-labels nearest" OUT=Benchmarks/results/mazeopen-nearest bash Benchmarks/run-mazeopen.sh
# Writes Benchmarks/results/mazeopen/ (runs/ and data/ are not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product trm >/dev/null
OUT=${OUT:-Benchmarks/results/mazeopen}
read -r -a EXTRA_FLAGS <<<"${EXTRA:-}"
mkdir -p "$OUT/runs" "$OUT/data"
tail -n 150 ../shared/data/maze30_hrm_hard_train.txt > "$OUT/data/mazehard-test.txt"   # the 150 test mazes of run-mazehard.sh
T=$OUT/runs/trm-bin   # a copy: rebuilding during the run must not swap the binary
cp .build/release/trm "$T"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
t0=$(date +%s)
if [ "${SKIP_TRAIN:-0}" != 1 ]; then
  "$T" train --preset maze --data Puzzles/mazeopen15/train.txt --valid Puzzles/mazeopen15/valid.txt --threads 2 \
    "${EXTRA_FLAGS[@]}" --out "$OUT/runs/trm" 2>&1 | tee "$OUT/train-trm.txt"
fi
t1=$(date +%s)
cp "$OUT/runs/trm/metrics.jsonl" "$OUT/trm-metrics.jsonl"
M=$OUT/runs/trm/model.safetensors
{
  echo "== mazeopen15/test, K = 8";  "$T" eval --checkpoint "$M" --data Puzzles/mazeopen15/test.txt --supervision-steps 8 --threads 2
  echo "== mazeopen15/test, K = 8, attempts 8"; "$T" eval --checkpoint "$M" --data Puzzles/mazeopen15/test.txt --supervision-steps 8 --attempts 8 --threads 2
} 2>&1 | tee "$OUT/eval-15.txt"
"$T" sweep --checkpoint "$M" --data Puzzles/mazeopen30/test.txt,"$OUT/data/mazehard-test.txt" --supervision-steps 8,16,32,64 \
  --threads 2 --out "$OUT/sweep-30" 2>&1 | tee "$OUT/sweep-30.txt"
# Verified search on Maze-Hard: K = 16 and 8 views, the 15×15 setting with twice the steps, fixed
# before the first evaluation (not tuned on the test split).
"$T" eval --checkpoint "$M" --data "$OUT/data/mazehard-test.txt" --supervision-steps 16 --attempts 8 --threads 2 \
  2>&1 | tee "$OUT/eval-mazehard-attempts8.txt"
if [ "${BASELINE:-0}" = 1 ]; then
  "$T" train --preset maze --model baseline --data Puzzles/mazeopen15/train.txt --valid Puzzles/mazeopen15/valid.txt \
    --threads 2 --out "$OUT/runs/baseline" 2>&1 | tee "$OUT/train-baseline.txt"
  cp "$OUT/runs/baseline/metrics.jsonl" "$OUT/baseline-metrics.jsonl"
  for f in Puzzles/mazeopen15/test.txt Puzzles/mazeopen30/test.txt; do
    echo "== $f"; "$T" eval --checkpoint "$OUT/runs/baseline/model.safetensors" --data "$f" --threads 2
  done 2>&1 | tee "$OUT/eval-baseline.txt"
fi
printf '{"commit": "%s", "date": "%s", "extra_flags": "%s", "train_seconds": %s, "threads": 2, "seed": 0}\n' \
  "$commit" "$(date -u +%FT%TZ)" "${EXTRA:-}" "$((t1 - t0))" > "$OUT/run.json"
