#!/usr/bin/env bash
# Verified test-time search (trm eval --attempts K): accuracy, mean attempts and GFLOP per solve vs. K
# for a weakly trained sudoku 6×6 model (400 optimizer steps of the preset), and the demo's 4×4 model.
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
  line=$("$T" eval --checkpoint "$W/s6/model.safetensors" --data Puzzles/sudoku6/test.txt --attempts "$K" | tail -1)
  echo "sudoku6-400-steps,$K,$(echo "$line" | awk '{print $2","$3","$4","$5","$6","$7","$9}' | tr -d '%')" >> "$OUT/attempts.csv"
done
cat "$OUT/attempts.csv"
python3 - "$OUT" <<'PY'
import csv, sys, os
out = sys.argv[1]
rows = [r for r in csv.DictReader(open(os.path.join(out, "attempts.csv")))]
W, H, L, T, PW, PH = 640, 360, 60, 40, 520, 260
ks = [int(r["attempts_max"]) for r in rows]
import math
def x(k): return L + PW * math.log2(k) / math.log2(max(ks))
def y(v, top): return T + PH * (1 - v / top)
def poly(vals, top, color):
    pts = " ".join(f"{x(k):.1f},{y(v, top):.1f}" for k, v in zip(ks, vals))
    return f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{pts}"/>' + "".join(
        f'<circle cx="{x(k):.1f}" cy="{y(v, top):.1f}" r="3" fill="{color}"/>' for k, v in zip(ks, vals))
acc = [float(r["verified"]) for r in rows]
att = [float(r["mean_attempts"]) for r in rows]
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       '<rect width="100%" height="100%" fill="white"/>',
       f'<text x="{W/2}" y="22" text-anchor="middle" font-size="14">Verified test-time search: sudoku 6×6, model after 400 steps</text>',
       f'<line x1="{L}" y1="{T+PH}" x2="{L+PW}" y2="{T+PH}" stroke="#333"/><line x1="{L}" y1="{T}" x2="{L}" y2="{T+PH}" stroke="#333"/>',
       poly(acc, 100, "#1f77b4"), poly([a * 100 / 2 for a in att], 100, "#ff7f0e")]
for k in ks:
    svg.append(f'<text x="{x(k):.1f}" y="{T+PH+16}" text-anchor="middle">{k}</text>')
for v in [0, 25, 50, 75, 100]:
    svg.append(f'<text x="{L-6}" y="{y(v,100)+4:.1f}" text-anchor="end">{v}%</text>')
    svg.append(f'<text x="{L+PW+6}" y="{y(v,100)+4:.1f}" fill="#ff7f0e">{v/50:.1f}</text>')
svg.append(f'<text x="{L+PW/2}" y="{H-8}" text-anchor="middle">--attempts K (log scale)</text>')
svg.append(f'<text x="{L+10}" y="{T+14}" fill="#1f77b4">verified accuracy (left axis)</text>')
svg.append(f'<text x="{L+10}" y="{T+30}" fill="#ff7f0e">mean attempts per puzzle (right axis)</text>')
svg.append("</svg>")
open(os.path.join(out, "attempts.svg"), "w").write("\n".join(svg))
PY
rm -rf "$W"
