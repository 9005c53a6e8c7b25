"""Inline SVG charts built in Python for server-rendered pages: no script, no build step.

Every label is escaped; numbers are laid out on a plain linear scale from zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

Series = tuple[str, Sequence[float | None], str]  # name, values, colour

_W, _H, _LEFT, _BOTTOM, _TOP = 760, 220, 56, 28, 12


def _scale(series: Sequence[Series]) -> float:
    top = max((v for _, values, _ in series for v in values if v is not None), default=0.0)
    return top if top > 0 else 1.0


def _frame(labels: Sequence[str], top: float, fmt: Callable[[float], str], title: str) -> list[str]:
    plot_h = _H - _BOTTOM - _TOP
    parts = [
        f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(5):
        y = _TOP + plot_h * i / 4
        value = top * (4 - i) / 4
        parts.append(
            f'<line x1="{_LEFT}" x2="{_W}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e4e4"/>'
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(fmt(value))}</text>'
        )
    step = max(1, math.ceil(len(labels) / 12))  # at most 12 labels: no overlap
    width = (_W - _LEFT) / max(len(labels), 1)
    for i, label in enumerate(labels):
        if i % step == 0:
            x = _LEFT + width * (i + 0.5)
            parts.append(
                f'<text x="{x:.1f}" y="{_H - 8}" text-anchor="middle">{escape(label)}</text>'
            )
    return parts


def bar_chart(
    title: str, labels: Sequence[str], series: Sequence[Series], fmt: Callable[[float], str] = str
) -> str:
    """Grouped bars: one group per label, one bar per series."""
    top = _scale(series)
    parts = _frame(labels, top, fmt, title)
    plot_h = _H - _BOTTOM - _TOP
    group = (_W - _LEFT) / max(len(labels), 1)
    bar = group * 0.8 / max(len(series), 1)
    for s, (name, values, colour) in enumerate(series):
        for i, value in enumerate(values):
            if not value:
                continue
            h = plot_h * value / top
            x = _LEFT + group * i + group * 0.1 + bar * s
            parts.append(
                f'<rect x="{x:.1f}" y="{_TOP + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}"'
                f' fill="{colour}"><title>{escape(labels[i])} {escape(name)}: '
                f"{escape(fmt(value))}</title></rect>"
            )
    parts.append("</svg>")
    return "".join(parts)


def line_chart(
    title: str, labels: Sequence[str], series: Sequence[Series], fmt: Callable[[float], str] = str
) -> str:
    """One polyline per series; a missing value breaks the line."""
    top = _scale(series)
    parts = _frame(labels, top, fmt, title)
    plot_h = _H - _BOTTOM - _TOP
    width = (_W - _LEFT) / max(len(labels), 1)
    for name, values, colour in series:
        runs: list[list[str]] = [[]]
        for i, value in enumerate(values):
            if value is None:
                runs.append([])
                continue
            x, y = _LEFT + width * (i + 0.5), _TOP + plot_h - plot_h * value / top
            runs[-1].append(f"{x:.1f},{y:.1f}")
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"><title>'
                f"{escape(labels[i])} {escape(name)}: {escape(fmt(value))}</title></circle>"
            )
        for run in runs:
            if len(run) > 1:
                parts.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}"'
                    ' stroke-width="2"/>'
                )
    parts.append("</svg>")
    return "".join(parts)


def heat_map(title: str, rows: Sequence[str], counts: Sequence[Sequence[int]]) -> str:
    """Rows (weekdays) by 24 hour columns, darker for more."""
    cell, left, top_pad = 26, 40, 18
    top = max((n for row in counts for n in row), default=0) or 1
    width, height = left + 24 * cell, top_pad + len(rows) * cell
    parts = [
        f'<svg class="heat" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for hour in range(0, 24, 3):
        parts.append(
            f'<text x="{left + hour * cell + cell / 2}" y="12" text-anchor="middle">{hour}</text>'
        )
    for r, (name, row) in enumerate(zip(rows, counts, strict=True)):
        y = top_pad + r * cell
        parts.append(
            f'<text x="{left - 6}" y="{y + cell * 0.65}" text-anchor="end">{escape(name)}</text>'
        )
        for hour, n in enumerate(row):
            shade = 0.08 + 0.92 * n / top if n else 0.0
            parts.append(
                f'<rect x="{left + hour * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}"'
                f' fill="rgba(37,99,235,{shade:.2f})" stroke="#eee"><title>{escape(name)} '
                f"{hour:02d}:00 {n}</title></rect>"
            )
    parts.append("</svg>")
    return "".join(parts)
