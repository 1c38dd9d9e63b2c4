#!/usr/bin/env bash
# Issue 15: the sudoku9 preset as a user runs it (generated puzzles only, ≤ 60 min on 2 cores), then
# the public 9×9 files in ../shared/data/ with and without verified test-time search:
#   bash Benchmarks/run-sudoku9-public.sh            # ≈ 50–70 min training + ≈ 30 min evaluation
#   SKIP_TRAIN=1 bash Benchmarks/run-sudoku9-public.sh   # evaluate an existing run directory
#   SKIP_TRAIN=1 ATTEMPTS=32 FILES="sudoku9_kaggle_beginner sudoku9_kaggle_hard" bash …   # a subset
# Writes Benchmarks/results/sudoku9-public/ (train.txt, metrics.jsonl, eval-*.txt, run.json); the run
# directory (runs/trm) is not committed.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=Benchmarks/results/sudoku9-public
DATA=../shared/data
mkdir -p "$OUT/runs"
T=$OUT/runs/trm-bin   # a copy: rebuilding during the run must not swap the binary
if [ -z "${SKIP_TRAIN:-}" ]; then
  swift build -c release --product trm >/dev/null
  cp .build/release/trm "$T"
  commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
  t0=$(date +%s)
  "$T" train --preset sudoku9 --data Puzzles/sudoku9/train.txt --valid Puzzles/sudoku9/valid.txt \
      --out "$OUT/runs/trm" --threads 2 --seed 0 2>&1 | tee "$OUT/train.txt"
  t1=$(date +%s)
  cp "$OUT/runs/trm/metrics.jsonl" "$OUT/metrics.jsonl"
  echo "{\"commit\":\"$commit\",\"date\":\"$(date -u +%FT%TZ)\",\"train_wall_s\":$((t1 - t0)),\"cores\":$(nproc),\"seed\":0}" \
      > "$OUT/run.json"
fi
M=$OUT/runs/trm/model.safetensors
# The parameter-matched baseline: the same preset, stream, optimizer and steps, direct network.
#   SKIP_TRAIN=1 BASELINE=1 bash Benchmarks/run-sudoku9-public.sh   # train it (if absent), score it instead
if [ -n "${BASELINE:-}" ]; then
  # Today's binary (the TRM's copy may predate fixes the baseline needs), copied for the same reason.
  swift build -c release --product trm >/dev/null
  T=$OUT/runs/baseline-bin
  cp .build/release/trm "$T"
  if [ ! -f "$OUT/runs/baseline/model.safetensors" ]; then
    t0=$(date +%s)
    "$T" train --preset sudoku9 --model baseline --data Puzzles/sudoku9/train.txt --valid Puzzles/sudoku9/valid.txt \
        --out "$OUT/runs/baseline" --threads 2 --seed 0 2>&1 | tee "$OUT/train-baseline.txt"
    echo "{\"train_baseline_wall_s\":$(($(date +%s) - t0))}" > "$OUT/run-baseline.json"
    cp "$OUT/runs/baseline/metrics.jsonl" "$OUT/baseline-metrics.jsonl"
  fi
  M=$OUT/runs/baseline/model.safetensors
  PREFIX=baseline-
fi
for f in Puzzles/sudoku9/test.txt $DATA/sudoku9_kaggle_beginner.txt $DATA/sudoku9_kaggle_hard.txt $DATA/sudoku9_top1465.txt; do
  name=$(basename "$f" .txt); [ "$f" = Puzzles/sudoku9/test.txt ] && name=own-test
  for K in ${ATTEMPTS:-1 8}; do
    case " ${FILES:-own-test sudoku9_kaggle_beginner sudoku9_kaggle_hard sudoku9_top1465} " in *" $name "*) ;; *) continue ;; esac
    e=$OUT/eval-${PREFIX:-}$name-attempts$K
    echo "== $f --attempts $K" | tee "$e.txt"
    "$T" eval --checkpoint "$M" --data "$f" --attempts "$K" --threads 2 --json "$e.json" | tee -a "$e.txt"
  done
done
# Accuracy and cost per solved puzzle against the attempt cap, from the eval-*.json files present.
# (today's binary: a copied one may predate `trm chart`; no eval files, e.g. FILES=none: no chart)
swift build -c release --product trm >/dev/null
.build/release/trm chart --evals "$OUT" || true
