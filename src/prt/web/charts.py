"""Line charts of one participant's values over time: inline SVG drawn at the server.

The pain chart (diary) and the questionnaire score charts share this one drawing. Accessible by
construction (WCAG 2.2, 1.1.1 non-text content): the SVG is ``role="img"`` with a title and a
description; every point carries its own ``<title>``; pages add the same data as a table. No
script, so the strict Content Security Policy holds. Every value is escaped (format_html).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Sequence

from django.utils.html import conditional_escape, format_html


def long_date(day: date) -> str:
    """"3 June 2025" (no leading zero, locale-independent)."""
    return f"{day.day} {day:%B %Y}"


def short_date(day: date) -> str:
    return f"{day.day} {day:%b}"


@dataclass(frozen=True)
class Frame:
    """The chart's size and the plot's margins (SVG user units)."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int

    def x(self, day: date, first: date, span: int) -> str:
        """The x of ``day`` (first day at the left edge, last at the right; one day: centred)."""
        return f"{self.left + (self.width - self.left - self.right) * ((day - first).days / span if span else 0.5):.1f}"

    def y(self, value: float, lo: float, hi: float) -> str:
        """The y of ``value`` (``hi`` at the top of the plot, ``lo`` at its bottom)."""
        return f"{self.top + (self.height - self.top - self.bottom) * (1 - (value - lo) / (hi - lo)):.1f}"


@dataclass(frozen=True)
class Mark:
    """One drawn point: its day, value and the text a screen reader gives for it."""

    day: date
    value: float
    title: str


def line_chart_svg(frame: Frame, marks: Sequence[Mark], lines: Sequence[Sequence[Mark]], *, lo: float,
                   hi: float, grid: Sequence[tuple[float, str]], title: str, description: str,
                   chart_id: str, radius: str) -> str:
    """SVG markup: gridlines at ``grid`` (value, label), first/last dates, each line of 2+ marks
    joined, every mark a circle with its title. ``marks`` are sorted by day."""
    parts = [format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-title {}-desc" '
        'xmlns="http://www.w3.org/2000/svg" focusable="false">', frame.width, frame.height, chart_id, chart_id),
        format_html('<title id="{}-title">{}</title>', chart_id, title),
        format_html('<desc id="{}-desc">{}</desc>', chart_id, description)]
    for value, label in grid:
        y = frame.y(value, lo, hi)
        parts.append(format_html(
            '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
            '<text class="axis" x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{}</text>',
            frame.left, frame.width - frame.right, y, y, frame.left - 6, y, label))
    if marks:
        first, last = marks[0].day, marks[-1].day
        span = (last - first).days
        baseline = frame.height - frame.bottom + 18
        ticks = [first] if span == 0 else [first, last]
        for day, anchor in zip(ticks, ("start", "end") if span else ("middle",)):
            parts.append(format_html('<text class="axis" x="{}" y="{}" text-anchor="{}">{}</text>',
                                     frame.x(day, first, span), baseline, anchor, short_date(day)))
        # Each mark's coordinates computed once and its circle built as a plain string: a year of daily
        # ratings is 365 marks, and format_html per circle was most of the chart's time. Coordinates
        # are formatted numbers; titles and the radius are escaped as format_html escapes them, so
        # the markup is the same (tests/web/diary/test_chart.py compares it with format_html's).
        at: dict[Mark, tuple[str, str]] = {}

        def xy(m: Mark) -> tuple[str, str]:
            if m not in at:
                at[m] = (frame.x(m.day, first, span), frame.y(m.value, lo, hi))
            return at[m]

        for line in lines:
            if len(line) > 1:
                coords = " ".join("{},{}".format(*xy(m)) for m in line)
                parts.append(format_html('<polyline class="line" points="{}"/>', coords))
        r = conditional_escape(radius)
        for m in marks:
            x, y = xy(m)
            parts.append(f'<circle class="point" cx="{x}" cy="{y}" r="{r}"><title>{conditional_escape(m.title)}'
                         f'</title></circle>')
    parts.append("</svg>")
    return "".join(str(part) for part in parts)
