#!/usr/bin/env bash
# kill -9 during training, again and again: every checkpoint must load, the resumed run must end
# bit-identical to an uninterrupted one, metrics.jsonl must have no duplicate steps, and no stray
# files may remain.   bash Benchmarks/kill-resume.sh [KILLS (100)] [OUT (Benchmarks/results/kill-resume)]
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS=${1:-100}
OUT=${2:-Benchmarks/results/kill-resume}
swift build -c release --product trm >/dev/null
T=$(mktemp -d)/trm
cp .build/release/trm "$T"
W=$(mktemp -d)
ARGS=(--data Puzzles/sudoku4/train.txt --preset tiny --optimizer-steps 400 --checkpoint-every 10 --validate-every 0
      --threads 1 --seed 3)
"$T" train "${ARGS[@]}" --out "$W/ref" >/dev/null 2>&1
kills=0 loads=0 starts=0
while [ "$kills" -lt "$KILLS" ]; do
  if [ -f "$W/run/checkpoint.safetensors" ]; then
    "$T" train --resume "$W/run" --data Puzzles/sudoku4/train.txt --validate-every 0 >/dev/null 2>&1 &
  else
    "$T" train "${ARGS[@]}" --out "$W/run" >/dev/null 2>&1 &
  fi
  pid=$!
  starts=$((starts + 1))
  sleep "0.$(printf '%02d' $((RANDOM % 60 + 5)))"
  if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" 2>/dev/null || true
  if [ -f "$W/run/model.safetensors" ]; then
    "$T" eval --checkpoint "$W/run/model.safetensors" --data Puzzles/sudoku4/valid.txt --threads 1 >/dev/null
    "$T" eval --checkpoint "$W/run/checkpoint.safetensors" --data Puzzles/sudoku4/valid.txt --threads 1 >/dev/null
    loads=$((loads + 1))
  fi
  # A run that finished before the kill is started again from scratch (the test is the kills).
  if grep -q '"step":400' "$W/run/metrics.jsonl" 2>/dev/null; then rm -rf "$W/run"; fi
done
# Finish: resume (or start) until done.
if [ -f "$W/run/checkpoint.safetensors" ]; then
  "$T" train --resume "$W/run" --data Puzzles/sudoku4/train.txt --validate-every 0 >/dev/null 2>&1
else
  "$T" train "${ARGS[@]}" --out "$W/run" >/dev/null 2>&1
fi
python3 - "$W/ref" "$W/run" <<'PY'
import json, struct, sys, os
def tensors(path):
    b = open(path, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n]); body = b[8 + n:]
    return {k: body[v["data_offsets"][0]:v["data_offsets"][1]] for k, v in h.items() if k != "__metadata__"}, h["__metadata__"]
ref, run = sys.argv[1], sys.argv[2]
for f in ["checkpoint.safetensors", "model.safetensors"]:
    a, ma = tensors(os.path.join(ref, f)); b, mb = tensors(os.path.join(run, f))
    assert a == b, f + ": tensors differ from the uninterrupted run"
    assert ma.get("loop") == mb.get("loop"), f + ": loop state differs"
steps = [json.loads(l)["step"] for l in open(os.path.join(run, "metrics.jsonl"))]
assert steps == sorted(set(steps)) and steps[-1] == 400, steps
files = sorted(os.listdir(run))
assert files == ["checkpoint.safetensors", "metrics.jsonl", "model.safetensors"], files
print("final checkpoint and model bit-identical to the uninterrupted run; metrics steps", steps[:3], "...", steps[-1],
      "without duplicates; files", files)
PY
mkdir -p "$OUT"
echo "kill -9 $kills times over $starts starts; every checkpoint and model present after a kill loaded ($loads checks)" \
  | tee "$OUT/kill-resume.txt"
rm -rf "$W" "$(dirname "$T")"
