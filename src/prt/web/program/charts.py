"""The program's progress charts: inline SVG drawn at the server (the platform's charts.py).

Like the pain chart (diary/chart.py), each is ``role="img"`` with a title and a one-sentence
description a screen reader reads, each point has its own ``<title>``, the page adds the same
data as a table, and every value is escaped (format_html); no script, so the CSP holds.

- practice minutes per day (days without practice break the line);
- pain before and after each somatic-tracking practice (a dumbbell per practice: hollow before,
  filled after, joined), in the order practised;
- the fear felt at each exposure attempt.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date
from typing import Iterable, Sequence

from django.utils.html import format_html

from prt.web.charts import Frame, Mark, line_chart_svg, long_date, short_date

FRAME = Frame(360, 200, 34, 10, 10, 30)


def minutes_by_day(rows: Iterable) -> list[tuple[date, int]]:
    """(day, minutes practised) for each day with practice, oldest first."""
    out: OrderedDict[date, int] = OrderedDict()
    for row in sorted(rows, key=lambda r: r.day):
        out[row.day] = out.get(row.day, 0) + row.minutes
    return list(out.items())


def _runs(days: Sequence[date]) -> list[list[int]]:
    runs: list[list[int]] = []
    for i, day in enumerate(days):
        if runs and (day - days[runs[-1][-1]]).days == 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def minutes_chart_svg(points: Sequence[tuple[date, int]], chart_id: str = "minutes-chart") -> str:
    hi = max([30] + [m for _, m in points])
    hi = -(-hi // 10) * 10
    marks = [Mark(d, m, f"{long_date(d)}: {m} minutes") for d, m in points]
    if points:
        total = sum(m for _, m in points)
        desc = (f"{len(points)} day{'s' if len(points) != 1 else ''} with home practice from "
                f"{long_date(points[0][0])} to {long_date(points[-1][0])}, {total} minutes in all; "
                f"most in a day {max(m for _, m in points)}.")
    else:
        desc = "No home practice logged yet."
    return line_chart_svg(FRAME, marks, [[marks[i] for i in run] for run in _runs([d for d, _ in points])],
                          lo=0, hi=hi, grid=[(0, "0"), (hi / 2, f"{hi / 2:g}"), (hi, str(hi))],
                          title="Minutes of home practice per day", description=desc, chart_id=chart_id,
                          radius="3")


def fear_chart_svg(attempts: Sequence, chart_id: str = "fear-chart") -> str:
    """Actual fear (0-10) at each exposure attempt, oldest first."""
    attempts = sorted(attempts, key=lambda a: a.day)
    marks = [Mark(a.day, a.actual_fear, f"{long_date(a.day)}: fear {a.actual_fear} (expected {a.expected_fear})")
             for a in attempts]
    fears = [a.actual_fear for a in attempts]
    desc = (f"{len(attempts)} attempt{'s' if len(attempts) != 1 else ''} from {long_date(attempts[0].day)} to "
            f"{long_date(attempts[-1].day)} on the 0 to 10 scale; latest fear {fears[-1]}; lowest {min(fears)}, "
            f"highest {max(fears)}." if attempts else "No exposure attempts yet.")
    return line_chart_svg(FRAME, marks, [marks], lo=0, hi=10, grid=[(0, "0"), (5, "5"), (10, "10")],
                          title="Fear felt during each exposure attempt", description=desc, chart_id=chart_id,
                          radius="3")


def tracking_chart_svg(rows: Sequence, chart_id: str = "tracking-chart") -> str:
    """Pain before (hollow) and after (filled) each rated somatic-tracking practice, in order."""
    rated = [r for r in sorted(rows, key=lambda r: (r.day, r.created_at)) if r.pain_before is not None
             and r.pain_after is not None]
    f = FRAME
    width = f.width - f.left - f.right
    parts = [format_html('<svg class="chart tracking" viewBox="0 0 {} {}" role="img" '
                         'aria-labelledby="{}-title {}-desc" xmlns="http://www.w3.org/2000/svg" focusable="false">',
                         f.width, f.height, chart_id, chart_id),
             format_html('<title id="{}-title">{}</title>', chart_id, "Pain before and after each tracking practice")]
    if rated:
        eased = sum(1 for r in rated if r.pain_after < r.pain_before)
        desc = (f"{len(rated)} rated practice{'s' if len(rated) != 1 else ''} from {long_date(rated[0].day)} to "
                f"{long_date(rated[-1].day)}; the pain eased during {eased} of them; latest "
                f"{rated[-1].pain_before} before and {rated[-1].pain_after} after.")
    else:
        desc = "No rated tracking practice yet."
    parts.append(format_html('<desc id="{}-desc">{}</desc>', chart_id, desc))
    for value in (0, 5, 10):
        y = f.y(value, 0, 10)
        parts.append(format_html('<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                                 '<text class="axis" x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{}'
                                 '</text>', f.left, f.width - f.right, y, y, f.left - 6, y, value))
    n = len(rated)
    for i, r in enumerate(rated):
        x = f"{f.left + (width * (i + 0.5) / n):.1f}"
        y0, y1 = f.y(r.pain_before, 0, 10), f.y(r.pain_after, 0, 10)
        label = f"{long_date(r.day)}: pain {r.pain_before} before, {r.pain_after} after"
        parts.append(format_html(
            '<g><title>{}</title><line class="change" x1="{}" x2="{}" y1="{}" y2="{}"/>'
            '<circle class="before" cx="{}" cy="{}" r="4"/><circle class="after" cx="{}" cy="{}" r="4"/></g>',
            label, x, x, y0, y1, x, y0, x, y1))
    if rated:
        baseline = f.height - f.bottom + 18
        parts.append(format_html('<text class="axis" x="{}" y="{}" text-anchor="start">{}</text>', f.left, baseline,
                                 short_date(rated[0].day)))
        if n > 1:
            parts.append(format_html('<text class="axis" x="{}" y="{}" text-anchor="end">{}</text>',
                                     f.width - f.right, baseline, short_date(rated[-1].day)))
    parts.append("</svg>")
    return "".join(str(p) for p in parts)
