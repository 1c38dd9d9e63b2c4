#!/usr/bin/env bash
# Maze-Hard 30×30 (issue 12): the maze preset on the 800 / 50 / 150 split of
# ../shared/data/maze30_hrm_hard_train.txt (first 800 lines train, next 50 validate, last 150
# test), training on fresh open-plan mazes in the file's style with canonical labels (what the
# preset does for such a file), N_sup = 16 (a 110-move path needs more propagation than 8
# supervision steps give a 3×3 mixer), then the test split at K = 16, 32, 64 and with search.
#   STEPS=6000 bash Benchmarks/run-mazehard.sh        # ≈ 50 min on 2 cores
# Curriculum over sizes: INIT=CHECKPOINT starts from a model trained on smaller mazes (e.g. the
# 15×15 open-plan run of run-mazeopen.sh), OUT= names the results folder.
#   INIT=Benchmarks/results/mazeopen/runs/trm/model.safetensors OUT=Benchmarks/results/mazehard-curriculum \
#     STEPS=5000 bash Benchmarks/run-mazehard.sh
# Writes Benchmarks/results/mazehard-open/ (data/ and runs/ are not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${STEPS:-6000}
swift build -c release --product trm >/dev/null
OUT=${OUT:-Benchmarks/results/mazehard-open}
INIT_FLAGS=()
if [ -n "${INIT:-}" ]; then INIT_FLAGS=(--init "$INIT"); fi
mkdir -p "$OUT/runs" "$OUT/data"
src=../shared/data/maze30_hrm_hard_train.txt
head -n 800 "$src" > "$OUT/data/train.txt"; sed -n 801,850p "$src" > "$OUT/data/valid.txt"; tail -n 150 "$src" > "$OUT/data/test.txt"
T=$OUT/runs/trm-bin   # a copy: rebuilding during the run must not swap the binary
cp .build/release/trm "$T"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
t0=$(date +%s)
if [ "${SKIP_TRAIN:-0}" != 1 ]; then
  "$T" train --preset maze --data "$OUT/data/train.txt" --valid "$OUT/data/valid.txt" --supervision-steps 16 \
    --optimizer-steps "$STEPS" "${INIT_FLAGS[@]}" --valid-supervision-steps 32 --validate-every 500 --threads 2 --out "$OUT/runs/trm" 2>&1 | tee "$OUT/train.txt"
fi
t1=$(date +%s)
cp "$OUT/runs/trm/metrics.jsonl" "$OUT/metrics.jsonl"
M=$OUT/runs/trm/model.safetensors
"$T" sweep --checkpoint "$M" --data "$OUT/data/test.txt" --supervision-steps 8,16,32,64 --threads 2 --out "$OUT/sweep" 2>&1 | tee "$OUT/sweep.txt"
"$T" eval --checkpoint "$M" --data "$OUT/data/test.txt" --supervision-steps 32 --attempts 8 --threads 2 2>&1 | tee "$OUT/eval-attempts8.txt"
printf '{"commit": "%s", "date": "%s", "steps": %s, "init": "%s", "train_seconds": %s, "threads": 2, "seed": 0}\n' \
  "$commit" "$(date -u +%FT%TZ)" "$STEPS" "${INIT:-}" "$((t1 - t0))" > "$OUT/run.json"
