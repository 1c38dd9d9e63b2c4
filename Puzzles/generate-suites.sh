#!/usr/bin/env bash
# Regenerates every shipped suite from its seed: bash Puzzles/generate-suites.sh
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product trm >/dev/null
T=.build/release/trm
g() { local dir=$1; shift; mkdir -p "Puzzles/$dir"; "$T" generate "$@"; }
# name            task        options                                  train / valid / test (seeds 1/2/3)
for split in train:1:1000 valid:2:100 test:3:200; do
  IFS=: read -r name seed count <<<"$split"
  g sudoku6   sudoku     --size 6 --givens 14           --count "$count" --seed "$((seed+10))" --out "Puzzles/sudoku6/$name.txt"
  g maze9     maze       --side 9 --loops 0.15 --min-path 8   --count "$count" --seed "$((seed+20))" --out "Puzzles/maze9/$name.txt"
  g add4      arithmetic --op + --digits 4              --count "$count" --seed "$((seed+30))" --out "Puzzles/add4/$name.txt"
  g mul2      arithmetic --op '*' --digits 2            --count "$count" --seed "$((seed+40))" --out "Puzzles/mul2/$name.txt"
done
# 4×4 sudoku with 6 givens has few puzzles up to symmetry: test first, then valid and train
# drawn without any puzzle equal to a held-out one up to the training augmentations.
S4=(sudoku --size 4 --givens 6)
g sudoku4 "${S4[@]}" --count 200 --seed 3 --out Puzzles/sudoku4/test.txt
g sudoku4 "${S4[@]}" --count 100 --seed 2 --exclude Puzzles/sudoku4/test.txt --out Puzzles/sudoku4/valid.txt
g sudoku4 "${S4[@]}" --count 1000 --seed 1 --exclude Puzzles/sudoku4/test.txt,Puzzles/sudoku4/valid.txt \
  --out Puzzles/sudoku4/train.txt
# Benchmark-scale suites (the headline results, Benchmarks/results).
for split in train:1:2000 valid:2:100 test:3:300; do
  IFS=: read -r name seed count <<<"$split"
  g sudoku9 sudoku     --size 9 --givens 30                  --count "$count" --seed "$((seed+50))" --out "Puzzles/sudoku9/$name.txt"
  g maze15  maze       --side 15 --loops 0.15 --min-path 15  --count "$count" --seed "$((seed+60))" --out "Puzzles/maze15/$name.txt"
done
# Arithmetic benchmark suites: validation and test problems are drawn only from the share
# reserved for evaluation (--split eval, 1 in 16 by a fixed hash), which on-line training never
# draws, and the training files only from the rest (--split train).
for split in train:1:5000:train valid:2:200:eval test:3:500:eval; do
  IFS=: read -r name seed count part <<<"$split"
  g add8 arithmetic --op + --digits 8   --split "$part" --count "$count" --seed "$((seed+80))" --out "Puzzles/add8/$name.txt"
  g mul3 arithmetic --op '*' --digits 3 --split "$part" --count "$count" --seed "$((seed+90))" --out "Puzzles/mul3/$name.txt"
  g mul4 arithmetic --op '*' --digits 4 --split "$part" --count "$count" --seed "$((seed+110))" --out "Puzzles/mul4/$name.txt"
done
# Length extrapolation (addition trained on ≤ 8 digits).
for d in 12 16 32; do
  g "add$d" arithmetic --op + --digits "$d" --split eval --count 500 --seed "$((120+d))" --out "Puzzles/add$d/test.txt"
done
# Longer products than mul4 trains on (extrapolation of the multiplication grid).
for d in 5 6; do
  g "mul$d" arithmetic --op '*' --digits "$d" --split eval --count 200 --seed "$((140+d))" --out "Puzzles/mul$d/test.txt"
done
# Long carry chains (random sums almost never have one): the carry travels 12 / 24 positions.
for spec in 16:12 32:24; do
  IFS=: read -r d c <<<"$spec"
  g "add$d" arithmetic --op + --digits "$d" --carry-chain "$c" --split eval --count 500 --seed "$((200+d))" --out "Puzzles/add$d/carry.txt"
done
# Extrapolation sets (larger mazes than any training set).
g maze21 maze --side 21 --loops 0.15 --min-path 21 --count 100 --seed 71 --out Puzzles/maze21/test.txt
g maze31 maze --side 31 --loops 0.15 --min-path 31 --count 100 --seed 72 --out Puzzles/maze31/test.txt
# Perfect mazes (no loops: exactly one path), S and G at least `side` moves apart, for every
# size: the conv-mixer maze models are tested on these and extrapolate from 15×15 to the rest.
for spec in 9:200:101 15:300:102 21:100:103 31:100:104 59:50:105; do
  IFS=: read -r side count seed <<<"$spec"
  g "maze$side" maze --side "$side" --loops 0 --min-path "$side" --count "$count" --seed "$seed" --out "Puzzles/maze$side/perfect.txt"
done
# A validation suite at the extrapolation size: choose the step count and the attempts for
# 31×31 here, then report them once on perfect.txt (never tuned on the test suite).
g maze31 maze --side 31 --loops 0 --min-path 31 --count 100 --seed 204 --out Puzzles/maze31/perfect-valid.txt
# Open-plan mazes (random walls anywhere, no border: the kind of Maze-Hard 30×30, with its wall
# shares of 28–45%): 15×15 train / valid / test with S and G at least 30 moves apart, and 30×30
# test mazes at least 109 apart (Maze-Hard's shortest) for extrapolation from 15×15.
O15=(maze --walls 0.28-0.45 --side 15 --min-path 30)
g mazeopen15 "${O15[@]}" --count 500 --seed 301 --out Puzzles/mazeopen15/train.txt
g mazeopen15 "${O15[@]}" --count 100 --seed 302 --exclude Puzzles/mazeopen15/train.txt --out Puzzles/mazeopen15/valid.txt
g mazeopen15 "${O15[@]}" --count 300 --seed 303 --exclude Puzzles/mazeopen15/train.txt,Puzzles/mazeopen15/valid.txt \
  --out Puzzles/mazeopen15/test.txt
g mazeopen30 maze --walls 0.28-0.45 --side 30 --min-path 109 --count 100 --seed 304 --out Puzzles/mazeopen30/test.txt
# Held-out splits are held out up to augmentation: valid drops puzzles of train, test drops
# puzzles of train and valid, with arithmetic operands in either order (A*B is B*A after the
# swap augmentation). Checked for every suite by Tests/TRMPuzzlesTests (HeldOutSuiteTests).
for d in mul2 mul3 mul4 add4 add8; do
  seen=/tmp/trm-seen-$d.txt
  grep -v '^#' "Puzzles/$d/train.txt" > "$seen"
  for split in valid test; do
    awk -v seen="$seen" '
      function key(line,   eq, lhs, op, i, a, b) {
        eq = index(line, "="); lhs = eq ? substr(line, 1, eq - 1) : line
        op = index(lhs, "*") ? "*" : "+"; i = index(lhs, op)
        a = substr(lhs, 1, i - 1) + 0; b = substr(lhs, i + 1) + 0
        return (a < b) ? a op b : b op a
      }
      BEGIN { while ((getline l < seen) > 0) known[key(l)] = 1 }
      /^#/ { print; next }
      { k = key($0); if (!(k in known)) { print; known[k] = 1 } }
    ' "Puzzles/$d/$split.txt" > "Puzzles/$d/$split.txt.tmp"
    mv "Puzzles/$d/$split.txt.tmp" "Puzzles/$d/$split.txt"
    grep -v '^#' "Puzzles/$d/$split.txt" >> "$seen"
  done
done
