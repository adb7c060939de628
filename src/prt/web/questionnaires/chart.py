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

from prt.web.charts import Frame, Mark, line_chart_svg, long_date

WIDTH, HEIGHT = 360, 180
LEFT, RIGHT, TOP, BOTTOM = 36, 12, 10, 30
FRAME = Frame(WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM)


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


def score_chart_svg(points: Sequence[Point], lo: float, hi: float, title: str, chart_id: str) -> str:
    """SVG markup of ``points`` on the ``lo``..``hi`` axis, every value escaped (format_html)."""
    points = sorted(points, key=lambda p: p.day)
    marks = [Mark(p.day, p.value, f"{long_date(p.day)} ({p.label}): {number(p.value)}") for p in points]
    return line_chart_svg(FRAME, marks, [marks], lo=lo, hi=hi,
                          grid=[(v, number(v)) for v in (lo, (lo + hi) / 2, hi)], title=title,
                          description=description(points, lo, hi), chart_id=chart_id, radius="3.5")
