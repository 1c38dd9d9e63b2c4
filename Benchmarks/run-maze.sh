#!/usr/bin/env bash
# The maze results of issue 12, end to end: the user command (preset `maze`: conv mixer, fresh
# generated mazes), the parameter-matched baseline on the same stream and steps, the shipped
# test suites (perfect and loop 15×15), size extrapolation to 21/31/59 with more steps, a trace.
#   bash Benchmarks/run-maze.sh            # ≈ 55 min on 2 cores
# Writes Benchmarks/results/maze-conv/ (run directories under runs/ are not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product trm >/dev/null
OUT=Benchmarks/results/maze-conv
mkdir -p "$OUT/runs"
T=$OUT/runs/trm-bin   # a copy: rebuilding during the run must not swap the binary
cp .build/release/trm "$T"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
t0=$(date +%s)
# 1. The command a user types (README / issue target).
"$T" train --preset maze --data Puzzles/maze15/train.txt --valid Puzzles/maze15/valid.txt --threads 2 --out "$OUT/runs/trm" 2>&1 | tee "$OUT/train-trm.txt"
t1=$(date +%s)
# 2. The parameter-matched direct baseline: same preset, stream, optimizer and optimizer steps.
"$T" train --preset maze --model baseline --data Puzzles/maze15/train.txt --valid Puzzles/maze15/valid.txt --threads 2 --out "$OUT/runs/baseline" 2>&1 | tee "$OUT/train-baseline.txt"
t2=$(date +%s)
for m in trm baseline; do cp "$OUT/runs/$m/metrics.jsonl" "$OUT/$m-metrics.jsonl"; done
TRM=$OUT/runs/trm/model.safetensors; BASE=$OUT/runs/baseline/model.safetensors
# 3. Test suites at the training size: perfect mazes and loop mazes (unique shortest path).
{
  for f in Puzzles/maze15/perfect.txt Puzzles/maze15/test.txt; do
    echo "== $f"; "$T" eval --checkpoint "$TRM" --data "$f" --supervision-steps 8 --threads 2
    "$T" eval --checkpoint "$TRM" --data "$f" --supervision-steps 32 --halt --threads 2
    echo "-- baseline"; "$T" eval --checkpoint "$BASE" --data "$f" --threads 2
  done
} | tee "$OUT/eval-15.txt"
# 3b. Verified test-time search (`--attempts 8`: a maze whose answer is not a shortest S→G path,
#     checked by BFS on the input, is solved again on another of its 8 symmetric views).
{
  for f in Puzzles/maze15/perfect.txt Puzzles/maze15/test.txt; do
    echo "== $f, K = 8, attempts 8"; "$T" eval --checkpoint "$TRM" --data "$f" --supervision-steps 8 --attempts 8 --threads 2
    echo "-- baseline"; "$T" eval --checkpoint "$BASE" --data "$f" --attempts 8 --threads 2
  done
} | tee "$OUT/eval-15-attempts.txt"
# 3c. 31×31 with search: the step count is chosen on a validation suite of 31×31 mazes
#     (Puzzles/maze31/perfect-valid.txt; ties go to fewer steps), then reported once on the test suite.
best_k=8; best_acc=-1
{
  for k in 8 16 24 32; do
    echo "== Puzzles/maze31/perfect-valid.txt, K = $k, attempts 16"
    "$T" eval --checkpoint "$TRM" --data Puzzles/maze31/perfect-valid.txt --supervision-steps "$k" --attempts 16 --threads 2 --json "$OUT/runs/valid31-$k.json"
  done
} | tee "$OUT/eval-31-valid.txt"
for k in 8 16 24 32; do
  acc=$(sed -n 's/.*"exact_accuracy" : \([0-9.e-]*\).*/\1/p' "$OUT/runs/valid31-$k.json")
  if awk -v a="$acc" -v b="$best_acc" 'BEGIN { exit !(a > b) }'; then best_k=$k; best_acc=$acc; fi
done
{
  echo "== Puzzles/maze31/perfect.txt, K = $best_k (best on the validation suite), attempts 16"
  "$T" eval --checkpoint "$TRM" --data Puzzles/maze31/perfect.txt --supervision-steps "$best_k" --attempts 16 --threads 2
  echo "-- baseline, attempts 16"; "$T" eval --checkpoint "$BASE" --data Puzzles/maze31/perfect.txt --attempts 16 --threads 2
} | tee "$OUT/eval-31-attempts.txt"
# 4. The same weights on bigger perfect mazes, thinking longer; one chart for all sizes.
"$T" sweep --checkpoint "$TRM" --baseline "$BASE" --data Puzzles/maze15/perfect.txt,Puzzles/maze21/perfect.txt,Puzzles/maze31/perfect.txt \
    --supervision-steps 8,16,32,64 --threads 2 --out "$OUT/sweep" | tee "$OUT/sweep.txt"
"$T" sweep --checkpoint "$TRM" --baseline "$BASE" --data Puzzles/maze59/perfect.txt --supervision-steps 32,64,128 --threads 2 --out "$OUT/sweep59" | tee "$OUT/sweep59.txt"
# 5. Watch it think: 31×31 maze 3 (unsolved at 8 steps, solved at 32: picked from `trm solve
#    --verify` at both depths) and maze 4 (unsolved at 32 steps by the 14,000-step preset model).
"$T" trace --checkpoint "$TRM" --data Puzzles/maze31/perfect.txt --index 3 --supervision-steps 24 --out "$OUT/trace-31-solved.svg" --threads 2 > "$OUT/trace-31-solved.txt"
"$T" trace --checkpoint "$TRM" --data Puzzles/maze31/perfect.txt --index 4 --supervision-steps 48 --out "$OUT/trace-31-unsolved.svg" --threads 2 > "$OUT/trace-31-unsolved.txt"
t3=$(date +%s)
echo "{\"commit\":\"$commit\",\"date\":\"$(date -u +%FT%TZ)\",\"train_trm_wall_s\":$((t1 - t0)),\"train_baseline_wall_s\":$((t2 - t1)),\"eval_wall_s\":$((t3 - t2)),\"cores\":$(nproc),\"seed\":0}" > "$OUT/run.json"
