"""Inline SVG charts for the HTML and PDF editions: pure functions, text in, text out.

`score_chart`: each task's recorded scores over time (dots) and running best (the step line
the engine reads, as in `mast evidence plot`) against the indicator lines, with the same
colours and dash styles as `mast.evidence.plot`. `findings_timeline`: the period's findings
as bars on a time axis. Written by hand rather than with matplotlib: an edition may carry
dozens of charts, and these cost microseconds each, are byte-for-byte deterministic and need
no optional dependency.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Sequence

from mast.evidence.plot import LEVEL_STYLE
from mast.reports.model import Chart, FindingEntry

PALETTE = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#17becf", "#7f7f7f")
KIND_COLOUR = {"violation": "#c0392b", "overdue": "#e67e22", "due": "#d4a017", "escape": "#8e44ad",
               "warning": "#2980b9"}
_DASH = {"-": "", "--": "6 3", ":": "2 3", "-.": "6 3 2 3"}


def _x(at: datetime, start: datetime, end: datetime, left: float, width: float) -> float:
    span = (end - start).total_seconds() or 1.0
    return left + width * max(0.0, min(1.0, (at - start).total_seconds() / span))


def score_chart(chart: Chart, end: datetime, width: int = 680, height: int = 170) -> str:
    left, right, top, bottom = 40.0, 190.0, 18.0, 22.0
    plot_w, plot_h = width - left - right, height - top - bottom
    times = [p.at for s in chart.series for p in s.points]
    start = min(times)
    values = [p.value for s in chart.series for p in s.points] + [x.value for x in chart.lines]
    low, high = min(0.0, min(values)), max(values) * 1.1 or 1.0

    def y(v: float) -> float:
        return top + plot_h * (1 - (v - low) / ((high - low) or 1.0))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" aria-label="{escape(chart.model)} {escape(chart.threshold)}">',
             f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#ccc"/>',
             f'<text x="{left}" y="12" font-size="11" font-weight="bold">{escape(chart.model)} · '
             f'{escape(chart.threshold)} — {escape(chart.status.replace("_", " "))}</text>']
    for tick in (low, (low + high) / 2, high):
        parts.append(f'<text x="{left - 4}" y="{y(tick) + 3:.1f}" font-size="8" text-anchor="end">{tick:.2f}</text>')
    parts.append(f'<text x="{left}" y="{height - 6}" font-size="8">{start:%Y-%m-%d}</text>')
    parts.append(f'<text x="{left + plot_w}" y="{height - 6}" font-size="8" text-anchor="end">{end:%Y-%m-%d}</text>')
    placed: list[float] = []
    for line in sorted(chart.lines, key=lambda x: -x.value):
        colour, style = LEVEL_STYLE.get(line.level, ("grey", "-."))
        ly = y(line.value)
        label_y = ly
        while any(abs(p - label_y) < 8 for p in placed):
            label_y += 8
        placed.append(label_y)
        dash = f' stroke-dasharray="{_DASH.get(style, "")}"' if _DASH.get(style) else ""
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{ly:.1f}" y2="{ly:.1f}" stroke="{colour}"{dash}/>')
        parts.append(f'<text x="{left + plot_w + 4}" y="{label_y + 3:.1f}" font-size="7" fill="{colour}">'
                     f'{escape(line.level.replace("_", " "))}: {escape(line.task)} {escape(line.op)} {line.value:g}</text>')
    for i, series in enumerate(chart.series):
        colour = PALETTE[i % len(PALETTE)]
        best, path = float("-inf"), []
        for p in series.points:
            px = _x(p.at, start, end, left, plot_w)
            if best != float("-inf"):
                path.append(f"L{px:.1f},{y(best):.1f}")
            best = max(best, p.value)
            path.append(f"{'M' if not path else 'L'}{px:.1f},{y(best):.1f}")
            parts.append(f'<circle cx="{px:.1f}" cy="{y(p.value):.1f}" r="3" fill="{colour}" stroke="white" stroke-width="0.6"/>')
        path.append(f"L{left + plot_w:.1f},{y(best):.1f}")
        parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="1.4"/>')
        parts.append(f'<text x="{left + 6}" y="{top + 10 + 9 * i}" font-size="7" fill="{colour}">'
                     f'{escape(series.task)} · {escape(series.metric)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def findings_timeline(findings: Sequence[FindingEntry], start: datetime, end: datetime, width: int = 680) -> str:
    """One bar per finding from `since` (or the period's start) to `until` (or the end)."""
    rows = list(findings)[:40]
    left, top, row_h = 210.0, 14.0, 11
    plot_w = width - left - 10
    height = int(top + row_h * max(1, len(rows)) + 18)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" aria-label="findings timeline">',
             f'<text x="{left}" y="10" font-size="8">{start:%Y-%m-%d}</text>',
             f'<text x="{left + plot_w}" y="10" font-size="8" text-anchor="end">{end:%Y-%m-%d}</text>']
    for i, f in enumerate(rows):
        y = top + i * row_h
        x0 = _x(max(f.since, start), start, end, left, plot_w)
        x1 = _x(f.until or end, start, end, left, plot_w)
        label = f"{f.kind} {f.commitment}" + (f" · {f.model}" if f.model else "")
        parts.append(f'<text x="{left - 4}" y="{y + 8}" font-size="7" text-anchor="end">{escape(label if len(label) <= 48 else label[:47] + "…")}</text>')
        parts.append(f'<rect x="{x0:.1f}" y="{y + 1}" width="{max(1.5, x1 - x0):.1f}" height="{row_h - 3}" '
                     f'fill="{KIND_COLOUR.get(f.kind, "grey")}"/>')
    if not rows:
        parts.append(f'<text x="{left}" y="{top + 8}" font-size="8">no findings in the period</text>')
    parts.append("</svg>")
    return "".join(parts)
