"""The participant's pain chart: an inline SVG drawn at the server (no script, strict CSP allowed).

Accessible by construction (WCAG 2.2, 1.1.1 non-text content): the SVG is ``role="img"`` with a
title and a description that states the range, the latest rating and the lowest and highest;
every point carries its own ``<title>`` (date and value); the page adds the same data as a table.
Days without a rating break the line, so a gap is never drawn as data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Sequence

from django.utils.html import format_html

from prt.web.diary import scale

WIDTH, HEIGHT = 360, 200
LEFT, RIGHT, TOP, BOTTOM = 30, 10, 10, 30


@dataclass(frozen=True)
class Point:
    day: date
    rating: int


def long_date(day: date) -> str:
    """"3 June 2025" (no leading zero, locale-independent)."""
    return f"{day.day} {day:%B %Y}"


def short_date(day: date) -> str:
    return f"{day.day} {day:%b}"


def _x(day: date, first: date, span: int) -> str:
    """The x coordinate of ``day`` (first day at the left edge, last at the right; one day: centred)."""
    return f"{LEFT + (WIDTH - LEFT - RIGHT) * ((day - first).days / span if span else 0.5):.1f}"


def _y(value: float, lo: int, hi: int) -> str:
    """The y coordinate of a rating (``hi`` at the top of the plot, ``lo`` at its bottom)."""
    return f"{TOP + (HEIGHT - TOP - BOTTOM) * (1 - (value - lo) / (hi - lo)):.1f}"


def _runs(points: Sequence[Point]) -> list[list[Point]]:
    """Consecutive-day runs (a missing day starts a new line)."""
    runs: list[list[Point]] = []
    for point in points:
        if runs and (point.day - runs[-1][-1].day).days == 1:
            runs[-1].append(point)
        else:
            runs.append([point])
    return runs


def description(points: Sequence[Point]) -> str:
    """One sentence a screen reader reads for the whole chart."""
    lo, hi = scale.bounds()
    if not points:
        return f"No ratings yet on the {lo} to {hi} scale."
    ratings = [p.rating for p in points]
    last = points[-1]
    return (f"{len(points)} rating{'s' if len(points) != 1 else ''} from {long_date(points[0].day)} to "
            f"{long_date(last.day)} on the {lo} to {hi} scale; latest {last.rating} on {long_date(last.day)}; "
            f"lowest {min(ratings)}, highest {max(ratings)}.")


def pain_chart_svg(points: Sequence[Point], chart_id: str = "pain-chart") -> str:
    """The SVG markup of ``points`` (sorted by day, one per day), safe to insert in a page."""
    points = sorted(points, key=lambda p: p.day)
    lo, hi = scale.bounds()
    parts = [format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-title {}-desc" '
        'xmlns="http://www.w3.org/2000/svg" focusable="false">', WIDTH, HEIGHT, chart_id, chart_id),
        format_html('<title id="{}-title">Your daily pain ratings</title>', chart_id),
        format_html('<desc id="{}-desc">{}</desc>', chart_id, description(points))]
    mid = (lo + hi) // 2
    for value in (lo, mid, hi):
        y = _y(value, lo, hi)
        parts.append(format_html(
            '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
            '<text class="axis" x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{}</text>',
            LEFT, WIDTH - RIGHT, y, y, LEFT - 6, y, value))
    if points:
        first, last = points[0].day, points[-1].day
        span = (last - first).days
        baseline = HEIGHT - BOTTOM + 18
        ticks = [first] if span == 0 else [first, last]
        for day, anchor in zip(ticks, ("start", "end") if span else ("middle",)):
            parts.append(format_html('<text class="axis" x="{}" y="{}" text-anchor="{}">{}</text>',
                                     _x(day, first, span), baseline, anchor, short_date(day)))
        for run in _runs(points):
            if len(run) > 1:
                coords = " ".join(f"{_x(p.day, first, span)},{_y(p.rating, lo, hi)}" for p in run)
                parts.append(format_html('<polyline class="line" points="{}"/>', coords))
        for p in points:
            parts.append(format_html(
                '<circle class="point" cx="{}" cy="{}" r="3"><title>{}: {} out of {}</title></circle>',
                _x(p.day, first, span), _y(p.rating, lo, hi), long_date(p.day), p.rating, hi))
    parts.append("</svg>")
    return "".join(str(part) for part in parts)


__all__ = ["Point", "description", "long_date", "pain_chart_svg"]
