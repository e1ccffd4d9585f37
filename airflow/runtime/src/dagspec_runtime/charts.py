"""Hand-built SVG charts for the report: no plotting library, no fonts or network, same bytes every time.

Coordinates are rounded to one decimal so the output depends only on the data. Missing days break
the line instead of being drawn as zero.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

__all__ = ["bar_chart", "sparkline"]

_INK = "#24292f"
_MUTED = "#8c959f"
_ACCENT = "#0969da"
_FONT = "font-family:Helvetica,Arial,sans-serif"


def _scale(
    values: Sequence[float | None], lo_px: float, hi_px: float, *, zero: bool
) -> Callable[[float], float]:
    present = [v for v in values if v is not None]
    lo = min(present, default=0.0)
    hi = max(present, default=0.0)
    if zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi == lo:  # a flat series sits in the middle
        return lambda v: round((lo_px + hi_px) / 2, 1)
    return lambda v: round(hi_px - (v - lo) / (hi - lo) * (hi_px - lo_px), 1)


def sparkline(values: Sequence[float | None], *, width: int = 140, height: int = 32, label: str = "") -> str:
    """A line over the series, the last point marked; ``label`` becomes the accessible title."""
    n = len(values)
    pad = 3.0
    y = _scale(values, pad, height - pad, zero=False)

    def x(i: int) -> float:
        return round(pad + (i * (width - 2 * pad) / (n - 1) if n > 1 else (width - 2 * pad) / 2), 1)

    runs: list[list[str]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append(f"{x(i)},{y(v)}")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">'
    ]
    if label:
        parts.append(f"<title>{escape(label)}</title>")
    for run in runs:
        if len(run) > 1:
            parts.append(
                f'<polyline fill="none" stroke="{_ACCENT}" stroke-width="1.5" points="{" ".join(run)}"/>'
            )
        elif len(run) == 1:
            cx, cy = run[0].split(",")
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="1.5" fill="{_ACCENT}"/>')
    if n and values[-1] is not None:
        parts.append(f'<circle cx="{x(n - 1)}" cy="{y(values[-1])}" r="2.5" fill="{_INK}"/>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    fmt: Callable[[float | None], str],
    title: str,
    width: int = 560,
    height: int = 180,
) -> str:
    """Daily bars with the last (report) day highlighted, min/max gridlines and first/last day labels."""
    n = len(values)
    left, right, top, bottom = 8.0, 8.0, 22.0, 20.0
    plot_w = width - left - right
    y = _scale(values, top, height - bottom, zero=True)
    base = y(0.0)
    slot = plot_w / max(n, 1)
    bar_w = round(slot * 0.7, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="14" style="{_FONT};font-size:12px" fill="{_INK}">{escape(title)}</text>',
        f'<line x1="{left}" y1="{base}" x2="{width - right}" y2="{base}" '
        f'stroke="{_MUTED}" stroke-width="1"/>',
    ]
    present = [v for v in values if v is not None]
    if present:
        top_v = max(present)
        parts.append(
            f'<text x="{width - right}" y="14" text-anchor="end" style="{_FONT};font-size:11px" '
            f'fill="{_MUTED}">max {escape(fmt(top_v))}</text>'
        )
    for i, v in enumerate(values):
        if v is None:
            continue
        x0 = round(left + i * slot + (slot - bar_w) / 2, 1)
        yv = y(v)
        y0, h = (yv, round(base - yv, 1)) if yv <= base else (base, round(yv - base, 1))
        color = _INK if i == n - 1 else _ACCENT
        parts.append(
            f'<rect x="{x0}" y="{y0}" width="{bar_w}" height="{max(h, 0.5)}" fill="{color}">'
            f"<title>{escape(labels[i])}: {escape(fmt(v))}</title></rect>"
        )
    if labels:
        parts.append(
            f'<text x="{left}" y="{height - 5}" style="{_FONT};font-size:11px" fill="{_MUTED}">'
            f"{escape(labels[0])}</text>"
        )
        parts.append(
            f'<text x="{width - right}" y="{height - 5}" text-anchor="end" style="{_FONT};font-size:11px" '
            f'fill="{_MUTED}">{escape(labels[-1])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
