#!/usr/bin/env bash
# The multiplication preset at 8,000 steps: user commands for mul3 and mul4, baselines, sweeps.
# (The script that produced mul3-8000/ and mul4-8000/ on 2026-12-07; the binary is `trm` built at commit c1ad4a3.)
set -uo pipefail
cd /work/main
c=c1ad4a3
T=Benchmarks/results/arithmetic-grid/runs/trm-bin-$c
R=Benchmarks/results/arithmetic-grid/runs
for task in ${TASKS:-mul3 mul4}; do
  D=Benchmarks/results/arithmetic-grid/$task-8000; mkdir -p "$D"
  RUN=$R/$task-8000-$c; rm -rf "$RUN" "$RUN-baseline"
  t0=$(date +%s)
  $T train --preset multiplication --data Puzzles/$task/train.txt --valid Puzzles/$task/valid.txt --out "$RUN" --threads 2 --seed 0 > "$D/train.txt" 2>&1
  t1=$(date +%s)
  $T train --preset multiplication --model baseline --data Puzzles/$task/train.txt --valid Puzzles/$task/valid.txt --out "$RUN-baseline" --threads 2 --seed 0 > "$D/train-baseline.txt" 2>&1
  t2=$(date +%s)
  cp "$RUN/metrics.jsonl" "$D/trm-metrics.jsonl"; cp "$RUN-baseline/metrics.jsonl" "$D/baseline-metrics.jsonl"
  if [ $task = mul4 ]; then files=Puzzles/mul4/test.txt,Puzzles/mul5/test.txt,Puzzles/mul6/test.txt; else files=Puzzles/$task/test.txt; fi
  $T sweep --checkpoint "$RUN/model.safetensors" --baseline "$RUN-baseline/model.safetensors" --data "$files" --supervision-steps 1,2,4,8,16,32,64 --threads 2 --out "$D/sweep" > "$D/sweep.txt" 2>&1
  $T sweep --checkpoint "$RUN/model.safetensors" --data "$files" --supervision-steps 8 --halt --threads 2 --out "$D/sweep-halt" > "$D/sweep-halt.txt" 2>&1
  $T sweep --checkpoint "$RUN/model.safetensors" --data "$files" --supervision-steps 16 --until-stable --threads 2 --out "$D/sweep-until-stable" > "$D/sweep-until-stable.txt" 2>&1
  t3=$(date +%s)
  echo "{\"commit\":\"$c\",\"date\":\"$(date -u +%FT%TZ)\",\"trm_train_wall_s\":$((t1 - t0)),\"baseline_train_wall_s\":$((t2 - t1)),\"sweeps_wall_s\":$((t3 - t2)),\"cores\":$(nproc),\"seed\":0,\"cpu\":\"$(lscpu | sed -n 's/^Model name: *//p')\"}" > "$D/run.json"
  echo "$task done $(date)"
done
