#!/usr/bin/env python3
"""Plots the summary table of bench/e2e/run.sh as an SVG bar chart.

Usage: bench/e2e/plot.py RUN.log OUT.svg

Two panels per flow count: received Mpps and busy cycles per packet (the
floor's part shaded), one bar per contestant.  Standard library only.
"""
import sys


def parse(path):
    rows, in_table = [], False
    for line in open(path):
        if line.startswith("contestant"):
            in_table = True
            continue
        if in_table:
            f = line.split()
            if len(f) != 7 or not f[1].isdigit():
                break
            rows.append(dict(name=f[0], flows=int(f[1]), recv=float(f[3]),
                             loss=float(f[4]), cyc=float(f[5]), own=float(f[6])))
    return rows


def svg(rows, out):
    flows = sorted({r["flows"] for r in rows})
    names = [n for n in dict.fromkeys(r["name"] for r in rows)]
    colors = {"floor": "#999999", "floor2": "#bbbbbb", "ovs-patch": "#d62728",
              "ovs-veth": "#ff9896", "flowpath": "#1f77b4"}
    W, H, pad = 900, 420, 60
    panel_w = (W - pad) / (2 * len(flows))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
             f'font-family="sans-serif" font-size="11">',
             f'<rect width="{W}" height="{H}" fill="white"/>']
    metrics = [("recv", "received Mpps"), ("cyc", "busy cycles / packet")]
    for fi, fl in enumerate(flows):
        for mi, (key, label) in enumerate(metrics):
            x0 = pad / 2 + (fi * 2 + mi) * panel_w
            data = [r for r in rows if r["flows"] == fl]
            top = max(r[key] for r in data) * 1.15 or 1
            ph = H - 130
            parts.append(f'<text x="{x0 + panel_w / 2}" y="20" text-anchor="middle" '
                         f'font-weight="bold">{label}, {fl} flow{"s" if fl > 1 else ""}</text>')
            bw = (panel_w - 30) / max(len(data), 1)
            for i, r in enumerate(data):
                h = r[key] / top * ph
                x = x0 + 15 + i * bw
                y = 40 + ph - h
                c = colors.get(r["name"], "#2ca02c")
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bw - 4:.1f}" '
                             f'height="{h:.1f}" fill="{c}"/>')
                if key == "cyc" and r["own"] > 0:
                    oh = r["own"] / top * ph
                    parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bw - 4:.1f}" '
                                 f'height="{oh:.1f}" fill="black" fill-opacity="0.25"/>')
                val = f'{r[key]:.3f}' if key == "recv" else f'{r[key]:.0f}'
                parts.append(f'<text x="{x + (bw - 4) / 2:.1f}" y="{y - 3:.1f}" '
                             f'text-anchor="middle">{val}</text>')
                parts.append(f'<text x="{x + (bw - 4) / 2:.1f}" y="{48 + ph:.1f}" '
                             f'text-anchor="end" transform="rotate(-40 {x + (bw - 4) / 2:.1f} '
                             f'{48 + ph:.1f})">{r["name"]}</text>')
    parts.append(f'<text x="{pad / 2}" y="{H - 8}">Dark top of a cycles bar: the '
                 f'contestant\'s own cost (busy cycles minus the floor of its shape). '
                 f'Source: bench/e2e/run.sh, one run.</text>')
    parts.append("</svg>")
    open(out, "w").write("\n".join(parts) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    rows = parse(sys.argv[1])
    if not rows:
        sys.exit(f"{sys.argv[1]}: no summary table found")
    svg(rows, sys.argv[2])
