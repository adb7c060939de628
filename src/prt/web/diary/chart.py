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

from prt.web.charts import Frame, Mark, line_chart_svg, long_date
from prt.web.diary import scale

WIDTH, HEIGHT = 360, 200
LEFT, RIGHT, TOP, BOTTOM = 30, 10, 10, 30
FRAME = Frame(WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM)


@dataclass(frozen=True)
class Point:
    day: date
    rating: int


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
    mark = {p.day: Mark(p.day, p.rating, f"{long_date(p.day)}: {p.rating} out of {hi}") for p in points}
    mid = (lo + hi) // 2
    return line_chart_svg(FRAME, list(mark.values()), [[mark[p.day] for p in run] for run in _runs(points)],
                          lo=lo, hi=hi, grid=[(v, str(v)) for v in (lo, mid, hi)],
                          title="Your daily pain ratings", description=description(points), chart_id=chart_id,
                          radius="3")


__all__ = ["Point", "description", "long_date", "pain_chart_svg"]
