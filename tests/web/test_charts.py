"""The shared line chart (prt.web.charts): the faster drawing of the marks gives exactly the markup of
the format_html drawing it replaced, for any marks, lines, titles (escaped) and radius."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils.html import format_html
from hypothesis import given, settings, strategies as st

from prt.web.charts import Frame, Mark, line_chart_svg, short_date

FRAME = Frame(360, 200, 30, 10, 10, 30)


def reference_svg(frame, marks, lines, *, lo, hi, grid, title, description, chart_id, radius) -> str:
    """The drawing before the benchmark (one format_html per circle), kept to compare against."""
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
        for line in lines:
            if len(line) > 1:
                coords = " ".join(f"{frame.x(m.day, first, span)},{frame.y(m.value, lo, hi)}" for m in line)
                parts.append(format_html('<polyline class="line" points="{}"/>', coords))
        for m in marks:
            parts.append(format_html(
                '<circle class="point" cx="{}" cy="{}" r="{}"><title>{}</title></circle>',
                frame.x(m.day, first, span), frame.y(m.value, lo, hi), radius, m.title))
    parts.append("</svg>")
    return "".join(str(part) for part in parts)


titles = st.text(alphabet=st.sampled_from(list("ab 0:<>&\"'é/\u00a0")), max_size=12)


@st.composite
def charts(draw):
    start = date(2025, 1, 1) + timedelta(days=draw(st.integers(0, 400)))
    offsets = sorted(draw(st.sets(st.integers(0, 400), max_size=40)))
    marks = [Mark(start + timedelta(days=d), draw(st.floats(0, 10, allow_nan=False)), draw(titles)) for d in offsets]
    lines = draw(st.lists(st.lists(st.sampled_from(marks), max_size=6), max_size=4)) if marks else []
    return marks, lines


@given(charts(), titles, st.sampled_from(["3", "4", "2.5", '3"']))
@settings(max_examples=150, deadline=None)
def test_the_markup_is_that_of_the_format_html_drawing(chart, label, radius):
    marks, lines = chart
    kwargs = dict(lo=0, hi=10, grid=[(0, "0"), (5, label), (10, "10")], title=label, description=label,
                  chart_id="c", radius=radius)
    assert line_chart_svg(FRAME, marks, lines, **kwargs) == reference_svg(FRAME, marks, lines, **kwargs)


def test_a_year_of_daily_ratings():
    marks = [Mark(date(2025, 3, 1) + timedelta(days=k), k % 11, f"day {k} <{k % 11}>") for k in range(365)]
    kwargs = dict(lo=0, hi=10, grid=[(0, "0"), (5, "5"), (10, "10")], title="t", description="d", chart_id="p",
                  radius="3")
    svg = line_chart_svg(FRAME, marks, [marks], **kwargs)
    assert svg == reference_svg(FRAME, marks, [marks], **kwargs)
    assert svg.count("<circle") == 365 and "&lt;7&gt;" in svg
