"""A participant's scores on one questionnaire over time: an inline SVG drawn at the server.

Accessible as the pain chart is (diary/chart.py; WCAG 2.2, 1.1.1 non-text content): ``role="img"``
with a title and a description stating the range, the latest score and the lowest and highest;
each point has its own ``<title>`` (date, visit and score); the page adds the same data as a table.
The y axis spans the score's declared range from the instrument's definition, so scores are never
drawn on a stretched axis. Points are joined in date order (assessments are weeks apart).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Sequence

from django.utils.html import format_html

from prt.web.diary.chart import long_date, short_date

WIDTH, HEIGHT = 360, 180
LEFT, RIGHT, TOP, BOTTOM = 36, 12, 10, 30


@dataclass(frozen=True)
class Point:
    day: date
    value: float
    label: str  # the visit, e.g. "1-month follow-up"


def number(value: float) -> str:
    """A score as people read it: whole numbers without decimals, others to one decimal."""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def description(points: Sequence[Point], lo: float, hi: float) -> str:
    if not points:
        return f"No scores yet on the {number(lo)} to {number(hi)} range."
    values = [p.value for p in points]
    last = points[-1]
    return (f"{len(points)} score{'s' if len(points) != 1 else ''} from {long_date(points[0].day)} to "
            f"{long_date(last.day)} on the {number(lo)} to {number(hi)} range; latest {number(last.value)} on "
            f"{long_date(last.day)}; lowest {number(min(values))}, highest {number(max(values))}.")


def _x(day: date, first: date, span: int) -> str:
    return f"{LEFT + (WIDTH - LEFT - RIGHT) * ((day - first).days / span if span else 0.5):.1f}"


def _y(value: float, lo: float, hi: float) -> str:
    return f"{TOP + (HEIGHT - TOP - BOTTOM) * (1 - (value - lo) / (hi - lo)):.1f}"


def score_chart_svg(points: Sequence[Point], lo: float, hi: float, title: str, chart_id: str) -> str:
    """SVG markup of ``points`` on the ``lo``..``hi`` axis, every value escaped (format_html)."""
    points = sorted(points, key=lambda p: p.day)
    parts = [format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-title {}-desc" '
        'xmlns="http://www.w3.org/2000/svg" focusable="false">', WIDTH, HEIGHT, chart_id, chart_id),
        format_html('<title id="{}-title">{}</title>', chart_id, title),
        format_html('<desc id="{}-desc">{}</desc>', chart_id, description(points, lo, hi))]
    for value in (lo, (lo + hi) / 2, hi):
        y = _y(value, lo, hi)
        parts.append(format_html(
            '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
            '<text class="axis" x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{}</text>',
            LEFT, WIDTH - RIGHT, y, y, LEFT - 6, y, number(value)))
    if points:
        first, last = points[0].day, points[-1].day
        span = (last - first).days
        baseline = HEIGHT - BOTTOM + 18
        ticks = [first] if span == 0 else [first, last]
        for day, anchor in zip(ticks, ("start", "end") if span else ("middle",)):
            parts.append(format_html('<text class="axis" x="{}" y="{}" text-anchor="{}">{}</text>',
                                     _x(day, first, span), baseline, anchor, short_date(day)))
        if len(points) > 1:
            coords = " ".join(f"{_x(p.day, first, span)},{_y(p.value, lo, hi)}" for p in points)
            parts.append(format_html('<polyline class="line" points="{}"/>', coords))
        for p in points:
            parts.append(format_html(
                '<circle class="point" cx="{}" cy="{}" r="3.5"><title>{} ({}): {}</title></circle>',
                _x(p.day, first, span), _y(p.value, lo, hi), long_date(p.day), p.label, number(p.value)))
    parts.append("</svg>")
    return "".join(str(part) for part in parts)
