#!/usr/bin/env bash
# The arithmetic results of issue 13, end to end, with the user commands (presets `addition` and
# `multiplication`: digit grid, conv mixer, fresh mixed-length problems on the fly):
#   bash Benchmarks/run-arithmetic.sh              # all: ≈ 1 h 20 min on 2 cores
#   TASKS="add" bash Benchmarks/run-arithmetic.sh  # one of: add mul3 mul4
# `trm compare` trains the TRM and then its parameter-matched baseline on the same preset,
# stream and optimizer steps and scores both on the test file; `trm sweep` then runs the same
# weights on longer numbers at several depths (one chart, baseline dashed).
# Writes Benchmarks/results/arithmetic-grid/<task>/ (run directories under runs/ are not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product trm >/dev/null
OUT=Benchmarks/results/arithmetic-grid
mkdir -p "$OUT/runs"
T=$OUT/runs/trm-bin   # a copy: rebuilding during the run must not swap the binary
cp .build/release/trm "$T"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
for task in ${TASKS:-add mul3 mul4}; do
  D=$OUT/$task; mkdir -p "$D"; t0=$(date +%s)
  case $task in
    add)  preset=addition;       suite=add8; extra=(--test Puzzles/add16/test.txt) ;;
    mul3) preset=multiplication; suite=mul3; extra=(--test Puzzles/mul3/test.txt) ;;
    mul4) preset=multiplication; suite=mul4; extra=(--test Puzzles/mul4/test.txt) ;;
  esac
  "$T" compare --preset "$preset" --data "Puzzles/$suite/train.txt" --valid "Puzzles/$suite/valid.txt" "${extra[@]}" \
      --threads 2 --seed 0 --validate-every 1000 --out "$OUT/runs/$task" 2>&1 | tee "$D/compare.txt"
  for m in trm baseline; do cp "$OUT/runs/$task/$m/metrics.jsonl" "$D/$m-metrics.jsonl"; done
  TRM=$OUT/runs/$task/trm/model.safetensors; BASE=$OUT/runs/$task/baseline/model.safetensors
  if [ "$task" = add ]; then
    files=Puzzles/add8/test.txt,Puzzles/add12/test.txt,Puzzles/add16/test.txt,Puzzles/add32/test.txt
  elif [ "$task" = mul4 ]; then   # and longer products than it trained on
    files=Puzzles/mul4/test.txt,Puzzles/mul5/test.txt,Puzzles/mul6/test.txt
  else
    files=Puzzles/$suite/test.txt
  fi
  "$T" sweep --checkpoint "$TRM" --baseline "$BASE" --data "$files" --supervision-steps 1,2,4,8,16,32,64 \
      --threads 2 --out "$D/sweep" | tee "$D/sweep.txt"
  "$T" sweep --checkpoint "$TRM" --data "$files" --supervision-steps 8 --halt --threads 2 --out "$D/sweep-halt" \
      | tee "$D/sweep-halt.txt"   # the TRM as `trm solve` runs it: its halting head decides, up to 8 steps
  if [ "$task" = add ]; then   # long carry chains: the depth a sum needs grows with its chain
    "$T" sweep --checkpoint "$TRM" --baseline "$BASE" --data Puzzles/add16/carry.txt,Puzzles/add32/carry.txt \
        --supervision-steps 1,2,4,8,16,32,64 --threads 2 --out "$D/sweep-carry" | tee "$D/sweep-carry.txt"
  fi
  t1=$(date +%s)
  echo "{\"commit\":\"$commit\",\"date\":\"$(date -u +%FT%TZ)\",\"wall_s\":$((t1 - t0)),\"cores\":$(nproc),\"seed\":0}" > "$D/run.json"
done
