"""Line charts as inline SVG, drawn on the server: no JavaScript library, nothing fetched.

Every chart the console shows (training metrics, endpoint invocations and latency, tuning
curves) goes through ``line_chart``.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 560, 200
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 56, 12, 12, 28
COLOURS = (
    "#3e5239",
    "#c27c0e",
    "#2f6fa3",
    "#a33",
    "#7a4fa3",
    "#4f8f8f",
    "#8a6d3b",
    "#c2185b",
    "#555",
    "#6a8f2f",
)


def line_chart(
    series: dict[str, Sequence[tuple[float, float]]],
    *,
    x_label: str = "",
    title: str = "",
    width: int = WIDTH,
    height: int = HEIGHT,
    colours: Mapping[str, str] | None = None,
    dashed: Collection[str] = (),
    legend: bool = True,
) -> SafeString:
    """One SVG chart with a line per series of ``(x, y)`` points, axes labelled at min and max.

    ``colours`` picks a series' colour by name (else the palette in order), ``dashed`` names the
    series drawn dashed (validation beside train), and ``legend=False`` leaves the names out of
    the plot for a page that lists them itself (many overlaid series)."""
    points = [(x, y) for values in series.values() for x, y in values if math.isfinite(y)]
    if not points:
        return format_html(
            '<p class="empty">{}</p>', f"No values of {title} yet." if title else "No values yet."
        )
    x_low, x_high = _bounds([x for x, _ in points])
    y_low, y_high = _bounds([y for _, y in points])
    plot_w, plot_h = width - PAD_LEFT - PAD_RIGHT, height - PAD_TOP - PAD_BOTTOM

    def sx(x: float) -> float:
        return PAD_LEFT + (x - x_low) / (x_high - x_low) * plot_w

    def sy(y: float) -> float:
        return PAD_TOP + (1 - (y - y_low) / (y_high - y_low)) * plot_h

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}">',
        f'<rect x="{PAD_LEFT}" y="{PAD_TOP}" width="{plot_w}" height="{plot_h}" fill="#fff" '
        'stroke="#d9dfd6"/>',
        _text(PAD_LEFT - 4, PAD_TOP + 4, _fmt(y_high), anchor="end"),
        _text(PAD_LEFT - 4, PAD_TOP + plot_h, _fmt(y_low), anchor="end"),
        _text(PAD_LEFT, height - 8, _fmt(x_low), anchor="start"),
        _text(width - PAD_RIGHT, height - 8, _fmt(x_high), anchor="end"),
        _text(PAD_LEFT + plot_w / 2, height - 8, x_label, anchor="middle"),
    ]
    for index, (name, values) in enumerate(series.items()):
        colour = (colours or {}).get(name) or COLOURS[index % len(COLOURS)]
        dash = ' stroke-dasharray="5 3"' if name in dashed else ""
        finite = [(x, y) for x, y in values if math.isfinite(y)]
        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in finite)
        if len(finite) == 1:
            x, y = finite[0]
            parts.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{colour}"/>')
        else:
            parts.append(
                f'<polyline fill="none" stroke="{colour}" stroke-width="1.8"{dash} '
                f'points="{coords}"><title>{escape(name)}</title></polyline>'
            )
        if legend:
            parts.append(
                _text(PAD_LEFT + 8, PAD_TOP + 16 + 14 * index, name, anchor="start", fill=colour)
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every interpolated text went through escape()


def _bounds(values: list[float]) -> tuple[float, float]:
    low, high = min(values), max(values)
    if low == high:
        pad = abs(low) * 0.05 or 1.0
        return low - pad, high + pad
    return low, high


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _text(x: float, y: float, text: str, *, anchor: str, fill: str = "#6b7468") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="11" text-anchor="{anchor}" '
        f'fill="{fill}">{escape(text)}</text>'
    )
