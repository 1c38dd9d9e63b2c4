#!/usr/bin/env python3
"""Chart of verified test-time search from `trm eval --attempts K --json` files.

    python3 Benchmarks/attempts-chart.py DIR [SUPERVISION_STEPS]

Reads DIR/eval-NAME-attemptsK.json (as Benchmarks/run-sudoku9-public.sh writes them; the
baseline's eval-baseline-* files are left out) and writes DIR/attempts.svg: exact (= verified)
accuracy against the attempt cap K, one curve per file, and the forward GFLOP per solved puzzle
with the mean views per puzzle at each point. Views = mean supervision steps / SUPERVISION_STEPS
(default 8, the sudoku9 preset's). No dependencies beyond the Python standard library.
"""
import json
import math
import os
import re
import sys

if len(sys.argv) < 2:
    sys.exit("usage: attempts-chart.py DIR [SUPERVISION_STEPS]")
root = sys.argv[1]
steps = float(sys.argv[2]) if len(sys.argv) > 2 else 8.0
series = {}
for name in sorted(os.listdir(root)):
    m = re.fullmatch(r"eval-(?!baseline-)(.+)-attempts(\d+)\.json", name)
    if not m:
        continue
    with open(os.path.join(root, name)) as f:
        d = json.load(f)
    series.setdefault(m.group(1), []).append(
        (int(m.group(2)), 100 * d["exact_accuracy"], (d.get("flops_per_solved") or 0) / 1e9, d["mean_steps"] / steps))
if not series:
    sys.exit(f"attempts-chart.py: no eval-*-attemptsK.json files in {root}")
for v in series.values():
    v.sort()
ks = sorted({k for v in series.values() for k, *_ in v})
kmax = max(ks + [2])
gmax = max(g for v in series.values() for _, _, g, _ in v) * 1.1 or 1
colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
W, H, L, T, PW, PH, GAP = 1040, 420, 60, 50, 380, 280, 110


def x(k, left):
    return left + PW * math.log2(k) / math.log2(kmax)


def y(v, top):
    return T + PH * (1 - v / top)


out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       '<rect width="100%" height="100%" fill="white"/>',
       f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="14">Verified test-time search (trm eval '
       '--attempts K): accuracy and cost per solved puzzle</text>']
for panel, (left, top, label, fmt) in enumerate(
        [(L, 100.0, "exact = verified (%)", "{:.0f}"), (L + PW + GAP, gmax, "forward GFLOP per solved puzzle", "{:.0f}")]):
    out.append(f'<line x1="{left}" y1="{T + PH}" x2="{left + PW}" y2="{T + PH}" stroke="#333"/>'
               f'<line x1="{left}" y1="{T}" x2="{left}" y2="{T + PH}" stroke="#333"/>')
    out.append(f'<text x="{left - 45}" y="{T + PH / 2}" transform="rotate(-90 {left - 45} {T + PH / 2})" '
               f'text-anchor="middle">{label}</text>')
    for i in range(6):
        v = top * i / 5
        out.append(f'<text x="{left - 6}" y="{y(v, top) + 4:.1f}" text-anchor="end">{fmt.format(v)}</text>'
                   f'<line x1="{left}" y1="{y(v, top):.1f}" x2="{left + PW}" y2="{y(v, top):.1f}" stroke="#eee"/>')
    for k in ks:
        out.append(f'<text x="{x(k, left):.1f}" y="{T + PH + 16}" text-anchor="middle">{k}</text>')
    out.append(f'<text x="{left + PW / 2}" y="{T + PH + 34}" text-anchor="middle">attempt cap K (views)</text>')
    for ci, pts in enumerate(series.values()):
        c = colors[ci % len(colors)]
        vals = [(k, acc if panel == 0 else g, views) for k, acc, g, views in pts]
        poly = " ".join(f"{x(k, left):.1f},{y(v, top):.1f}" for k, v, _ in vals)
        out.append(f'<polyline fill="none" stroke="{c}" stroke-width="2" points="{poly}"/>')
        for k, v, views in vals:
            out.append(f'<circle cx="{x(k, left):.1f}" cy="{y(v, top):.1f}" r="3" fill="{c}"/>')
            tag = f"{v:.1f}%" if panel == 0 else f"{views:.2f} views"
            # Labels staggered by series, so that curves meeting at one point stay readable.
            ty = y(v, top) + 4 + (ci - (len(series) - 1) / 2) * 11
            out.append(f'<text x="{x(k, left) + 6:.1f}" y="{ty:.1f}" fill="{c}" font-size="10">{tag}</text>')
for ci, name in enumerate(series):
    c = colors[ci % len(colors)]
    out.append(f'<rect x="{L + ci * 230}" y="{H - 22}" width="12" height="12" fill="{c}"/>'
               f'<text x="{L + ci * 230 + 18}" y="{H - 12}">{name}</text>')
out.append("</svg>")
path = os.path.join(root, "attempts.svg")
with open(path, "w") as f:
    f.write("\n".join(out) + "\n")
print(f"wrote {path}")
